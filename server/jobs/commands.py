"""``hazardchain scheduler`` (a dedicated scheduler process) and ``hazardchain summaries build``
(regenerate the stored daily summaries of a past day)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import date


def cmd_scheduler(args: argparse.Namespace) -> int:
    from server.logs import setup_logging
    from server.scheduler import start_scheduler
    from shared.clock import SystemClock

    settings = args.settings_factory()
    setup_logging(settings.log_level, settings.log_format)
    # The handler only flips a flag: calling Event.set() from a signal handler deadlocks when
    # the signal lands while the main thread holds the event's lock inside wait() (it did,
    # under load, a SIGTERM sent just as the scheduler reported it was running).
    stopping: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    scheduler = start_scheduler(args.engine_factory(), settings, SystemClock())
    jobs = ", ".join(f"{j.id} ({j.trigger})" for j in scheduler.get_jobs())
    print(f"scheduler running ({settings.timezone}): {jobs}", flush=True)
    while not stopping:
        time.sleep(0.2)  # a signal cuts the sleep short
    # Jobs are idempotent and transactional, so a run cut short is simply redone by the next
    # one: a stop request waits a few seconds for running jobs, never for a long catch-up.
    waiter = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True)
    waiter.start()
    waiter.join(timeout=10)
    print("scheduler stopped", flush=True)
    if waiter.is_alive():
        os._exit(0)  # worker threads are not daemons; leave them to the OS
    return 0


def cmd_summaries_build(args: argparse.Namespace) -> int:
    from server.jobs.days import local_date
    from server.summaries.service import build_daily
    from server.uow import unit_of_work
    from shared.clock import SystemClock

    settings = args.settings_factory()
    now = SystemClock().now()
    if args.date >= local_date(now, settings.timezone):
        print(f"error: {args.date} is not over yet in {settings.timezone}", file=sys.stderr)
        return 2
    with unit_of_work(args.engine_factory()) as session:
        stored = build_daily(session, args.date, now, settings.timezone, force=args.force)
    print(f"daily summaries for {args.date}: {stored} stored")
    return 0


def add_parser(sub, engine_factory: Callable, settings_factory: Callable) -> None:
    sched = sub.add_parser(
        "scheduler", help="run the scheduled jobs in the foreground (a dedicated process)"
    )
    sched.set_defaults(
        func=cmd_scheduler, engine_factory=engine_factory, settings_factory=settings_factory
    )
    summaries = sub.add_parser("summaries", help="daily risk summaries").add_subparsers(
        dest="summaries_command", required=True
    )
    build = summaries.add_parser("build", help="store a past day's summaries (regenerate)")
    build.add_argument("--date", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    build.add_argument("--force", action="store_true", help="replace stored snapshots")
    build.set_defaults(
        func=cmd_summaries_build, engine_factory=engine_factory, settings_factory=settings_factory
    )
