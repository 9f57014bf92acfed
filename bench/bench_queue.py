"""The console's work queue and live dashboard at a large hazard count (issue 13, point 4):
server time per page against ``SELECT count(*) FROM hazard`` in the same run (bench_console,
whose world and measurements this reuses), goal under 300 ms each.

Full mode: 1,000,000 hazards on SQLite and PostgreSQL (slow to load: minutes). ``--quick``:
20,000 on SQLite (under two minutes). Ends with one JSON line.

Usage: python bench/bench_queue.py [--quick] [--hazards N] [--sqlite-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_console import BASELINES, LIMIT_MS, run  # noqa: E402

from server.testing import DatabaseFactory, start_embedded_postgres  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--hazards", type=int, default=None)
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    n = args.hazards or (20_000 if args.quick else 1_000_000)
    results = run("sqlite", n)
    if not (args.quick or args.sqlite_only):
        pg_uri, handle = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="hc-pg-")))
        try:
            results += run("postgresql", n, DatabaseFactory(Path(tempfile.mkdtemp()), pg_uri))
        finally:
            handle.cleanup()
    pages = {
        label: {
            "server_ms": round(ms, 1),
            "x_baseline": round(ms / BASELINES[label.split(":")[0]], 1),
        }
        for label, ms in results
    }
    worst = max(ms for _, ms in results)
    print(
        json.dumps(
            {
                "bench": "queue",
                "quick": args.quick,
                "hazards": n,
                "baseline_count_ms": {k: round(v, 2) for k, v in BASELINES.items()},
                "pages": pages,
                "worst_ms": round(worst, 1),
                "goal_met": worst < LIMIT_MS,
            },
            ensure_ascii=False,
        )
    )
    return 0 if worst < LIMIT_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
