"""The summary's SQL aggregates give exactly the figures of the old per-hazard count.

A seeded world on each database: a few hundred hazards written straight into the projection
(spread over two years, every state, deadlines before and after the cut-off, closed on time and
late, cancelled, escalated), plus real chains through the services, some changed after the day
(those are folded back, on both paths). ``compute`` with and without ``per_hazard`` must agree
to the last figure, for past days and for today's live figures."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from server.hazards.models import Hazard
from server.summaries import service
from tests.jobs.world import CITY, HAIBOWAN, STREET, WUDA, World

TZ = "Asia/Shanghai"
NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def _seed(world: World, n: int, rng: random.Random) -> None:
    sites = [(sid, key) for key, sid in world.site_ids.items()]
    district_of = {"mall": HAIBOWAN, "plant": HAIBOWAN, "school": STREET, "mine": WUDA}
    rows = []
    for i in range(n):
        sid, key = rng.choice(sites)
        reported = NOW - timedelta(days=rng.uniform(0, 500), minutes=rng.randint(0, 1440))
        state = rng.choice(
            ["reported", "assigned", "rectifying", "in_review", "verified", "closed", "cancelled"]
        )
        deadline = (
            None
            if state == "reported" or rng.random() < 0.1
            else reported + timedelta(days=rng.choice([1, 3, 7, 30]), hours=rng.randint(0, 23))
        )
        updated = reported + timedelta(days=rng.uniform(0, 60))
        if rng.random() < 0.1:  # changed after the days asked: folded back (no chain: skipped)
            updated = NOW + timedelta(hours=1)
        rows.append(
            Hazard(
                id=str(uuid.uuid4()),
                site_id=sid,
                district_id=district_of.get(key, WUDA),
                industry=rng.choice(["mine", "chemical", "crowded_venue"]),
                severity=rng.choice(["general", "general", "major"]),
                state=state,
                title=f"种子隐患{i}",
                reported_by="seed",
                reported_at=reported,
                deadline=deadline,
                overdue=rng.random() < 0.3,
                escalation_level=rng.choice([0, 0, 1, 2]),
                inspection_id=rng.choice([None, f"insp-{i % 17}"]),
                event_count=1,
                last_hash="0" * 64,
                updated_at=updated,
                closed_at=updated if state == "closed" else None,
            )
        )
    with world.session() as s:
        s.add_all(rows)


@pytest.fixture
def seeded(world: World, clock) -> World:
    rng = random.Random(13)
    _seed(world, 400, rng)
    # real chains, some of them moved on after the days the test asks for
    clock.set(NOW - timedelta(days=6))
    ids = [world.report("inspector", "mall", f"链{i}", rng.choice(["general", "major"])) for i in range(6)]  # fmt: skip
    for hid in ids[:4]:
        world.assign(hid, days=rng.choice([1, 2, 10]))
    clock.set(NOW - timedelta(days=1))
    world.close(ids[0])
    world.event("officer", ids[5], "cancelled", reason="误报")
    return world


@pytest.mark.parametrize("days_back", [1, 3, 7, 40])
def test_aggregates_equal_the_per_hazard_count(seeded: World, days_back: int):
    day = date(2026, 3, 10) - timedelta(days=days_back)
    scopes = [CITY, HAIBOWAN, WUDA, STREET]
    with seeded.session() as s:
        fast = service.compute(s, day, TZ, scopes)
        slow = service.compute(s, day, TZ, scopes, per_hazard=True)
    assert fast == slow
    assert fast[CITY]["totals"]["open"] > 0 and fast[CITY]["longest_overdue"]


def test_live_today_equals_the_per_hazard_count(seeded: World):
    today = date(2026, 3, 10)
    with seeded.session() as s:
        fast = service.compute(s, today, TZ, [CITY, WUDA], until=NOW)
        slow = service.compute(s, today, TZ, [CITY, WUDA], until=NOW, per_hazard=True)
    assert fast == slow
    assert any(d["new"] for d in fast[CITY]["trend"])


def test_fallback_inspection_count_equals_the_per_hazard_count(seeded: World, monkeypatch):
    from sqlalchemy import MetaData

    monkeypatch.setattr(service, "metadata", MetaData())
    day = date(2026, 3, 5)
    with seeded.session() as s:
        fast = service.compute(s, day, TZ, [CITY, HAIBOWAN])
        slow = service.compute(s, day, TZ, [CITY, HAIBOWAN], per_hazard=True)
    assert fast == slow
    assert fast[CITY]["rates"]["major_per_1000_inspections"]["inspections"] > 0
