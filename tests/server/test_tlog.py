"""The transparency log on a real database: every chain event is a leaf in commit order (the
flush hook and migration 0014 agree), roots and proofs from the stored subtrees match a tree
built in memory, checkpoints are signed by the key outside the database, and ``/log/*`` serves
what a witness needs."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from server.demo import did
from server.hazards import service as hazards
from server.hazards.models import HazardEvent
from server.migrate import downgrade, upgrade
from server.scheduler import run_job
from server.sync.models import SyncChange
from server.tlog import log as tlog
from server.tlog.checkpoints import latest
from server.tlog.models import LogLeaf
from server.uow import unit_of_work
from shared import checkpoint as note
from shared import merkle
from shared.chain import Actor, EventType
from shared.roles import Role


def _feed_order_leaves(session: Session) -> list[tuple[str, bytes]]:
    rows = session.execute(
        select(HazardEvent.id, HazardEvent.hash)
        .join(SyncChange, (SyncChange.entity_id == HazardEvent.id) & (SyncChange.kind == "event"))
        .order_by(SyncChange.seq)
    ).all()
    return [(eid, tlog.event_leaf(h)) for eid, h in rows]


def _stored(session: Session) -> list[tuple[str, str]]:
    return [
        (r.event_id, r.leaf_hash) for r in session.exec(select(LogLeaf).order_by(LogLeaf.idx)).all()
    ]


def test_every_event_is_a_leaf_in_feed_order_and_the_stored_tree_answers_proofs(demo):
    with Session(demo) as session:
        expected = _feed_order_leaves(session)
        assert len(expected) == session.execute(text("SELECT COUNT(*) FROM hazard_event")).scalar()
        assert _stored(session) == [(eid, h.hex()) for eid, h in expected]
        tree = merkle.MemoryTree.of_hashes(h for _, h in expected)
        conn = session.connection()
        n = tlog.log_size(conn)
        assert n == tree.size > 30
        for size in (1, 2, 3, n // 2, n - 1, n):
            assert tlog.root_at(conn, size) == tree.root(size)
        for index in (0, n // 3, n - 1):
            proof = tlog.inclusion(conn, index, n)
            assert proof == tree.inclusion_proof(index, n)
            merkle.verify_inclusion(tree.subtree(0, index), index, n, proof, tree.root())
        for old in (1, 5, n // 2, n):
            proof = tlog.consistency(conn, old, n)
            merkle.verify_consistency(old, n, tree.root(old), tree.root(), proof)


def test_migration_0014_backfills_the_same_log_the_hook_writes(db_url, demo):
    with Session(demo) as session:
        recorded = _stored(session)
    downgrade(db_url, "0013")
    upgrade(db_url)
    with Session(demo) as session:
        assert _stored(session) == recorded
        assert tlog.log_size(session.connection()) == len(recorded)


def test_an_append_adds_one_leaf_and_a_rolled_back_one_none(demo, clock):
    hid = did("hazard", "安全出口被货物堵塞")
    officer = Actor(did("user", "officer"), Role.officer)
    with Session(demo) as session:
        before = tlog.log_size(session.connection())
    with pytest.raises(RuntimeError), unit_of_work(demo) as session:
        hazards.append(
            session,
            actor=officer,
            hazard_id=hid,
            event_type=EventType.note,
            payload={"text": "rolled back"},
            now=clock.now(),
        )
        raise RuntimeError("the unit fails after the append")
    with unit_of_work(demo) as session:
        done = hazards.append(
            session,
            actor=officer,
            hazard_id=hid,
            event_type=EventType.note,
            payload={"text": "kept"},
            now=clock.now(),
        )
    with Session(demo) as session:
        conn = session.connection()
        assert tlog.log_size(conn) == before + 1
        assert tlog.leaf_of_event(conn, done.event.id) == (
            before,
            tlog.event_leaf(done.event.hash).hex(),
        )


def test_checkpoint_job_signs_only_when_the_log_grew(demo, settings, clock):
    first = run_job(demo, "log_checkpoint", clock.now(), settings)
    assert first["signed"] is True
    assert run_job(demo, "log_checkpoint", clock.now(), settings) == {
        "signed": False,
        "size": first["size"],
    }
    with Session(demo) as session:
        row = latest(session)
    from server.tlog.keys import public_key

    cp = note.verify(row.note, public_key(settings), settings.log_origin)
    assert (cp.size, cp.root_hex) == (first["size"], first["root"])
    forged = row.note.replace(f"\n{cp.size}\n", f"\n{cp.size + 1}\n")
    with pytest.raises(note.NoteError):
        note.verify(forged, public_key(settings))
    with pytest.raises(note.NoteError):
        note.verify(row.note, base64.b64decode(base64.b64encode(b"\x01" * 32)))


def test_log_endpoints_give_a_witness_what_it_checks(live_demo, settings, clock):
    inspector = live_demo.login("inspector")
    key = inspector.get("/log/public-key").json()
    pub = base64.b64decode(key["public_key"])
    first = inspector.get("/log/checkpoint").json()
    cp = note.verify(first["note"], pub, key["origin"])
    assert (cp.size, cp.root_hex) == (first["size"], first["root"])

    officer = live_demo.login("officer")
    hid = did("hazard", "安全出口被货物堵塞")
    ev = officer.post(f"/hazards/{hid}/events", json={"type": "note", "payload": {"text": "x"}})
    assert ev.status_code in (200, 201), ev.text
    run_job(live_demo.app.state.engine, "log_checkpoint", clock.now(), settings)
    second = inspector.get("/log/checkpoint").json()
    cp2 = note.verify(second["note"], pub)
    assert cp2.size == cp.size + 1
    proof = inspector.get("/log/consistency", params={"from": cp.size, "to": cp2.size}).json()
    merkle.verify_consistency(
        cp.size, cp2.size, cp.root, cp2.root, [bytes.fromhex(p) for p in proof["proof"]]
    )
    last = ev.json()["events"][-1]
    inc = officer.get("/log/inclusion", params={"event_id": last["id"], "size": cp2.size}).json()
    leaf = tlog.event_leaf(last["hash"])
    assert inc["leaf_hash"] == leaf.hex() and inc["index"] == cp2.size - 1
    merkle.verify_inclusion(
        leaf, inc["index"], cp2.size, [bytes.fromhex(p) for p in inc["proof"]], cp2.root
    )
    # bad input: a field-level 422, never a 500
    r = inspector.get("/log/consistency", params={"from": 3, "to": cp2.size + 5})
    assert r.status_code == 422 and "to" in r.json()["fields"]
    r = inspector.get("/log/consistency", params={"from": -1, "to": 2})
    assert r.status_code == 422
    r = inspector.get("/log/inclusion", params={"event_id": "nope", "size": 1})
    assert r.status_code == 404
    r = inspector.post("/log/witness-report", json={"reason": "consistency_failed"})
    assert r.status_code == 201, r.text
    r = inspector.post("/log/witness-report", json={"reason": "Bad Reason!"})
    assert r.status_code == 422
    nan = '{"reason": "consistency_failed", "detail": {"x": NaN}}'
    r = inspector.post(
        "/log/witness-report", content=nan, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422 and "detail" in r.text
    # what PostgreSQL cannot store is refused by name, never a 500 (schemathesis found one)
    deep: list = [1]
    for _ in range(40):
        deep = [deep]
    for bad in ({"k\u0000": 1}, {"x": ["\ud83d"]}, {"a": deep}):
        r = inspector.post(
            "/log/witness-report",
            content=json.dumps({"reason": "consistency_failed", "detail": bad}),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 422 and "detail" in r.json()["fields"], r.text
    r = inspector.post(
        "/log/witness-report", json={"reason": "consistency_failed", "device_id": "tab\u0000id1"}
    )
    assert r.status_code == 422 and "device_id" in r.json()["fields"], r.text
    with Session(live_demo.app.state.engine) as session:
        assert session.execute(text("SELECT reason FROM witness_report")).scalars().all() == [
            "consistency_failed"
        ]
    assert inspector.get("/log/verify").status_code == 403
    assert officer.get("/log/verify").json()["ok"] is True


def test_each_checkpoint_is_dropped_where_an_auditor_keeps_them(demo, settings, clock, tmp_path):
    kept = tmp_path / "auditor"
    dropping = settings.model_copy(update={"log_checkpoint_dir": kept})
    first = run_job(demo, "log_checkpoint", clock.now(), dropping)
    files = sorted(kept.glob("checkpoint-*.txt"))
    assert len(files) == 1 and f"{first['size']:012d}" in files[0].name
    from server.tlog.keys import public_key

    cp = note.verify(files[0].read_text(encoding="utf-8"), public_key(settings))
    assert (cp.size, cp.root_hex) == (first["size"], first["root"])


def test_the_audit_answers_a_witness_what_the_server_holds_of_its_hazards(live_demo):
    """``POST /log/audit``: each hazard's events and stored projection in the form the tablet
    folds to (equal for an untouched hazard), out of scope answered as absent, bad input 422."""
    from shared.chain import ChainEvent, fold, witnessed_projection

    hid = did("hazard", "安全出口被货物堵塞")
    officer = live_demo.login("officer")
    detail = officer.get(f"/hazards/{hid}").json()
    body = officer.post("/log/audit", json={"hazard_ids": [hid, "no-such-hazard", hid]})
    assert body.status_code == 200, body.text
    answers = body.json()["hazards"]
    assert [a["id"] for a in answers] == [hid, "no-such-hazard"]
    mine, gone = answers
    assert gone == {"id": "no-such-hazard", "found": False, "projection": None, "events": []}
    events = [ChainEvent.from_mapping({**e, "hazard_id": hid}) for e in detail["events"]]
    assert [(e["id"], e["seq"], e["hash"]) for e in mine["events"]] == [
        (e.id, e.seq, e.hash) for e in events
    ]
    assert mine["found"] and mine["projection"] == witnessed_projection(fold(events))
    # another district's officer: as absent as an unknown id
    elsewhere = live_demo.login("officer2").post("/log/audit", json={"hazard_ids": [hid]})
    assert elsewhere.json()["hazards"] == [
        {"id": hid, "found": False, "projection": None, "events": []}
    ]
    for bad in (
        {"hazard_ids": []},
        {"hazard_ids": ["x"] * 201},
        {"hazard_ids": [""]},
        {"hazard_ids": ["a\u0000b"]},
        {},
    ):
        r = officer.post("/log/audit", json=bad)
        assert r.status_code == 422 and "hazard_ids" in str(r.json()["fields"]), r.text
