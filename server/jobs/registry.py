"""Where jobs are declared: ``@job(name, when)`` on the job function, in its own domain module,
and that module named once in ``JOB_MODULES``. The scheduler, the CLI and the tests read the
registry through ``jobs()``, which imports every job module itself: registration never depends
on who happened to import what first (the feed hook's lesson, issue #11)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from server.settings import Settings

F = TypeVar("F", bound=Callable[..., object])

# in the order the scheduler adds them (and so runs them once at start-up): deadlines are
# flagged before they are reminded of and escalated, the summary counts what they changed
JOB_MODULES = (
    "server.hazards.scheduled",
    "server.jobs.reminders",
    "server.jobs.escalation",
    "server.summaries.scheduled",
    "server.plans.scheduled",
    "server.plans.self_inspection",
    "server.jobs.notify",
    "server.blobs.scheduled",
    "server.backups.scheduled",
    "server.tlog.checkpoints",
)


class When(Protocol):
    def trigger(self, settings: Settings) -> BaseTrigger: ...


@dataclass(frozen=True)
class Every:
    """Every N minutes, N from a setting (so a deployment tunes it without code)."""

    minutes_setting: str

    def trigger(self, settings: Settings) -> BaseTrigger:
        minutes = float(getattr(settings, self.minutes_setting))
        return IntervalTrigger(seconds=minutes * 60, timezone=settings.timezone)


@dataclass(frozen=True)
class DailyAt:
    """Once a day at a local ``HH:MM``: from a setting, or fixed (quiet-hours work)."""

    time_setting: str | None = None
    at: str | None = None

    def trigger(self, settings: Settings) -> BaseTrigger:
        hh_mm = getattr(settings, self.time_setting) if self.time_setting else self.at
        hour, minute = (int(x) for x in str(hh_mm).split(":"))
        return CronTrigger(hour=hour, minute=minute, timezone=settings.timezone)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[..., object]
    when: When


_REGISTRY: dict[str, Job] = {}


def job(name: str, when: When) -> Callable[[F], F]:
    """Declare a scheduled job: a plain function of ``(session, now[, settings])``."""

    def register(fn: F) -> F:
        known = _REGISTRY.get(name)
        if known is not None and known.run is not fn:
            raise RuntimeError(f"job {name!r} declared twice")
        _REGISTRY[name] = Job(name, fn, when)
        return fn

    return register


def jobs() -> dict[str, Job]:
    """Every declared job, by name, in ``JOB_MODULES`` order."""
    for module in JOB_MODULES:
        importlib.import_module(module)
    order = {m: i for i, m in enumerate(JOB_MODULES)}
    return dict(sorted(_REGISTRY.items(), key=lambda kv: order.get(kv[1].run.__module__, 99)))
