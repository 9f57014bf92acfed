"""What the transparency log costs and how its proofs scale.

1. Sync push: the same kind of ops (hazard reports and notes, in batches of 100) pushed over
   HTTP to two servers in their own processes, one with the log's hook and one without, in
   alternating rounds of the same run; the ratio of the best rounds is what the log adds to
   a push (issue 14: at most 10 %).
2. Append cost: N chain events through the service layer (one unit each, as a request or a
   sync op commits them), with the log's flush hook and with it switched off; the ratio is
   the log's share of an append (issue 14 allows 10 % on sync push).
3. Proofs at scale: a log of M leaves stored as ``server.tlog`` stores it (leaves and complete
   subtrees), then the root, inclusion and consistency proofs read from it: time per proof
   and proof size, checked against ``shared.merkle``'s verifiers.

SQLite always; PostgreSQL (embedded) too unless ``--quick``. ``--quick``: 5 rounds of 200
pushed ops, 300 events and 100 000 leaves (default 1 000 ops a round, 2 000 events and
1 000 000 leaves), under two minutes on an idle machine. Ends
with one JSON line.

Usage: python bench/bench_log.py [--quick] [--backends B,..] [--ops N] [--rounds R] [--events N]
       [--leaves M]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_chain import through_service  # noqa: E402
from bench_sync import Server, push_ops, seed_people  # noqa: E402

import server.tlog.log as tlog  # noqa: E402
from server.testing import DatabaseFactory, engine_for, start_embedded_postgres  # noqa: E402
from server.tlog.models import LogLeaf  # noqa: E402
from shared import merkle  # noqa: E402

BATCH = 20_000
PUSH_BUDGET = 1.10  # issue 14: the log may slow sync push by 10 % at most
NO_LOG = "import server.tlog.log as _t; _t.record_log_leaves = lambda session: None; "


def _leaves(url: str) -> int:
    with engine_for(url) as eng, Session(eng) as s:
        return int(s.execute(select(func.count()).select_from(LogLeaf)).scalar() or 0)


def push_cost(
    factory: DatabaseFactory, backend: str, n: int, rounds: int, workdir: Path
) -> dict[str, Any]:
    """Two servers, one with the hook and one without, each on its own fresh database; each
    round pushes ``n`` new ops (a new device) to both, alternating which goes first, so both
    databases grow alike and a busy moment of the machine hits both."""
    urls = {mode: factory.fresh(backend) for mode in ("with_log", "without_log")}
    servers: dict[str, Server] = {}
    try:
        for mode, url in urls.items():
            seed_people(url)
            servers[mode] = Server(url, workdir, prelude=NO_LOG if mode == "without_log" else "")
        runs: dict[str, list[float]] = {"with_log": [], "without_log": []}
        for r in range(rounds):
            modes = ("without_log", "with_log") if r % 2 == 0 else ("with_log", "without_log")
            for mode in modes:
                runs[mode].append(push_ops(servers[mode].url, n, device=f"bench-tablet-{r:04d}"))
            print(f"  {backend} round {r + 1}: {runs['with_log'][-1]:.2f}s with the log, "
                  f"{runs['without_log'][-1]:.2f}s without", flush=True)  # fmt: skip
    finally:
        for server in servers.values():
            server.stop()
    assert _leaves(urls["with_log"]) == n * rounds and _leaves(urls["without_log"]) == 0
    best_with, best_without = min(runs["with_log"]), min(runs["without_log"])
    pairs = [w / o for w, o in zip(runs["with_log"], runs["without_log"], strict=True)]
    ratio = best_with / best_without
    return {
        "ops": n,
        "rounds": rounds,
        "with_log_s": [round(x, 2) for x in runs["with_log"]],
        "without_log_s": [round(x, 2) for x in runs["without_log"]],
        "ratio": round(ratio, 3),
        "ratio_median_of_rounds": round(statistics.median(pairs), 3),
        "within_budget": ratio <= PUSH_BUDGET,
    }


def append_cost(factory: DatabaseFactory, backend: str, n: int) -> dict[str, Any]:
    real = tlog.record_log_leaves
    runs: dict[str, list[float]] = {"with_log": [], "without_log": []}
    for _ in range(2):  # alternate, so a warming cache favours neither
        for mode in ("without_log", "with_log"):
            tlog.record_log_leaves = real if mode == "with_log" else (lambda session: None)
            try:
                url = factory.fresh(backend)
                elapsed, _ = through_service(url, n)
            finally:
                tlog.record_log_leaves = real
            runs[mode].append(elapsed)
            if mode == "with_log":
                with engine_for(url) as eng, Session(eng) as s:
                    logged = s.execute(select(func.count()).select_from(LogLeaf)).scalar()
                assert logged == n, f"{logged} leaves for {n} events"
    with_log, without = min(runs["with_log"]), min(runs["without_log"])
    return {
        "events": n,
        "with_log_s": round(with_log, 3),
        "without_log_s": round(without, 3),
        "ratio": round(with_log / without, 3),
        "per_event_ms_with_log": round(1000 * with_log / n, 3),
    }


def build_log(url: str, m: int) -> tuple[float, bytes]:
    """M leaves appended in batches, as the hook stores them; returns (seconds, root)."""
    tree = merkle.MemoryTree()
    start = time.perf_counter()
    frontier = ""
    with engine_for(url) as eng:
        for at in range(0, m, BATCH):
            leaves = []
            for i in range(at, min(m, at + BATCH)):
                h = merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest())
                tree.append_hash(h)
                leaves.append((f"e{i}", f"h{i // 10}", h))
            with eng.begin() as conn:
                frontier = tlog.append_leaves(conn, at, leaves, tlog.parse_frontier(at, frontier))
        with eng.begin() as conn:
            conn.execute(
                tlog._head.update().where(tlog._head.c.id == 1).values(size=m, frontier=frontier)
            )
    return time.perf_counter() - start, tree.root()


def proofs(url: str, m: int, root: bytes, samples: int) -> dict[str, Any]:
    rng = random.Random(14)
    incl_t, incl_n, cons_t, cons_n = [], [], [], []
    with engine_for(url) as eng, eng.connect() as conn:
        t0 = time.perf_counter()
        assert tlog.root_at(conn, m) == root
        root_ms = 1000 * (time.perf_counter() - t0)
        for _ in range(samples):
            index = rng.randrange(m)
            t0 = time.perf_counter()
            path = tlog.inclusion(conn, index, m)
            incl_t.append(time.perf_counter() - t0)
            incl_n.append(len(path))
            leaf = tlog.read_subtrees(conn, [(0, index)])[(0, index)]
            merkle.verify_inclusion(leaf, index, m, path, root)
            old = rng.randrange(1, m)
            t0 = time.perf_counter()
            path = tlog.consistency(conn, old, m)
            cons_t.append(time.perf_counter() - t0)
            cons_n.append(len(path))
            merkle.verify_consistency(old, m, tlog.root_at(conn, old), root, path)
    return {
        "root_ms": round(root_ms, 2),
        "inclusion_ms_median": round(1000 * statistics.median(incl_t), 2),
        "inclusion_ms_max": round(1000 * max(incl_t), 2),
        "inclusion_hashes_max": max(incl_n),
        "inclusion_bytes_max": 32 * max(incl_n),
        "consistency_ms_median": round(1000 * statistics.median(cons_t), 2),
        "consistency_ms_max": round(1000 * max(cons_t), 2),
        "consistency_hashes_max": max(cons_n),
        "consistency_bytes_max": 32 * max(cons_n),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--ops", type=int, help="ops pushed per run (a multiple of 10)")
    p.add_argument("--rounds", type=int, default=5, help="push rounds per server")
    p.add_argument("--backends", help="comma-separated: sqlite,postgresql")
    p.add_argument("--events", type=int)
    p.add_argument("--leaves", type=int)
    args = p.parse_args()
    n = args.events or (300 if args.quick else 2000)
    ops = args.ops or (200 if args.quick else 1000)
    m = args.leaves or (100_000 if args.quick else 1_000_000)
    default = "sqlite" if args.quick else "sqlite,postgresql"
    backends = (args.backends or default).split(",")
    out: dict[str, Any] = {"bench": "log", "ops": ops, "events": n, "leaves": m, "backends": {}}
    with tempfile.TemporaryDirectory() as tmp:
        factory = DatabaseFactory(Path(tmp))
        handle = None
        if "postgresql" in backends:
            factory.pg_uri, handle = start_embedded_postgres(Path(tmp) / "pg")
        try:
            for backend in backends:
                push = push_cost(factory, backend, ops, args.rounds, Path(tmp))
                print(
                    f"{backend}: sync push of {ops} ops {min(push['without_log_s'])}s without "
                    f"the log, {min(push['with_log_s'])}s with it (x{push['ratio']}, median "
                    f"of rounds x{push['ratio_median_of_rounds']}; budget x{PUSH_BUDGET})"
                )
                cost = append_cost(factory, backend, n)
                print(
                    f"{backend}: {n} appends {cost['without_log_s']}s without the log, "
                    f"{cost['with_log_s']}s with it (x{cost['ratio']})"
                )
                url = factory.fresh(backend)
                built, root = build_log(url, m)
                scale = proofs(url, m, root, samples=50)
                print(
                    f"{backend}: {m} leaves stored in {built:.1f}s; inclusion "
                    f"{scale['inclusion_ms_median']} ms ({scale['inclusion_bytes_max']} B), "
                    f"consistency {scale['consistency_ms_median']} ms "
                    f"({scale['consistency_bytes_max']} B)"
                )
                out["backends"][backend] = {
                    "push": push,
                    "append": cost,
                    "build_s": round(built, 1),
                    "proofs": scale,
                }
        finally:
            if handle is not None:
                handle.cleanup()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
