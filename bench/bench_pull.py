"""First pull onto an empty tablet (issue 13, point 3): changes/s, bytes per change on the wire,
and the tablet's peak memory at two feed sizes (flat: it holds a page or two, never the feed).

The server (uvicorn in its own process, on loopback) holds M events in M / 10 valid chains
(``bench_sync.seed_changes``); the real sync client and local store pull them all, checking
every event against its hash and predecessor and folding every hazard. Baseline, measured in
the same run: a raw copy of the same event rows, read with one Core SELECT from the server's
database and written with one ``executemany`` into an empty SQLite table (no HTTP, no JSON,
no hashing, no fold): the ratio says how far a pull is from moving the bytes.
Also shown: the server alone (every page fetched and parsed, nothing applied).

Usage: python bench/bench_pull.py [--quick] [--changes M] [--backends sqlite,postgresql]
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import Server, first_pull, seed_changes, seed_people, token  # noqa: E402

from server.hazards.models import HazardEvent  # noqa: E402
from server.testing import DatabaseFactory, engine_for  # noqa: E402
from shared.sync_wire import SCHEMA_VERSION  # noqa: E402

GOAL_PER_S = 15_000
GOAL_BYTES = 100


def raw_copy(url: str, workdir: Path) -> float:
    """The same event rows read from the server's database and written to an empty SQLite."""
    path = workdir / "raw-copy.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE event (id TEXT PRIMARY KEY, hazard_id TEXT, seq INTEGER, body TEXT,"
        " hash TEXT)"
    )
    t = HazardEvent.__table__.c
    start = time.perf_counter()
    with engine_for(url) as eng, eng.connect() as db:
        rows = db.execute(select(t.id, t.hazard_id, t.seq, t.payload, t.hash)).all()
    with conn:
        conn.executemany(
            "INSERT INTO event VALUES (?, ?, ?, ?, ?)",
            [(r[0], r[1], r[2], json.dumps(r[3], ensure_ascii=False), r[4]) for r in rows],
        )
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def server_only(base: str) -> tuple[float, int]:
    """Every page fetched and parsed with plain ``requests`` (gzip), nothing applied."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token(base)}"
    params = {"device_id": "bench-server-only-1", "schema_version": SCHEMA_VERSION, "limit": 1000}
    n, start = 0, time.perf_counter()
    while True:
        r = http.get(base + "/api/v1/sync/pull", params=params, timeout=120)
        r.raise_for_status()
        page = r.json()
        n += len(page["changes"])
        if not page["has_more"]:
            return time.perf_counter() - start, n
        params["cursor"] = page["next_cursor"]


def bench(factory: DatabaseFactory, backend: str, sizes: tuple[int, int], workdir: Path) -> dict:
    small, large = sizes
    out: dict = {"backend": backend, "changes": large}
    peaks = {}
    for m in (small, large):
        url = factory.fresh(backend)
        seed_people(url)
        seed_changes(url, m)
        server = Server(url, workdir)
        try:
            if m == large:
                seconds, result, _ = first_pull(server.url, workdir, f"{backend}-timed", False)
                server_s, served = server_only(server.url)
            _, _, peaks[m] = first_pull(server.url, workdir, f"{backend}-{m}-traced", True)
        finally:
            server.stop()
        if m == large:
            baseline = raw_copy(url, workdir)
    rate = result.pulled / seconds
    per_change = result.bytes_received / result.pulled
    growth = peaks[large] / peaks[small]
    print(
        f"pull {backend:<10} {result.pulled} changes in {seconds:.2f} s = {rate:,.0f}/s "
        f"[goal >= {GOAL_PER_S:,}/s: {'ok' if rate >= GOAL_PER_S else 'NOT MET'}]; "
        f"{per_change:.1f} B/change [goal <= {GOAL_BYTES}: "
        f"{'ok' if per_change <= GOAL_BYTES else 'NOT MET'}]"
    )
    print(
        f"     tablet peak memory (tracemalloc) {peaks[small] / 2**20:.1f} MiB at {small} changes,"
        f" {peaks[large] / 2**20:.1f} MiB at {large} (x{growth:.2f} for x{large / small:.0f} "
        f"the changes)"
    )
    print(
        f"     server alone (pages fetched, not applied): {served / server_s:,.0f}/s; "
        f"baseline raw row copy {baseline:.2f} s ({large / baseline:,.0f} rows/s): pull is "
        f"x{seconds / baseline:.1f} the baseline"
    )
    out.update(
        changes_per_s=round(rate),
        bytes_per_change=round(per_change, 1),
        seconds=round(seconds, 3),
        server_only_per_s=round(served / server_s),
        baseline_raw_copy_s=round(baseline, 3),
        ratio_vs_baseline=round(seconds / baseline, 2),
        peak_mib={str(small): round(peaks[small] / 2**20, 2), str(large): round(peaks[large] / 2**20, 2)},
        memory_growth=round(growth, 2),
        goals_met=rate >= GOAL_PER_S and per_change <= GOAL_BYTES and growth < 1.5,
    )  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="20k changes, SQLite only (< 2 min)")
    ap.add_argument("--changes", type=int, default=None)
    ap.add_argument("--backends", default=None)
    args = ap.parse_args()
    large = args.changes or (20_000 if args.quick else 50_000)
    backends = (args.backends or ("sqlite" if args.quick else "sqlite,postgresql")).split(",")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        factory = DatabaseFactory(workdir)
        handle = None
        if "postgresql" in backends:
            from server.testing import start_embedded_postgres

            factory.pg_uri, handle = start_embedded_postgres(workdir / "pg")
        try:
            for backend in backends:
                results.append(bench(factory, backend, (large // 5, large), workdir))
        finally:
            if handle is not None:
                handle.cleanup()
    print(json.dumps({"bench": "pull", "quick": args.quick, "results": results}))


if __name__ == "__main__":
    main()
