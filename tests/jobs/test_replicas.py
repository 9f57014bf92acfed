"""Several replicas on one PostgreSQL database: every overdue and escalation event exactly once,
whether the jobs race in threads, in `hazardchain jobs run` processes, or in two real server
processes with their schedulers. These run on PostgreSQL only (SQLite has one host)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server.db import make_engine
from server.hazards.scheduled import flag_overdue
from server.jobs.escalation import escalate
from server.jobs.locks import lock_for
from server.scheduler import run_job
from server.testing import free_port
from server.uow import unit_of_work
from shared.clock import FixedClock
from tests.jobs.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(db_factory, pg_uri):
    db_factory.pg_uri = pg_uri
    url = db_factory.fresh("postgresql")
    yield url
    db_factory.drop(url)


def _populate(url: str, now: datetime) -> World:
    """40 hazards fallen due at different times before ``now``: general and major, 1–9 days
    overdue, so both escalation levels are due for some of them."""
    engine = make_engine(url)
    clock = FixedClock(now - timedelta(days=12))
    world = build_world(engine, clock)
    for i in range(40):
        major = i % 5 == 0
        site, who, officer = (
            ("mine", "winspector", "wofficer") if i % 2 else ("mall", "inspector", "officer")
        )
        hid = world.report(who, site, f"隐患{i}", "major" if major else "general")
        world.assign(hid, days=2 + (i % 10) * 0.3, who=officer)  # due 1–9 days before now
    return world


def _once_each(world: World) -> tuple[int, int]:
    overdue = Counter((e.hazard_id, e.payload["deadline"]) for e in world.events(etype="overdue"))
    escalated = Counter((e.hazard_id, e.payload["level"]) for e in world.events(etype="escalated"))
    assert overdue and max(overdue.values()) == 1, overdue
    assert escalated and max(escalated.values()) == 1, escalated
    return len(overdue), len(escalated)


def _expected(world: World, now: datetime) -> tuple[int, int]:
    """What one careful run would produce: each hazard flagged, and escalated to its level."""
    from sqlmodel import select

    from server.hazards.models import Hazard
    from server.jobs.escalation import target_level

    with world.session() as s:
        rows = s.exec(select(Hazard)).all()
    levels = 0
    for h in rows:
        at_report = 1 if h.severity == "major" else 0
        # one event per level reached; a hazard found late jumps straight to its level
        levels += at_report + (target_level(h.severity, now - h.deadline, 3) > at_report)
    return len(rows), levels


def test_threads_without_the_lock_still_write_once(pg_url):
    """The data alone (row lock + dedupe keys) is enough: the lock only saves the work."""
    now = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
    world = _populate(pg_url, now)
    barrier = threading.Barrier(4)
    errors = []

    def replica(job):
        engine = make_engine(pg_url)
        try:
            barrier.wait()
            with unit_of_work(engine) as s:  # the replica's runner commits
                job(s, now)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [
        threading.Thread(target=replica, args=(j,))
        for j in (flag_overdue, flag_overdue, escalate, escalate)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _once_each(world) == _expected(world, now)
    with world.session() as s:  # and a later run finds nothing left to do
        assert flag_overdue(s, now) == 0
        assert escalate(s, now) == {"escalated": 0, "notices": 0}


def test_the_advisory_lock_lets_one_replica_work(pg_url):
    now = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
    world = _populate(pg_url, now)
    engine = make_engine(pg_url)
    with lock_for(engine).hold("flag_overdue") as held:
        assert held is True
        assert run_job(engine, "flag_overdue", now) is None  # skipped: another replica has it
        with lock_for(engine).hold("escalate") as other:
            assert other is True  # one lock per job name
    assert run_job(engine, "flag_overdue", now) == 40
    results = []
    barrier = threading.Barrier(2)

    def replica():
        own = make_engine(pg_url)
        barrier.wait()
        results.append(run_job(own, "escalate", now))
        own.dispose()

    threads = [threading.Thread(target=replica) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert _once_each(world) == _expected(world, now)


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARDCHAIN_")}
    return (
        env
        | {
            "HAZARDCHAIN_DATABASE_URL": url,
            "HAZARDCHAIN_ENV": "test",
            "HAZARDCHAIN_SECRET_KEY": "replica-test-" + "k" * 40,
            "HAZARDCHAIN_LOG_FORMAT": "json",  # the assertions read the log's JSON lines
            "HAZARDCHAIN_BACKUP_KEEP": "0",  # no nightly backups into the checkout's var/
            "PYTHONPATH": str(ROOT),
        }
        | extra
    )


def test_two_cli_processes_race(pg_url):
    now = datetime(2026, 3, 20, 1, 0, tzinfo=UTC)
    world = _populate(pg_url, now)
    for job in ("flag_overdue", "escalate"):
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "server.cli", "jobs", "run", job, "--now", now.isoformat()],
                env=_env(pg_url), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for _ in range(2)
        ]  # fmt: skip
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
    assert _once_each(world) == _expected(world, now)


def test_two_servers_with_schedulers(pg_url, tmp_path):
    """Two `hazardchain serve` processes, schedulers on, every job each ~1 s, real clock."""
    now = datetime.now(UTC)
    world = _populate(pg_url, now)
    fast = {
        f"HAZARDCHAIN_{k}_MINUTES": "0.02"
        for k in ("OVERDUE", "REMIND", "ESCALATE", "DELIVER", "PLAN")
    }
    procs, ports = [], [free_port(), free_port()]
    try:
        for i, port in enumerate(ports):
            log = open(tmp_path / f"server{i}.log", "w")  # noqa: SIM115 - closed with the process
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
                    env=_env(pg_url, HAZARDCHAIN_BLOB_DIR=str(tmp_path / "blobs"), **fast),
                    cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        deadline = time.monotonic() + 60
        for port in ports:
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        time.sleep(8)  # several rounds of every job in both processes
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    logs = [(tmp_path / f"server{i}.log").read_text() for i in range(2)]
    for text in logs:
        assert '"job ran"' in text and '"job": "flag_overdue"' in text, text[-2000:]
        assert "Traceback" not in text, text[-4000:]
    assert _once_each(world) == _expected(world, datetime.now(UTC))
