"""Default deadlines per severity and industry (configurable), used when an officer assigns
without naming a date and by the app to show a suggested deadline offline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

DEFAULT_DAYS: dict[str, dict[str, int]] = {
    # General hazards: "立即整改" in law, in practice days; majors follow the 治理方案.
    "general": {
        "mine": 7,
        "chemical": 7,
        "high_rise": 15,
        "crowded_venue": 7,
        "town_gas": 7,
        "ebike": 7,
    },
    "major": {
        "mine": 30,
        "chemical": 30,
        "high_rise": 60,
        "crowded_venue": 30,
        "town_gas": 30,
        "ebike": 30,
    },
}


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long each link of the chain may take."""

    days: dict[str, dict[str, int]] = field(default_factory=lambda: DEFAULT_DAYS)
    fallback_days: int = 7
    assign_days: int = 1  # an officer should assign a reported hazard within this
    review_days: int = 3  # and review submitted evidence within this

    def rectification_days(self, severity: str, industry: str | None) -> int:
        return self.days.get(severity, {}).get(industry or "", self.fallback_days)

    def rectification_deadline(
        self, severity: str, industry: str | None, now: datetime
    ) -> datetime:
        return now + timedelta(days=self.rectification_days(severity, industry))

    @classmethod
    def with_overrides(cls, overrides: dict[str, dict[str, int]] | None) -> DeadlinePolicy:
        """Merge per-deployment overrides (from settings) over the defaults."""
        merged = {sev: dict(per) for sev, per in DEFAULT_DAYS.items()}
        for sev, per in (overrides or {}).items():
            merged.setdefault(sev, {}).update(per)
        return cls(days=merged)


DEFAULT_POLICY = DeadlinePolicy()
