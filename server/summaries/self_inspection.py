"""自查成效: does each enterprise really inspect itself? Per site, over the last
``WINDOW_DAYS`` whole local days: its self-inspection completion (the patrols and checks its
site type owes, ``shared.site_checklists.SELF_CHECKS``, against those it did), the hazards it
found itself against those the regulator found, whether it never self-reports, and the flag for
a site whose regulator keeps finding what it never reports (``shared.self_inspection.flagged``).

Everything counted is counted by the database (grouped aggregates over hazards and inspections);
Python only walks the grouped rows, one per site or per site and checklist.

Completion counts distinct slots, not submissions: ten patrols in one two-hour slot cover that
slot once. Slots are read in the zone's offset at the window's end (the deployment zones have
no daylight saving; where they had, a slot at the switch could shift by an hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, case, cast, distinct, extract, func
from sqlmodel import Session, col, select

from server.checklists.models import ChecklistTemplate
from server.hazards.models import Hazard
from server.inspections.models import Inspection
from server.jobs.days import day_start
from server.sites.models import Site
from shared.chain import REGULATOR_FOUND, State
from shared.self_inspection import WINDOW_DAYS, due_in, flagged
from shared.site_checklists import SELF_CHECKS, self_checks_for

SITES_SHOWN = 50
COUNTS = (
    "sites",
    "due",
    "done",
    "self_found",
    "regulator_found",
    "self_closed",
    "spot_drawn",
    "reopened",
    "silent_sites",
    "flagged_sites",
)


@dataclass
class SiteFigures:
    """One site's window: what it owed and did, and who found its hazards."""

    site_id: str
    name: str
    district_id: str
    due: int = 0
    done: int = 0
    self_found: int = 0
    regulator_found: int = 0
    self_closed: int = 0
    spot_drawn: int = 0
    reopened: int = 0

    @property
    def self_inspecting(self) -> bool:
        return self.due > 0

    @property
    def silent(self) -> bool:
        """Owes self-inspections and reported nothing it found itself (从未自报)."""
        return self.self_inspecting and self.self_found == 0

    @property
    def flagged(self) -> bool:
        return self.self_inspecting and flagged(self.self_found, self.regulator_found)

    def row(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "site_name": self.name,
            "district_id": self.district_id,
            "due": self.due,
            "done": self.done,
            "rate": _rate(self.done, self.due),
            "self_found": self.self_found,
            "regulator_found": self.regulator_found,
            "self_closed": self.self_closed,
            "silent": self.silent,
            "flagged": self.flagged,
        }


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def window(day: date, tz: str, cut: datetime) -> tuple[list[date], datetime, datetime]:
    """The window's whole local days, ending with ``day`` when it is over by ``cut`` (today's
    live figures stop at yesterday: today's patrols are not all due yet)."""
    last = day if day_start(day + timedelta(days=1), tz) <= cut else day - timedelta(days=1)
    days = [last - timedelta(days=WINDOW_DAYS - 1 - i) for i in range(WINDOW_DAYS)]
    return days, day_start(days[0], tz), day_start(last + timedelta(days=1), tz)


def _epoch(session: Session, column) -> Any:
    """Seconds since 1970 of a stored UTC time, as an integer, on either database."""
    if session.connection().dialect.name == "postgresql":
        return cast(extract("epoch", column), BigInteger)
    return cast(func.strftime("%s", column), Integer)


def _seconds(hhmm: str) -> int:
    hh, mm = hhmm.split(":")
    return int(hh) * 3600 + int(mm) * 60


def site_figures(
    session: Session, day: date, tz: str, cut: datetime, hours: tuple[str, str]
) -> tuple[dict[str, SiteFigures], datetime, datetime]:
    """Every active site's figures for the window ending with ``day``."""
    days, start, end = window(day, tz, cut)
    sites: dict[str, SiteFigures] = {}
    types: dict[str, tuple[str, datetime]] = {}
    for sid, name, district, site_type, created in session.exec(
        select(Site.id, Site.name, Site.district_id, Site.site_type, Site.created_at)
        .where(Site.active.is_(True))
        .where(col(Site.created_at) < end)
    ).all():
        sites[sid] = SiteFigures(sid, name, district)
        types[sid] = (site_type, created)

    # who found the window's hazards (false reports aside), up to the cut: one row per site
    regulator = col(Hazard.origin) == REGULATOR_FOUND
    for sid, own, theirs, closed, drawn, reopened in session.exec(
        select(
            Hazard.site_id,
            func.sum(case((~regulator, 1), else_=0)),
            func.sum(case((regulator, 1), else_=0)),
            func.sum(case((col(Hazard.self_closed).is_(True), 1), else_=0)),
            func.sum(case((Hazard.spot_check == "drawn", 1), else_=0)),
            func.sum(case((Hazard.spot_check == "reopened", 1), else_=0)),
        )
        .where(col(Hazard.reported_at) >= start)
        .where(col(Hazard.reported_at) < cut)  # today's so far too, in the live figures
        .where(Hazard.state != State.cancelled.value)
        .group_by(Hazard.site_id)
    ).all():
        if sid in sites:
            s = sites[sid]
            s.self_found, s.regulator_found = int(own or 0), int(theirs or 0)
            s.self_closed, s.spot_drawn, s.reopened = (
                int(closed or 0),
                int(drawn or 0),
                int(reopened or 0),
            )

    # what each site owed: its self-checks over the window's days since it was registered (the
    # duty is the law's, from the site's first day; the missed-patrol job waits for the
    # checklist to be on the server before it tells anyone, these figures do not)
    industries = dict(
        session.exec(select(ChecklistTemplate.id, ChecklistTemplate.industry).distinct()).all()
    )
    starts = [day_start(d, tz) for d in days]
    # keyed by the check's profile too: one template may be owed at several rhythms, one per
    # profile (a chemical plant's daily, weekly, monthly and seasonal checks); a check without a
    # profile is of a template without profiles, so its inspections have none either
    owed: dict[tuple[str, str, str | None], int] = {}
    rhythm_of: dict[tuple[str, str, str | None], str] = {}
    for sid, (site_type, created) in types.items():
        n_days = sum(1 for t in starts if t >= created)
        for check in self_checks_for(site_type, industries):
            due = due_in(check.rhythm, n_days, hours)
            if due:
                key = (sid, check.template_id, check.profile)
                owed[key] = owed.get(key, 0) + due
                rhythm_of[key] = check.rhythm

    # what each site did: distinct days, open-hour slots and submissions, per checklist
    templates = sorted({c.template_id for checks in SELF_CHECKS.values() for c in checks})
    local = _epoch(session, Inspection.ended_at) + int(
        ZoneInfo(tz).utcoffset(end.replace(tzinfo=None)).total_seconds()
    )
    of_day = local % 86400
    opens, closes = (_seconds(h) for h in hours)
    open_now = (of_day >= opens) & (of_day < closes)
    slot = (local // 86400) * 100 + (of_day - opens) // 7200
    for sid, tid, profile, n_days, n_slots, n in session.exec(
        select(
            Inspection.site_id,
            Inspection.template_id,
            Inspection.profile,
            func.count(distinct(local // 86400)),
            func.count(distinct(case((open_now, slot), else_=None))),
            func.count(),
        )
        .where(col(Inspection.template_id).in_(templates))
        .where(col(Inspection.ended_at) >= start)
        .where(col(Inspection.ended_at) < end)
        .group_by(Inspection.site_id, Inspection.template_id, Inspection.profile)
    ).all():
        due = owed.get((sid, tid, profile))
        if not due:
            continue
        rhythm = rhythm_of[(sid, tid, profile)]
        did = n_slots if rhythm == "every_2h_open" else n_days if rhythm == "daily" else n
        sites[sid].done += min(int(did or 0), due)
    for (sid, _tid, _profile), due in owed.items():
        sites[sid].due += due
    return sites, start, end


def scope_figures(
    rows: list[tuple[str, SiteFigures]],
    names: dict[str, str],
    start: datetime,
    end: datetime,
    to_iso,
) -> dict[str, Any]:
    """One scope's figures from its sites (each under the row label it is counted in): the
    totals, one row per label (a district under the scope), and the sites to look at first
    (flagged, then silent, then the lowest completion)."""
    totals = dict.fromkeys(COUNTS, 0)
    by_label: dict[str, dict[str, int]] = {}
    for label, s in rows:
        cell = by_label.setdefault(label, dict.fromkeys(COUNTS, 0))
        for acc in (totals, cell):
            acc["sites"] += s.self_inspecting
            acc["due"] += s.due
            acc["done"] += s.done
            acc["self_found"] += s.self_found
            acc["regulator_found"] += s.regulator_found
            acc["self_closed"] += s.self_closed
            acc["spot_drawn"] += s.spot_drawn
            acc["reopened"] += s.reopened
            acc["silent_sites"] += s.silent
            acc["flagged_sites"] += s.flagged
    watched = sorted(
        (s for _label, s in rows if s.self_inspecting),
        key=lambda s: (not s.flagged, not s.silent, _rate(s.done, s.due) or 0, s.name),
    )
    return {
        "window": {"start": to_iso(start), "end": to_iso(end), "days": WINDOW_DAYS},
        "totals": {**totals, "rate": _rate(totals["done"], totals["due"])},
        "by_district": [
            {"district_id": label, "district_name": names.get(label, label)}
            | cell
            | {"rate": _rate(cell["done"], cell["due"])}
            for label, cell in sorted(by_label.items())
            if cell["sites"] or cell["self_found"] or cell["regulator_found"]
        ],
        "sites": [
            s.row() | {"district_name": names.get(s.district_id, s.district_id)}
            for s in watched[:SITES_SHOWN]
        ],
    }
