"""Injectable time: deadlines, overdue flags and event order depend on "now", so tests travel."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Asia/Shanghai"  # Wuhai; local days, deadlines and schedules


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The real clock; the only one production code should construct."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests can set and move; shared by threads of an in-process server."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_utc(start or datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(when)

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now = self._now + timedelta(**delta)
            return self._now


def ensure_utc(value: datetime) -> datetime:
    """Naive datetimes are refused by SQLModel and ambiguous across zones: treat them as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 time (``Z`` accepted) into aware UTC."""
    return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def to_iso(value: datetime) -> str:
    """One textual form for times inside hashed events: UTC, microseconds, ``Z``."""
    return ensure_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_date(instant: datetime, tz: str | None = None) -> date:
    """The day ``instant`` falls on in the deployment's zone. Tasks and summaries are counted
    in those days; a tablet set to another zone (or UTC) must count the same ones."""
    return ensure_utc(instant).astimezone(ZoneInfo(tz or DEFAULT_TIMEZONE)).date()


def local_text(value: datetime | str | None, tz: str | None = None, with_time: bool = True) -> str:
    """A UTC instant as the local wall time people read (``2026-03-02 09:00``): the one form
    notifications, exports, prints and screens show; stored times stay UTC ISO."""
    if value is None or value == "":
        return ""
    instant = parse_iso(value) if isinstance(value, str) else ensure_utc(value)
    local = instant.astimezone(ZoneInfo(tz or DEFAULT_TIMEZONE))
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
