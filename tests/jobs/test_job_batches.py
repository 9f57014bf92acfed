"""A job's events go in as one set per batch (``hazards.append_many``): a refused event is
dropped alone, the others land with chains that verify, feed rows at consecutive positions,
and the same events equal what the one-by-one ``append`` writes."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from server.context import SYSTEM_ACTOR
from server.hazards import service as hazards
from server.hazards.models import Hazard
from server.sync.models import SyncChange
from shared.chain import EventType, Refused
from shared.clock import to_iso
from tests.jobs.world import World


def _due(world: World, clock, n: int) -> list[str]:
    ids = []
    for i in range(n):
        ids.append(world.report("inspector", "mall", f"批量{i}"))
        world.assign(ids[-1], days=1)
    return ids


def test_a_refused_event_is_dropped_alone(world: World, clock):
    ids = _due(world, clock, 4)
    world.close(ids[1])  # no longer in a deadline state: overdue is refused
    clock.advance(days=2)
    now = clock.now()
    with world.session() as s:
        deadline = {h.id: h.deadline for h in s.exec(select(Hazard)).all()}
        events = [
            hazards.SystemEvent(
                hid, EventType.overdue, {}, f"overdue:{hid}:{to_iso(deadline[hid])}"
            )
            for hid in ids
        ]
        key0 = events[0].dedupe_key
        events.insert(2, hazards.SystemEvent(ids[2], EventType.overdue, {}, key0))  # key taken
        events.append(events[0])  # the same event twice in one batch: once only
        done = hazards.append_many(s, events, now=now)
    kinds = [d.refusal.code if isinstance(d, Refused) else "appended" for d in done]
    # the closed one refused by the rules, the taken key as a duplicate, the repeat because
    # the view has moved on within the batch; the others appended
    assert kinds == ["appended", "invalid_state", "duplicate", "appended", "appended",
                     "already_flagged"]  # fmt: skip
    with world.session() as s:
        for hid in ids:
            assert hazards.verify_one(s, hid) is None
        flagged = s.exec(select(Hazard.id).where(Hazard.overdue.is_(True))).all()
        assert sorted(flagged) == sorted([ids[0], ids[2], ids[3]])
        appended = [done[i].event.id for i in (0, 3, 4)]
        seqs = s.exec(
            select(SyncChange.seq)
            .where(col(SyncChange.entity_id).in_(appended))
            .order_by(SyncChange.seq)
        ).all()
    assert seqs == list(range(seqs[0], seqs[0] + 3))  # positions taken once, consecutive


def test_batched_events_equal_one_by_one_appends(world: World, clock):
    ids = _due(world, clock, 2)
    clock.advance(days=2)
    now = clock.now()
    with world.session() as s:
        [batched] = hazards.append_many(
            s, [hazards.SystemEvent(ids[0], EventType.overdue, {}, "k0")], now=now
        )
        single = hazards.append(
            s, actor=SYSTEM_ACTOR, hazard_id=ids[1], event_type=EventType.overdue, payload={},
            now=now, dedupe_key="k1",
        )  # fmt: skip
    a, b = batched.event, single.event
    assert (a.seq, a.type, a.actor_id, a.at, a.payload, a.next_owner, a.next_deadline) == (
        b.seq, b.type, b.actor_id, b.at, b.payload, b.next_owner, b.next_deadline,
    )  # fmt: skip
    with world.session() as s:
        rows = {h.id: h for h in s.exec(select(Hazard).where(col(Hazard.id).in_(ids))).all()}
    strip = {"id", "number", "title", "last_hash", "reported_at", "updated_at", "deadline", "head"}
    assert {k: v for k, v in rows[ids[0]].model_dump().items() if k not in strip} == {
        k: v for k, v in rows[ids[1]].model_dump().items() if k not in strip
    }
    assert rows[ids[0]].overdue and rows[ids[0]].last_hash == a.hash
    assert now - timedelta(seconds=1) < rows[ids[0]].updated_at <= now
