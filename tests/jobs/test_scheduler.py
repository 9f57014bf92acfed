"""When jobs run: intervals and the 07:00 summary come from settings; the server's lifespan
starts the scheduler (and catches up at once); the CLI runs one job or a scheduler process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.db import make_engine
from server.scheduler import JOBS, start_scheduler, triggers
from server.settings import Settings
from shared.clock import FixedClock
from tests.jobs.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]


def _settings(**kw) -> Settings:
    return Settings(env="test", secret_key="k" * 48, **kw)


def test_triggers_follow_settings(monkeypatch):
    monkeypatch.setenv("HAZARDCHAIN_OVERDUE_MINUTES", "2")
    monkeypatch.setenv("HAZARDCHAIN_SUMMARY_TIME", "06:30")
    t = triggers(Settings(env="test", secret_key="k" * 48))
    assert set(t) == set(JOBS)
    assert t["flag_overdue"].interval == timedelta(minutes=2)
    assert t["escalate"].interval == timedelta(minutes=15)
    # 06:30 in Wuhai is 22:30 UTC the day before
    after = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    fire = t["daily_summary"].get_next_fire_time(None, after)
    assert fire.astimezone(UTC) == datetime(2026, 3, 2, 22, 30, tzinfo=UTC)
    monkeypatch.delenv("HAZARDCHAIN_SUMMARY_TIME")
    default = triggers(_settings())["daily_summary"].get_next_fire_time(None, after)
    assert default.astimezone(UTC) == datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 07:00 local


def test_bad_settings_are_refused():
    from pydantic import ValidationError

    for bad in ({"remind_days": "3,zero"}, {"summary_time": "7am"}, {"escalate_after_days": 0}):
        with pytest.raises(ValidationError):
            _settings(**bad)
    assert _settings(remind_days="1, 7,3").remind_thresholds == (7, 3, 1)


def test_scheduler_runs_every_job_at_start(world: World, clock, engine, settings):
    hid = world.report("inspector", "mall", "疏散指示灯不亮")
    world.assign(hid, days=1)
    clock.advance(days=1, minutes=1)
    scheduler = start_scheduler(engine, settings, clock)
    try:
        assert {j.id for j in scheduler.get_jobs()} == set(JOBS) | {"heartbeat"}
        deadline = time.monotonic() + 20
        while not world.events(hid, "overdue"):
            assert time.monotonic() < deadline, "flag_overdue did not run at start"
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
    assert len(world.events(hid, "overdue")) == 1


def test_lifespan_starts_the_scheduler_unless_off(world: World, clock, engine, settings):
    from server.app import create_app
    from server.testing import LiveServer

    hid = world.report("inspector", "mall", "灭火器缺失")
    world.assign(hid, days=1)
    clock.advance(days=2)
    server = LiveServer(create_app(settings, clock=clock, engine=engine)).start()  # off
    server.stop()
    assert world.events(hid, "overdue") == []
    on = settings.model_copy(update={"scheduler": "on"})
    server = LiveServer(create_app(on, clock=clock, engine=engine)).start()
    try:
        deadline = time.monotonic() + 20
        while not world.events(hid, "overdue"):
            assert time.monotonic() < deadline, "the server's scheduler did not run"
            time.sleep(0.1)
    finally:
        server.stop()


def _cli(url: str, *args: str, **kw) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARDCHAIN_")}
    env |= {
        "HAZARDCHAIN_DATABASE_URL": url,
        "HAZARDCHAIN_ENV": "test",
        "HAZARDCHAIN_SECRET_KEY": "cli-" + "k" * 44,
        "HAZARDCHAIN_BACKUP_KEEP": "0",  # no nightly backups into the checkout's var/
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", *args],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw,
    )  # fmt: skip


@pytest.fixture
def sqlite_world(db_factory, clock):
    """The CLI is the same on both databases (the PostgreSQL leg runs it in test_replicas)."""
    url = db_factory.fresh("sqlite")
    engine = make_engine(url)
    yield url, build_world(engine, clock)
    engine.dispose()
    db_factory.drop(url)


def test_cli_jobs_run_summaries_build_and_scheduler(sqlite_world, clock):
    url, world = sqlite_world
    hid = world.report("inspector", "mall", "配电箱无门")
    world.assign(hid, days=1)
    at = (clock.now() + timedelta(days=1, minutes=1)).isoformat()
    out = _cli(url, "jobs", "run", "flag_overdue", "--now", at).communicate(timeout=120)[0]
    assert "flag_overdue: 1" in out
    out = _cli(url, "jobs", "run", "flag_overdue", "--now", at).communicate(timeout=120)[0]
    assert "flag_overdue: 0" in out
    out = _cli(url, "summaries", "build", "--date", "2026-03-01").communicate(timeout=120)[0]
    assert "daily summaries for 2026-03-01: 3 stored" in out
    sched = _cli(url, "scheduler")
    seen = []
    for line in iter(sched.stdout.readline, ""):
        seen.append(line)
        if line.startswith("scheduler running (Asia/Shanghai): "):
            break
    assert seen and seen[-1].startswith("scheduler running"), "".join(seen)[-3000:]
    sched.send_signal(signal.SIGTERM)
    rest = sched.communicate(timeout=120)[0]
    assert sched.returncode == 0 and "scheduler stopped" in rest, rest[-3000:]


def test_fixed_clock_is_what_jobs_see(clock: FixedClock):
    assert clock.now() == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
