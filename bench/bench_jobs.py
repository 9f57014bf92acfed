"""flag_overdue and daily_summary over 10k, 100k and 1M hazards on PostgreSQL.

The world: the city, three districts, 120 sites; N hazards bulk-loaded with COPY straight into
the ``hazard`` projection (not through the service), spread like two years of real work: most
closed, some cancelled, open ones with future deadlines, a tenth long overdue and already
flagged. On top, DUE hazards whose deadline has just passed: they get real sealed chains
(``reported`` + ``assigned``, built with ``shared.chain``) because flag_overdue appends to them
through the service.

For each size, on a fresh database:
- flag_overdue with DUE hazards falling due (the run that does work), then again with none
  (the every-5-minutes steady state: the scan alone);
- daily_summary: yesterday's snapshot for the city and each district (computed and stored).
Then, at 100k, flag_overdue with 2×DUE falling due, to show the cost follows what falls due.

The baseline, measured in the same run on an identical database: flag_overdue one event per
unit through ``hazards.append`` (the way it ran before the batches), and the summary counted
hazard by hazard in Python (``compute(per_hazard=True)``, which must give the same figures).

Usage: python bench/bench_jobs.py [--sizes 10000,100000,1000000] [--due 1000] [--quick]
Ends with one JSON line: the figures at the largest size and the same-run ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.context import SYSTEM_ACTOR  # noqa: E402
from server.db import make_engine  # noqa: E402
from server.hazards import service as hazards  # noqa: E402
from server.hazards.models import Hazard  # noqa: E402
from server.jobs.pages import by_deadline  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.scheduler import run_job  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.summaries import service as summaries  # noqa: E402
from server.testing import pg_admin_uri, start_embedded_postgres  # noqa: E402
from server.uow import unit_of_work  # noqa: E402
from shared.chain import Actor, EventType, decide, fold, seal_event  # noqa: E402
from shared.clock import to_iso  # noqa: E402
from shared.roles import Role  # noqa: E402

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Wuhai; the summary is for the 19th
CITY = "150300"
DISTRICTS = ["150302", "150303", "150304"]
INDUSTRIES = ["mine", "chemical", "high_rise", "crowded_venue"]
COLOURS = ["red", "orange", "yellow", "blue"]
INSPECTOR = Actor("bench-inspector", Role.inspector, "检查员")
OFFICER = Actor("bench-officer", Role.officer, "监管员")
COLUMNS = (
    "id", "site_id", "district_id", "industry", "severity", "state", "title", "description",
    "reported_by", "reported_at", "responsible_unit", "responsible_person", "deadline", "overdue",
    "escalation_level", "plan_complete", "inspection_id", "event_count", "last_hash",
    "updated_at", "closed_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "hazard_id", "seq", "type", "actor_id", "actor_role", "at", "payload", "next_owner",
    "next_deadline", "prev_hash", "hash",
)  # fmt: skip


def _seed(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    conn.execute(
        "INSERT INTO district (id, name, name_en, level, parent_id) VALUES (%s, '乌海市', '', 'city', NULL)",
        (CITY,),
    )
    for d in DISTRICTS:
        conn.execute(
            "INSERT INTO district (id, name, name_en, level, parent_id) VALUES (%s, %s, '', 'district', %s)",
            (d, f"区{d}", CITY),
        )
    sites = []
    for i in range(120):
        sid, district, industry = str(uuid.uuid4()), DISTRICTS[i % 3], INDUSTRIES[i % 4]
        conn.execute(
            "INSERT INTO site (id, name, industry, site_type, district_id, risk_colour, address,"
            " contact_name, contact_phone, active, created_at)"
            " VALUES (%s, %s, %s, 'mall', %s, %s, '', '', '', true, %s)",
            (sid, f"场所{i}", industry, district, COLOURS[i % 4], NOW - timedelta(days=800)),
        )
        sites.append((sid, district, industry))
    return sites


def _bulk_rows(n: int, sites, rng: random.Random):
    """Two years of hazards that do not fall due now; yields COPY rows."""
    for i in range(n):
        sid, district, industry = sites[i % len(sites)]
        reported = NOW - timedelta(days=rng.uniform(1, 730))
        severity = "major" if rng.random() < 0.08 else "general"
        r = rng.random()
        deadline = reported + timedelta(days=rng.choice([3, 7, 15, 30]))
        closed_at = None
        overdue = False
        if r < 0.60:
            state = "closed"
            closed_at = updated = min(
                reported + timedelta(days=rng.uniform(1, 40)), NOW - timedelta(hours=1)
            )
        elif r < 0.66:
            state, updated = "cancelled", reported + timedelta(hours=3)
        elif r < 0.82:  # open, deadline still ahead
            state = rng.choice(["assigned", "rectifying"])
            reported = NOW - timedelta(days=rng.uniform(1, 20))
            deadline = NOW + timedelta(days=rng.uniform(1, 60))
            updated = reported + timedelta(hours=1)
        elif r < 0.92:  # long overdue, flagged long ago
            state, overdue = "rectifying", True
            deadline = min(deadline, NOW - timedelta(days=2))
            updated = deadline + timedelta(minutes=5)
        else:
            state = rng.choice(["reported", "in_review", "verified"])
            updated = reported + timedelta(hours=2)
            deadline = None if state == "reported" else deadline
        yield (
            str(uuid.uuid4()), sid, district, industry, severity, state, f"批量隐患{i}", "",
            INSPECTOR.id, reported, "单位" if deadline else None, "负责人" if deadline else None,
            deadline, overdue, 1 if severity == "major" else 0, False,
            f"insp-{i // 3}", 2, "0" * 64, updated, closed_at,
        )  # fmt: skip


def _due_chains(count: int, sites, rng: random.Random):
    """Hazards whose deadline passed in the last few minutes, with real sealed chains."""
    hazards, events = [], []
    for i in range(count):
        sid, district, industry = sites[i % len(sites)]
        hid = str(uuid.uuid4())
        deadline = NOW - timedelta(minutes=rng.uniform(0.5, 4.5))
        assigned_at = deadline - timedelta(days=7)
        reported_at = assigned_at - timedelta(hours=2)
        payload = {
            "site_id": sid,
            "title": f"到期隐患{i}",
            "severity": "general",
            "industry": industry,
        }
        d1 = decide(None, EventType.reported, INSPECTOR, payload, reported_at)
        e1 = seal_event(
            event_id=hid, hazard_id=hid, decision=d1, actor=INSPECTOR, at=reported_at, prev=None
        )
        v1 = fold([e1])
        d2 = decide(
            v1, EventType.assigned, OFFICER,
            {"responsible_unit": "单位", "responsible_person": "负责人", "deadline": to_iso(deadline)},
            assigned_at,
        )  # fmt: skip
        e2 = seal_event(
            event_id=str(uuid.uuid4()),
            hazard_id=hid,
            decision=d2,
            actor=OFFICER,
            at=assigned_at,
            prev=v1,
        )
        v = fold([e1, e2])
        hazards.append((
            hid, sid, district, industry, v.severity, v.state.value, v.title, "", INSPECTOR.id,
            reported_at, "单位", "负责人", deadline, False, 0, False, None, 2, v.last_hash,
            assigned_at, None,
        ))  # fmt: skip
        for e in (e1, e2):
            events.append((
                e.id, e.hazard_id, e.seq, e.type, e.actor_id, e.actor_role, e.at,
                json.dumps(e.payload, ensure_ascii=False),
                json.dumps(e.next_owner, ensure_ascii=False) if e.next_owner is not None else None,
                e.next_deadline, e.prev_hash, e.hash,
            ))  # fmt: skip
    return hazards, events


def _load(url: str, n: int, due: int, seed: int) -> None:
    rng = random.Random(seed)
    with psycopg.connect(url) as conn:
        sites = _seed(conn)
        with conn.cursor() as cur, cur.copy(f"COPY hazard ({', '.join(COLUMNS)}) FROM STDIN") as cp:
            for row in _bulk_rows(n - due, sites, rng):
                cp.write_row(row)
        hazards, events = _due_chains(due, sites, rng)
        with conn.cursor() as cur, cur.copy(f"COPY hazard ({', '.join(COLUMNS)}) FROM STDIN") as cp:
            for row in hazards:
                cp.write_row(row)
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY hazard_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as cp,
        ):
            for row in events:
                cp.write_row(row)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def flag_one_by_one(engine, now: datetime) -> int:
    """The baseline: what flag_overdue did before batches, one ``append`` and commit per hazard."""
    from sqlmodel import Session, col, select

    from server.uow import run_unit
    from shared.chain import DEADLINE_STATES

    due = (
        select(Hazard.id, Hazard.deadline)
        .where(col(Hazard.state).in_([s.value for s in DEADLINE_STATES]))
        .where(col(Hazard.deadline) < now)
        .where(Hazard.overdue.is_(False))
    )
    flagged = 0
    with Session(engine, expire_on_commit=False) as session:
        for hid, deadline in list(by_deadline(session, due)):
            run_unit(
                session,
                lambda hid=hid, deadline=deadline: hazards.append(
                    session, actor=SYSTEM_ACTOR, hazard_id=hid, event_type=EventType.overdue,
                    payload={}, now=now, dedupe_key=f"overdue:{hid}:{to_iso(deadline)}",
                ),
            )  # fmt: skip
            flagged += 1
    return flagged


def summaries_both(engine, now: datetime) -> tuple[float, float]:
    """Yesterday's figures for the city and each district, aggregated and per hazard (equal)."""
    day = now.date() - timedelta(days=1)
    with unit_of_work(engine) as s:
        scopes = summaries.scope_districts(s)
        t_new, fast = _timed(lambda: summaries.compute(s, day, "Asia/Shanghai", scopes))
        t_old, slow = _timed(
            lambda: summaries.compute(s, day, "Asia/Shanghai", scopes, per_hazard=True)
        )
    assert fast == slow
    return t_new, t_old


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _database(admin_uri: str, template: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_uri(admin_uri), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return pg_admin_uri(admin_uri, name)


def _drop(admin_uri: str, url: str) -> None:
    name = url.split("?")[0].rsplit("/", 1)[1]
    with psycopg.connect(pg_admin_uri(admin_uri), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(
    admin_uri: str, template: str, n: int, due: int, settings: Settings, summary: bool,
    baseline: bool = False,
) -> dict:  # fmt: skip
    url = _database(admin_uri, template)
    try:
        t_load, _ = _timed(lambda: _load(url, n, due, seed=n + due))
        engine = make_engine(url)
        if baseline:
            t_flag, flagged = _timed(lambda: flag_one_by_one(engine, NOW))
        else:
            t_flag, flagged = _timed(lambda: run_job(engine, "flag_overdue", NOW, settings))
        assert flagged == due, (flagged, due)
        idle = []
        for _ in range(5):  # the steady state every 5 minutes: nothing due, the scan alone
            t, again = _timed(lambda: run_job(engine, "flag_overdue", NOW, settings))
            assert again == 0
            idle.append(t)
        t_idle = statistics.median(idle)
        with engine.connect() as conn:
            plan = (
                conn.execute(
                    text(
                        "EXPLAIN SELECT id, deadline FROM hazard WHERE state IN ('assigned', 'rectifying')"
                        " AND deadline < :now AND overdue IS false ORDER BY deadline, id LIMIT 500"
                    ),
                    {"now": NOW},
                )
                .scalars()
                .all()
            )
        out = {
            "n": n,
            "due": due,
            "load_s": t_load,
            "flag_s": t_flag,
            "idle_ms": t_idle * 1000,
            "plan": plan,
        }
        if summary:
            t_sum, result = _timed(lambda: run_job(engine, "daily_summary", NOW, settings))
            assert (
                result["stored"] == 4
                and result["date"] == (NOW.date() - timedelta(days=1)).isoformat()
            )
            out["summary_s"] = t_sum
            out["summary_new_s"], out["summary_old_s"] = summaries_both(engine, NOW)
        engine.dispose()
        return out
    finally:
        _drop(admin_uri, url)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--due", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="10k hazards, 500 due: a minute")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.due = "10000", 500
    sizes = [int(x) for x in args.sizes.split(",")]
    settings = Settings(env="test", secret_key="bench-" + "k" * 42, scheduler="off")
    with tempfile.TemporaryDirectory() as tmp:
        admin_uri, handle = start_embedded_postgres(Path(tmp) / "pg")
        try:
            template = f"bench_template_{uuid.uuid4().hex[:6]}"
            with psycopg.connect(pg_admin_uri(admin_uri), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{template}"')
            upgrade(pg_admin_uri(admin_uri, template))
            print(
                f"PostgreSQL (embedded), now = {to_iso(NOW)}, {args.due} hazards falling due per run\n"
            )
            print(
                f"{'hazards':>9} {'due':>6} {'load':>8} {'flag_overdue':>13} {'per due':>9} {'idle scan':>10} {'daily_summary':>14}"
            )
            rows = []
            for n in sizes:
                r = measure(admin_uri, template, n, args.due, settings, summary=True)
                rows.append(r)
                print(
                    f"{n:>9,} {r['due']:>6,} {r['load_s']:>7.1f}s {r['flag_s']:>12.2f}s {1000 * r['flag_s'] / r['due']:>7.1f}ms {r['idle_ms']:>8.1f}ms {r['summary_s']:>13.2f}s",
                    flush=True,
                )
            top = rows[-1]
            old = measure(admin_uri, template, top["n"], args.due, settings, False, baseline=True)
            print(
                f"{top['n']:>9,} {old['due']:>6,} {old['load_s']:>7.1f}s {old['flag_s']:>12.2f}s"
                f" {1000 * old['flag_s'] / old['due']:>7.1f}ms {'(baseline: one unit per event)':>25}"
            )
            print(
                "\nsummary at each size, SQL aggregates vs per hazard (same figures): "
                + ", ".join(
                    f"{r['n']:,}: {r['summary_new_s']:.2f}s vs {r['summary_old_s']:.2f}s"
                    for r in rows
                )
            )
            mid = sizes[1] if len(sizes) > 1 else sizes[0]
            r2 = (
                measure(admin_uri, template, mid, 2 * args.due, settings, summary=False)
                if len(sizes) > 1
                else None
            )
            if r2:
                print(
                    f"{mid:>9,} {r2['due']:>6,} {r2['load_s']:>7.1f}s {r2['flag_s']:>12.2f}s {1000 * r2['flag_s'] / r2['due']:>7.1f}ms {r2['idle_ms']:>8.1f}ms {'-':>14}"
                )
            print("\nratios between consecutive sizes (same number falling due):")
            for a, b in zip(rows, rows[1:], strict=False):
                print(
                    f"  {a['n']:>9,} → {b['n']:>9,} (×{b['n'] / a['n']:.0f} hazards):"
                    f" flag_overdue ×{b['flag_s'] / a['flag_s']:.2f},"
                    f" idle scan ×{b['idle_ms'] / a['idle_ms']:.2f},"
                    f" daily_summary ×{b['summary_s'] / a['summary_s']:.2f}"
                )
            base = next(r for r in rows if r["n"] == mid)
            if r2:
                print(
                    f"  at {mid:,}: {args.due:,} → {2 * args.due:,} falling due:"
                    f" flag_overdue ×{r2['flag_s'] / base['flag_s']:.2f}"
                )
            print(f"\nplan of the due scan at {rows[-1]['n']:,} hazards:")
            for line in rows[-1]["plan"]:
                print("  " + line)
            result = {
                "bench": "jobs",
                "hazards": top["n"],
                "due": args.due,
                "flag_overdue_s": round(top["flag_s"], 3),
                "flag_overdue_baseline_s": round(old["flag_s"], 3),
                "flag_overdue_speedup": round(old["flag_s"] / top["flag_s"], 1),
                "daily_summary_job_s": round(top["summary_s"], 3),
                "summary_s": round(top["summary_new_s"], 3),
                "summary_baseline_s": round(top["summary_old_s"], 3),
                "summary_speedup": round(top["summary_old_s"] / top["summary_new_s"], 1),
            }
            print(json.dumps(result))
        finally:
            handle.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
