"""Local days in the configured zone (Asia/Shanghai by default): summaries, digests and
inspection tasks are counted in the days people live in, while everything is stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.clock import local_date

__all__ = ["day_bounds", "day_start", "local_date", "local_time_on"]


def local_time_on(day: date, hhmm: str, tz: str) -> datetime:
    """The UTC instant of ``hhmm`` local time on ``day``."""
    hh, mm = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def day_start(day: date, tz: str) -> datetime:
    """Local midnight starting ``day``, as UTC."""
    return local_time_on(day, "00:00", tz)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in UTC; 23 or 25 hours long where the zone has DST."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)
