"""The console's work queue and live dashboard as the hazards grow (issue 13: under 300 ms at
1M): server time per page at each size, against ``SELECT count(*) FROM hazard`` measured in the
same run on the same database (the ratio is what travels between machines), and how each page
grows from the smallest size to the largest (a page that reads only what it shows stays flat;
one that reads the table grows with it).

bench_console builds the world (the Wuhai demo plus N bulk-loaded hazards, a real year's states)
and measures over real HTTP; the live dashboard ("today") is counted afresh on every view (no
cache), so its median is its first view.

Full: 100,000 and 1,000,000 hazards on PostgreSQL (loading 1M takes a quarter of an hour here).
``--quick``: 2,000 and 10,000 on PostgreSQL (under two minutes). ``--sqlite`` adds SQLite.
Ends with one JSON line.

Usage: python bench/bench_queue.py [--quick] [--sizes 100000,1000000] [--sqlite]
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
    ap.add_argument("--quick", action="store_true", help="2k and 10k hazards: under two minutes")
    ap.add_argument("--sizes", default=None, help="comma-separated hazard counts")
    ap.add_argument("--sqlite", action="store_true", help="measure SQLite too")
    args = ap.parse_args()
    sizes = [
        int(x)
        for x in (args.sizes or ("2000,10000" if args.quick else "100000,1000000")).split(",")
    ]
    backends = ["postgresql"] + (["sqlite"] if args.sqlite else [])
    pages: dict[str, dict[str, dict[str, float]]] = {}  # "backend: page" → size → figures
    baselines: dict[str, dict[str, float]] = {}
    pg_uri, handle = start_embedded_postgres(Path(tempfile.mkdtemp(prefix="hc-pg-")))
    try:
        for n in sizes:
            for backend in backends:
                factory = (
                    DatabaseFactory(Path(tempfile.mkdtemp()), pg_uri)
                    if backend == "postgresql"
                    else None
                )
                results = run(backend, n, factory)
                baselines.setdefault(backend, {})[str(n)] = round(BASELINES[backend], 2)
                for label, ms in results:
                    pages.setdefault(label, {})[str(n)] = {
                        "server_ms": round(ms, 1),
                        "x_baseline": round(ms / BASELINES[backend], 1),
                    }
    finally:
        handle.cleanup()
    lo, hi = str(sizes[0]), str(sizes[-1])
    print(f"\nserver ms by size (x the same run's count(*)); growth {lo} → {hi} hazards:")
    for label, by_size in pages.items():
        cells = "  ".join(
            f"{n:>8}: {v['server_ms']:7.1f} (x{v['x_baseline']:5.1f})" for n, v in by_size.items()
        )
        growth = by_size[hi]["server_ms"] / by_size[lo]["server_ms"]
        print(f"  {label:44s} {cells}  growth x{growth:4.1f}")
    top = {label: by_size[hi]["server_ms"] for label, by_size in pages.items()}
    worst = max(top.values())
    print(
        json.dumps(
            {
                "bench": "queue",
                "quick": args.quick,
                "sizes": sizes,
                "baseline_count_ms": baselines,
                "pages": pages,
                "growth": {
                    label: round(by_size[hi]["server_ms"] / by_size[lo]["server_ms"], 2)
                    for label, by_size in pages.items()
                },
                "worst_ms_at_largest": round(worst, 1),
                "goal_ms": LIMIT_MS,
                "goal_met": worst < LIMIT_MS,
            },
            ensure_ascii=False,
        )
    )
    return 0 if worst < LIMIT_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
