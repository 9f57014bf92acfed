"""Default deadlines per severity and industry (configurable), used when an officer assigns
without naming a date and by the app to show a suggested deadline offline."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.clock import local_date

DEFAULT_DAYS: dict[str, dict[str, int]] = {
    # General hazards: "立即整改" in law, in practice days; majors follow the 治理方案.
    "general": {
        "mine": 7,
        "chemical": 7,
        "high_rise": 15,
        "crowded_venue": 7,
        "town_gas": 7,
        "ebike": 7,
        "transport": 7,
        "construction": 3,
        "industry_trade": 7,
    },
    "major": {
        "mine": 30,
        "chemical": 30,
        "high_rise": 60,
        "crowded_venue": 30,
        "town_gas": 30,
        "ebike": 30,
        "transport": 30,
        "construction": 30,
        "industry_trade": 30,
    },
}


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long each link of the chain may take."""

    days: dict[str, dict[str, int]] = field(default_factory=lambda: DEFAULT_DAYS)
    fallback_days: int = 7
    assign_days: int = 1  # an officer should assign a reported hazard within this
    review_days: int = 3  # and review submitted evidence within this
    # the share of self-closed hazards (自查自改) drawn for an officer's 抽查
    spot_check_share: float = 0.2
    # 职责分离: the officer who did 复查 of a major hazard may not also 销号 it
    # (HAZARDCHAIN_SEPARATE_VERIFY_CLOSE)
    separate_verify_close: bool = True

    def rectification_days(self, severity: str, industry: str | None) -> int:
        return self.days.get(severity, {}).get(industry or "", self.fallback_days)

    def rectification_deadline(
        self, severity: str, industry: str | None, now: datetime
    ) -> datetime:
        return now + timedelta(days=self.rectification_days(severity, industry))

    @classmethod
    def with_overrides(
        cls,
        overrides: dict[str, dict[str, int]] | None,
        *,
        spot_check_share: float = 0.2,
        separate_verify_close: bool = True,
        assign_days: int = 1,
    ) -> DeadlinePolicy:
        """Merge per-deployment overrides (from settings) over the defaults."""
        merged = {sev: dict(per) for sev, per in DEFAULT_DAYS.items()}
        for sev, per in (overrides or {}).items():
            merged.setdefault(sev, {}).update(per)
        return cls(
            days=merged,
            spot_check_share=spot_check_share,
            separate_verify_close=separate_verify_close,
            assign_days=assign_days,
        )

    def spot_check_drawn(self, hazard_id: str) -> bool:
        """Is this self-closed hazard one officers must 抽查? Drawn from the hazard id, not at
        random, so the same hazard is always drawn (reproducible, and a retry agrees)."""
        digest = hashlib.sha256(hazard_id.encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.spot_check_share

    def assign_late_since(self, now: datetime) -> datetime:
        """A hazard reported before this and still unassigned is overdue for the officer: the
        officer's own step deadline, flagged like the enterprise's."""
        return now - timedelta(days=self.assign_days)


DEFAULT_POLICY = DeadlinePolicy()


def overdue_days(deadline: datetime | None, now: datetime, tz: str | None = None) -> int | None:
    """Days past a deadline as a person counts them, the one rounding every screen, export and
    notice uses: calendar days in the deployment's zone, the deadline's own day not counted,
    at least one once it has passed (逾期1天 an hour after, never 逾期0天 or 逾期0.04天); None
    while the deadline has not passed."""
    if deadline is None or deadline >= now:
        return None
    return max(1, (local_date(now, tz) - local_date(deadline, tz)).days)


# --------------------------------------------------------------------------------------------
# A checklist item's own time limit (docs/checklist-format.md, "Deadlines and stop-work")
# --------------------------------------------------------------------------------------------

# A major hazard is put right under a 治理方案 (五落实), which takes a planning period; until then
# the item's immediate measures keep people safe. 0 days would make it overdue at creation and
# escalate it at once, so 0 is kept for conditions that stop the work until they end.
MAJOR_PLAN_DAYS = (30, 90)

STOP_WORK_NOTE = (
    "立即停止相关作业（或停用相关场所、设备），经整改复查合格后方可恢复",
    "Stop the work concerned (or the premises or equipment concerned) at once; resume only "
    "after the rectification is verified",
)


def item_deadline_problems(
    severity: str, deadline_days: int, *, stop_work: bool, has_measures: bool
) -> list[str]:
    """Why an item's default time limit breaks the rule, in English with the Chinese after.

    The rule: ``0`` days only when a failure stops the work (``stop_work``); a major that does
    not stop the work gets a plan period of MAJOR_PLAN_DAYS and immediate measures to take
    meanwhile (a stop-work major's immediate measure is the stop itself).
    """
    problems: list[str] = []
    if deadline_days == 0 and not stop_work:
        problems.append(
            "deadline_days 0 is for stop_work items only; give the days to put it right"
            "（0 天仅用于须停止作业的检查项）"
        )
    if severity == "major" and not stop_work:
        low, high = MAJOR_PLAN_DAYS
        if not low <= deadline_days <= high:
            problems.append(
                f"a major item that does not stop the work needs a plan period of {low}–{high} "
                f"days, not {deadline_days}（不停止作业的重大隐患须给予 {low}–{high} 天治理期限）"
            )
        if not has_measures:
            problems.append(
                "a major item that does not stop the work needs measures (what to do at once "
                "until it is put right)（须写明整改期间的立即措施 measures）"
            )
    return problems
