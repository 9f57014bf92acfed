"""When an enterprise owes its self-inspections (自查) and which it missed: the rhythm of
``shared.site_checklists.SELF_CHECKS`` turned into periods on the local calendar.

``every_2h_open``: 公众聚集场所 营业期间 at least one patrol in every two hours it is open
(公安部令61号 第二十五条), so the day's period holds one slot per two opening hours and each
slot needs a patrol; ``daily``: one in the local day; ``weekly``: one in the week (Monday to
Sunday); ``monthly``: one in the calendar month (第二十六条); ``quarterly``: one in the calendar
quarter (a seasonal check). Pure and clock-free: the job passes ``now``, so tests travel in time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.site_checklists import SelfCheck

SLOT = timedelta(hours=2)


@dataclass(frozen=True)
class Period:
    """One occurrence of a self-inspection; ``slots`` are the spans each needing one."""

    check: SelfCheck
    label: str  # 2026-03-02 or 2026-03 (the dedupe key's part and the text's)
    start: datetime
    end: datetime
    slots: tuple[tuple[datetime, datetime], ...]

    def missing(self, done_at: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
        """The slots with no self-inspection ended in them (empty: done as required)."""
        times = list(done_at)
        return [(a, b) for a, b in self.slots if not any(a <= t < b for t in times)]


def _at(day: date, hh_mm: str, zone: ZoneInfo) -> datetime:
    hour, minute = (int(x) for x in hh_mm.split(":"))
    return datetime.combine(day, time(hour, minute), zone)


def _day_period(check: SelfCheck, day: date, zone: ZoneInfo, hours: tuple[str, str]) -> Period:
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    if check.rhythm == "every_2h_open":
        opens, closes = _at(day, hours[0], zone), _at(day, hours[1], zone)
        slots, t = [], opens
        while t < closes:
            slots.append((t, min(t + SLOT, closes)))
            t += SLOT
        return Period(check, day.isoformat(), start, end, tuple(slots))
    return Period(check, day.isoformat(), start, end, ((start, end),))


def _month_period(check: SelfCheck, first: date, zone: ZoneInfo) -> Period:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start, end = datetime.combine(first, time(0), zone), datetime.combine(nxt, time(0), zone)
    return Period(check, first.strftime("%Y-%m"), start, end, ((start, end),))


def _week_period(check: SelfCheck, monday: date, zone: ZoneInfo) -> Period:
    start = datetime.combine(monday, time(0), zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone)
    year, week, _ = monday.isocalendar()
    return Period(check, f"{year}-W{week:02d}", start, end, ((start, end),))


def _quarter_period(check: SelfCheck, first: date, zone: ZoneInfo) -> Period:
    month = first.month + 3
    nxt = date(first.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    start, end = datetime.combine(first, time(0), zone), datetime.combine(nxt, time(0), zone)
    return Period(check, f"{first.year}-Q{(first.month - 1) // 3 + 1}", start, end, ((start, end),))


def ended_periods(
    check: SelfCheck,
    *,
    since: datetime,
    now: datetime,
    tz: str,
    hours: tuple[str, str] = ("09:00", "21:00"),
    lookback_days: int = 3,
) -> list[Period]:
    """Periods of ``check`` that ended by ``now``, began at or after ``since`` (the rule
    applies from when the site and its checklist were there) and ended within the lookback
    (older ones were looked at by earlier runs; the window lets a stopped scheduler catch up)."""
    zone = ZoneInfo(tz)
    local_now = now.astimezone(zone)
    oldest = now - timedelta(days=lookback_days)
    out: list[Period] = []
    if check.rhythm == "monthly":
        first = local_now.date().replace(day=1)
        candidates = []
        for _ in range(2):  # last month and the one before: lookback is days, not months
            first = (first - timedelta(days=1)).replace(day=1)
            candidates.append(_month_period(check, first, zone))
        out = [p for p in candidates if p.end > oldest - timedelta(days=31)]
    elif check.rhythm == "quarterly":
        this = local_now.date().replace(day=1, month=(local_now.month - 1) // 3 * 3 + 1)
        last = (this - timedelta(days=1)).replace(day=1)
        last = last.replace(month=(last.month - 1) // 3 * 3 + 1)
        out = [p for p in (_quarter_period(check, last, zone),) if p.end > oldest]
    elif check.rhythm == "weekly":
        monday = local_now.date() - timedelta(days=local_now.weekday())
        for back in range(1, lookback_days // 7 + 3):
            out.append(_week_period(check, monday - timedelta(weeks=back), zone))
        out = [p for p in out if p.end > oldest]
    else:
        day = local_now.date()
        for back in range(1, lookback_days + 2):
            out.append(_day_period(check, day - timedelta(days=back), zone, hours))
        out = [p for p in out if p.end > oldest]
    return sorted((p for p in out if p.start >= since and p.end <= now), key=lambda p: p.start)


# ---------------------------------------------------------------- what regulators see (自查成效)

# The look-back of the dashboard's self-inspection figures, in whole local days.
WINDOW_DAYS = 30
# A site that self-reported nothing while the regulator found this many hazards there in the
# window is flagged: its self-inspection finds less than the regulator's visits do.
REGULATOR_FINDS_FLAG = 2


def slots_per_day(hours: tuple[str, str]) -> int:
    """Two-hour patrol slots in a day open ``hours`` (a last short span counts as one)."""
    opens, closes = (int(h) * 60 + int(m) for h, m in (x.split(":") for x in hours))
    minutes = max(closes - opens, 0)
    return -(-minutes // int(SLOT.total_seconds() // 60))


def due_in(rhythm: str, days: int, hours: tuple[str, str]) -> int:
    """How many self-inspections ``rhythm`` asks for in ``days`` whole days: a patrol per slot
    or per day; a weekly check per whole week; a monthly check at least once in any window of
    four weeks or more (a 30-day window need not hold a calendar month's end, so this is the
    reading a window can check), a quarterly one in any window of thirteen weeks or more."""
    if rhythm == "every_2h_open":
        return days * slots_per_day(hours)
    if rhythm == "daily":
        return days
    if rhythm == "weekly":
        return days // 7
    if rhythm == "quarterly":
        return 1 if days >= 91 else 0
    return 1 if days >= 28 else 0


def flagged(self_found: int, regulator_found: int) -> bool:
    """The regulator keeps finding what the site never reports."""
    return self_found == 0 and regulator_found >= REGULATOR_FINDS_FLAG
