"""APScheduler 3.x inside the server process (or ``hazardchain scheduler``); jobs are plain
functions of a session and now, declared with ``@job`` where they live
(``server/jobs/registry.py``), so the scheduler only runs them when they say."""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from server.jobs.locks import lock_for
from server.jobs.registry import jobs
from server.logs import request_id
from server.monitoring.metrics import Timed
from server.monitoring.readiness import beat
from server.settings import Settings
from server.uow import retrying
from shared.clock import Clock

log = logging.getLogger("hazardchain.scheduler")

JOBS: dict[str, Callable[..., object]] = {name: j.run for name, j in jobs().items()}


def run_job(engine: Engine, name: str, now: datetime, settings: Settings | None = None) -> object:
    """Run one job once; what the scheduler, the CLI and the tests all call. Returns None when
    another replica holds the job's lock (PostgreSQL) and this run was skipped."""
    job = JOBS[name]
    token = request_id.set(f"job-{name}-{uuid.uuid4().hex[:8]}")  # the run's lines share it
    try:
        return _run_job(engine, name, job, now, settings)
    finally:
        request_id.reset(token)


def _run_job(
    engine: Engine, name: str, job: Callable[..., object], now: datetime, settings: Settings | None
) -> object:
    takes_settings = "settings" in inspect.signature(job).parameters
    kwargs = {"settings": settings} if settings is not None and takes_settings else {}
    with Timed(name) as timed, lock_for(engine).hold(name) as held:
        if not held:
            timed.outcome = "skipped"
            log.info("job skipped: lock held elsewhere", extra={"job": name})
            return None
        # the job's unit: committed at its end (and at the batch checkpoints it sets), rolled
        # back on error, run again from the start on a collision (jobs are idempotent)
        result = retrying(engine, lambda session: job(session, now, **kwargs), what=name)
    log.info("job ran", extra={"job": name, "result": result})
    return result


def triggers(settings: Settings) -> dict[str, BaseTrigger]:
    """When each job runs, as its ``@job`` declaration says, resolved against the settings."""
    return {name: j.when.trigger(settings) for name, j in jobs().items()}


def start_scheduler(engine: Engine, settings: Settings, clock: Clock) -> BackgroundScheduler:
    """Every job on its trigger, and each once at start-up so a restart catches up at once
    (a missed 07:00 summary included). Several replicas may all do this: see docs/jobs.md."""
    scheduler = BackgroundScheduler(timezone=settings.timezone)

    def runner(name: str) -> None:
        try:
            run_job(engine, name, clock.now(), settings)
        except Exception:
            log.exception("job failed", extra={"job": name})

    started = datetime.now(ZoneInfo(settings.timezone))
    for name, trigger in triggers(settings).items():
        scheduler.add_job(
            runner,
            trigger,
            args=[name],
            id=name,
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=started,
        )
    scheduler.add_job(
        _heartbeat,
        IntervalTrigger(seconds=HEARTBEAT_SECONDS),
        args=[engine, clock],
        id="heartbeat",
        name="heartbeat",
        coalesce=True,
        max_instances=1,
        next_run_time=started,
    )
    scheduler.start()
    return scheduler


HEARTBEAT_SECONDS = 30


def _heartbeat(engine: Engine, clock: Clock) -> None:
    """/readyz on every replica reads this: the jobs have a living scheduler somewhere."""
    try:
        beat(engine, clock.now())
    except Exception:
        log.exception("heartbeat failed")
