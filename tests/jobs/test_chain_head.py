"""An append folds one step on from the stored head (``hazard.head``) instead of the whole
chain: the head always equals the fold of the chain, a hazard without one (older rows) is
folded and gets one, and two writers racing for the next link are settled by the
compare-and-swap on ``last_hash`` (the loser's unit runs again from the new head)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session

from server.hazards import service as hazards
from server.hazards.models import Hazard
from server.uow import Collision, run_unit
from shared.chain import EventType, fold
from tests.jobs.world import World


def _head_is_the_fold(world: World, hid: str) -> None:
    with world.session() as s:
        h = s.get(Hazard, hid)
        folded = fold(hazards.load_events(s, hid))
        assert hazards._stored_view(h) == folded
        assert h.head["last_hash"] == h.last_hash == folded.last_hash


def test_the_head_is_the_fold_after_every_event(world: World, clock):
    hid = world.report("inspector", "plant", "液氯储罐", "major")  # + the system's escalation
    _head_is_the_fold(world, hid)
    world.assign(hid, days=3)
    _head_is_the_fold(world, hid)
    world.event("officer", hid, "note", text="已电话督促")
    clock.advance(days=4)
    world.close(hid)  # a plan, the rectification, its check and closure
    _head_is_the_fold(world, hid)
    with world.session() as s:
        assert hazards.verify_one(s, hid) is None


def test_a_hazard_without_a_head_is_folded_and_gets_one(world: World, clock):
    hid = world.report("inspector", "mall", "通道堵塞")
    with world.session() as s:  # as a row from before migration 0015
        s.execute(update(Hazard).where(Hazard.id == hid).values(head=None))
    world.assign(hid, days=2)
    _head_is_the_fold(world, hid)
    with world.session() as s:  # a head of another fold version is not trusted either
        h = s.get(Hazard, hid)
        s.execute(update(Hazard).where(Hazard.id == hid).values(head={**h.head, "_key": "v0"}))
    world.event("officer", hid, "note", text="备注")
    _head_is_the_fold(world, hid)


def test_a_writer_behind_the_head_collides_and_retries(world: World, clock, engine):
    hid = world.report("inspector", "mall", "灭火器过期")
    world.assign(hid, days=2)
    with Session(engine, expire_on_commit=False) as late:
        stale = late.get(Hazard, hid)  # its head, stale once the other writer commits
        world.event("officer", hid, "note", text="先到")

        def note():
            return hazards.append(
                late, actor=world_actor(world, late), hazard_id=hid,
                event_type=EventType.note, payload={"text": "后到"}, now=clock.now(),
            )  # fmt: skip

        with pytest.raises(Collision):
            note()
        late.rollback()
        stale = late.get(Hazard, hid)
        world.event("officer", hid, "note", text="又先到")  # stale again
        done = run_unit(late, note, retries=3)  # the retry reads the new head
        assert stale.last_hash == done.event.hash  # the rollback expired the stale copy
    assert done.event.seq == 5 and not done.duplicate
    with world.session() as s:
        assert hazards.verify_one(s, hid) is None
        texts = [e.payload.get("text") for e in hazards.load_events(s, hid)]
    assert texts[-3:] == ["先到", "又先到", "后到"]
    _head_is_the_fold(world, hid)


def world_actor(world: World, session: Session):
    return world.caller(session, "officer").actor


def test_the_deadline_job_reads_heads(world: World, clock, run):
    ids = [world.report("inspector", "mall", f"期限{i}") for i in range(3)]
    for hid in ids:
        world.assign(hid, days=1)
    with world.session() as s:  # one without a head: its chain is read for it alone
        s.execute(update(Hazard).where(Hazard.id == ids[0]).values(head=None))
    clock.set(clock.now() + timedelta(days=2))
    assert run("flag_overdue", clock.now()) == 3
    for hid in ids:
        _head_is_the_fold(world, hid)
