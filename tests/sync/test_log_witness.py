"""A real tablet core as a witness of the log, against a server built by the command line: it
pins the key at login, follows the log from checkpoint to checkpoint with consistency proofs,
proves the events it received are in it, and when the history it saw is rewritten (even by
someone who holds the signing key) it says so, keeps saying so and tells the server."""

from __future__ import annotations

import base64
import json

from sqlalchemy import delete, insert, select, text, update
from tablets import MALL

from server.hazards.models import HazardEvent
from server.testing import engine_for
from server.tlog.log import event_leaf
from server.tlog.models import LogLeaf, LogNode
from shared import checkpoint as note
from shared import merkle


def _rewrite_history(db_url: str) -> str:
    """The DBA edits the first logged event's leaf and rebuilds every stored subtree, so the
    log is self-consistent again; returns the event id."""
    leaf_t, node_t = LogLeaf.__table__, LogNode.__table__
    with engine_for(db_url) as engine, engine.begin() as conn:
        first = conn.execute(select(leaf_t).where(leaf_t.c.idx == 0)).one()
        conn.execute(
            update(HazardEvent.__table__)
            .where(HazardEvent.__table__.c.id == first.event_id)
            .values(hash="ab" * 32)
        )
        conn.execute(
            update(leaf_t).where(leaf_t.c.idx == 0).values(leaf_hash=event_leaf("ab" * 32).hex())
        )
        hashes = [
            bytes.fromhex(h)
            for h in conn.execute(select(leaf_t.c.leaf_hash).order_by(leaf_t.c.idx)).scalars()
        ]
        tree = merkle.MemoryTree.of_hashes(hashes)
        conn.execute(delete(node_t))
        rows = [
            {"level": lv, "idx": i, "hash": h.hex()}
            for lv, level in enumerate(tree.levels)
            if lv > 0
            for i, h in enumerate(level)
        ]
        conn.execute(insert(node_t), rows)
        return first.event_id


def test_a_tablet_follows_the_log_and_catches_a_rewritten_history(own_cli_server, tablets):
    server = own_cli_server
    tablet = tablets(server.url, "officer")
    with server.login("officer") as officer:
        key = officer.get("/log/public-key").json()
    assert tablet.store.meta("log_key") == key["public_key"]  # pinned at login

    first = tablet.sync()
    assert first.ok and first.log_failures == [], first.errors
    held = note.verify(tablet.store.meta("log_checkpoint"), base64.b64decode(key["public_key"]))
    proven = tablet.store.read("SELECT * FROM log_proven")
    assert proven and all(p["size"] == held.size for p in proven)

    # the log grows; the next sync follows it with a consistency proof
    with server.login("officer") as officer:
        body = {"site_id": MALL, "title": "见证测试隐患", "severity": "general"}
        assert officer.post("/hazards", json=body).status_code == 201
    server.run("jobs", "run", "log_checkpoint")
    second = tablet.sync()
    assert second.ok and second.log_failures == [], second.errors
    grown = note.verify(tablet.store.meta("log_checkpoint"), base64.b64decode(key["public_key"]))
    assert grown.size > held.size

    # history rewritten, and signed by whoever holds the key: the tablet will not follow
    victim = _rewrite_history(server.db_url)
    server.run("log", "checkpoint")
    third = tablet.sync()
    assert third.log_failures == ["consistency_failed"]
    assert grown.body() in tablet.store.meta("log_checkpoint")  # the trusted one is kept
    again = tablet.sync()
    assert again.log_failures == ["consistency_failed"]  # still shown, once
    rows = tablet.store.read("SELECT reason, reported FROM witness_failure")
    assert rows == [{"reason": "consistency_failed", "reported": 1}]
    with engine_for(server.db_url) as engine, engine.connect() as conn:
        reports = conn.execute(text("SELECT reason, detail FROM witness_report")).all()
    assert [r[0] for r in reports] == ["consistency_failed"]
    detail = reports[0][1] if isinstance(reports[0][1], dict) else json.loads(reports[0][1])
    assert detail["held_size"] == grown.size
    assert victim  # the rewritten event was the log's first
