"""Set-based push (issue 13): a batch costs a fixed number of statements whatever its size,
and a chain moved by another writer while a batch is staged makes the whole batch run again
from the new head, never a broken or forked chain."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event
from sqlmodel import Session, select
from tablets import op, push_raw, report_payload

from server.demo import did
from server.hazards import service as hazards
from server.hazards.models import HazardEvent
from server.uow import unit_of_work
from shared.chain import Actor
from shared.roles import Role

DEVICE = "tablet-set-0001"


def _notes(first_seq: int, hid: str, n: int) -> list[dict]:
    note = {"hazard_id": hid, "type": "note", "payload": {"text": "巡查备注"}}
    return [op(first_seq + k, "hazard.event", note) for k in range(n)]


def _batch(first_seq: int, notes: int) -> tuple[str, list[dict]]:
    hid = str(uuid.uuid4())
    report = op(first_seq, "hazard.report", report_payload(hid), op_id=hid)
    return hid, [report, *_notes(first_seq + 1, hid, notes)]


def test_a_batch_costs_the_same_statements_whatever_its_size(live_demo, engine):
    """Per op the old push ran ~15 statements; a staged batch reads and writes by set, so 60
    ops cost what 10 do (an executemany counts once, as it is one round of the driver)."""
    http = live_demo.login("inspector")
    counted: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        counted.append(statement)

    push_raw(http, DEVICE, _batch(1, 1)[1])  # the device's first contact registers it
    event.listen(engine, "before_cursor_execute", count)
    try:
        small_hid, small = _batch(3, 9)
        body = push_raw(http, DEVICE, small)
        small_count = len(counted)
        counted.clear()
        big_hid, big = _batch(13, 49)
        big_body = push_raw(http, DEVICE, big)
        big_count = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert {r["status"] for r in body["results"] + big_body["results"]} == {"applied"}
    assert big_body["last_seq"] == 62
    assert big_count <= small_count + 2, (small_count, big_count)
    assert small_count < 60, small_count
    with Session(engine) as s:
        for hid, n in ((small_hid, 10), (big_hid, 50)):
            assert hazards.verify_one(s, hid) is None
            rows = s.exec(select(HazardEvent).where(HazardEvent.hazard_id == hid)).all()
            assert len(rows) == n
    seqs = [r["server_seq"] for r in big_body["results"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 50  # one feed position each, in order


def test_a_chain_moved_meanwhile_retries_the_whole_batch(live_demo, engine, db_url, monkeypatch):
    """Another writer appends to a hazard after the batch read its head and before the batch
    flushes: the compare-and-swap fails, nothing of the batch is kept, and the retry stages
    its notes after the other writer's event."""
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer: the batch's device-row write holds it throughout")
    http = live_demo.login("inspector")
    hid, first = _batch(1, 0)
    push_raw(http, DEVICE, first)
    officer = Actor(did("user", "officer"), Role.officer, "执法人员")
    real, intruded = hazards.ChainBatch.before_flush, []

    def intrude(self):
        if not intruded:
            intruded.append(1)
            with unit_of_work(engine) as other:
                hazards.append(
                    other,
                    actor=officer,
                    hazard_id=hid,
                    event_type="note",
                    payload={"text": "另一位执法人员的备注"},
                    now=self.now,
                )
        return real(self)

    monkeypatch.setattr(hazards.ChainBatch, "before_flush", intrude)
    body = push_raw(http, DEVICE, _notes(2, hid, 3))
    assert intruded == [1]
    assert [r["status"] for r in body["results"]] == ["applied"] * 3
    with Session(engine) as s:
        assert hazards.verify_one(s, hid) is None
        chain = hazards.load_events(s, hid)
    assert [e.type for e in chain] == ["reported", "note", "note", "note", "note"]
    assert chain[1].actor_id == officer.id  # the other writer's event comes first
    assert [e.id for e in chain[2:]] == [r["op_id"] for r in body["results"]]
