"""APScheduler 3.x inside the server process (or ``hazardchain scheduler``); jobs are plain
functions of a session and now, so the scheduler only decides *when*."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.hazards.scheduled import flag_overdue
from server.settings import Settings
from shared.clock import Clock

log = logging.getLogger("hazardchain.scheduler")

JOBS: dict[str, Callable[[Session, datetime], object]] = {"flag_overdue": flag_overdue}


def run_job(engine: Engine, name: str, now: datetime) -> object:
    """Run one job once; what the scheduler, the CLI and the tests all call."""
    job = JOBS[name]
    with Session(engine, expire_on_commit=False) as session:
        result = job(session, now)
        session.commit()
    log.info("job ran", extra={"job": name, "result": result})
    return result


def start_scheduler(engine: Engine, settings: Settings, clock: Clock) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings.timezone)

    def runner(name: str) -> None:
        try:
            run_job(engine, name, clock.now())
        except Exception:
            log.exception("job failed", extra={"job": name})

    scheduler.add_job(
        runner,
        "interval",
        minutes=5,
        args=["flag_overdue"],
        id="flag_overdue",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
    scheduler.start()
    return scheduler
