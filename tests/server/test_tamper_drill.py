"""The tamper drill of issue 14, on a server built by the command line: someone with write
access to the database does each of the six things that once passed every check, as careful
as a DBA can be (hashes recomputed, the projection rewritten to match), and both
``hazardchain chains verify`` and the API name each one. Then the log itself is rewritten to
cover an edit, and the checkpoint kept before (``hazardchain log verify --checkpoint``) and the
stored signed one both say so.

A tablet witness (a real ``mobile_app.core`` store and sync client, as the sync tests drive
one) that synced before the tampering syncs after it and names each of the six too, shows it
in plain words and tells the server (``POST /log/witness-report``)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Connection

from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import SyncClient
from mobile_app.core.witness import message
from server.hazards.models import Hazard, HazardEvent
from server.hazards.service import projection_of
from server.sites.models import Site
from server.testing import engine_for
from server.tlog.log import event_leaf
from server.tlog.models import LogLeaf
from shared.chain import ChainEvent, fold
from shared.clock import to_iso

EV = HazardEvent.__table__
HZ = Hazard.__table__
FIELDS = list(ChainEvent.__dataclass_fields__)


def _events(conn: Connection, hid: str) -> list[ChainEvent]:
    rows = conn.execute(
        select(*(EV.c[f] for f in FIELDS)).where(EV.c.hazard_id == hid).order_by(EV.c.seq)
    ).all()
    return [ChainEvent(*r) for r in rows]


def _reproject(conn: Connection, hid: str) -> None:
    """What a careful DBA does after editing a chain: make the projection fold-exact."""
    view = fold(_events(conn, hid))
    site = conn.execute(select(Site.__table__).where(Site.__table__.c.id == view.site_id)).first()
    conn.execute(update(HZ).where(HZ.c.id == hid).values(**projection_of(view, site)))


def _rewrite(conn: Connection, chain: list[ChainEvent]) -> None:
    for ev in chain:
        conn.execute(
            update(EV)
            .where(EV.c.id == ev.id)
            .values(payload=ev.payload, prev_hash=ev.prev_hash, hash=ev.hash)
        )


def forge_append(conn: Connection, hid: str) -> str:
    last = _events(conn, hid)[-1]
    forged = ChainEvent(
        id=str(uuid.uuid4()),
        hazard_id=hid,
        seq=last.seq + 1,
        type="note",
        actor_id=last.actor_id,
        actor_role=last.actor_role,
        at=to_iso(datetime.now(UTC)),
        payload={"text": "补录：已整改（伪造）"},
        prev_hash=last.hash,
    ).sealed()
    conn.execute(insert(EV).values(**{f: getattr(forged, f) for f in FIELDS}))
    _reproject(conn, hid)
    return forged.id


def cut_closure(conn: Connection, hid: str) -> str:
    last = _events(conn, hid)[-1]
    assert last.type == "closed"
    conn.execute(delete(EV).where(EV.c.id == last.id))
    _reproject(conn, hid)
    return last.id


def rewrite_first(conn: Connection, hid: str) -> str:
    chain = _events(conn, hid)
    first = chain[0]
    payload = {**first.payload, "title": first.payload["title"] + "（已改）"}
    prev, out = "0" * 64, []
    for ev in [replace(first, payload=payload), *chain[1:]]:
        sealed = replace(ev, prev_hash=prev, hash="").sealed()
        out.append(sealed)
        prev = sealed.hash
    _rewrite(conn, out)
    _reproject(conn, hid)
    return first.id


def projection_only(conn: Connection, hid: str) -> None:
    conn.execute(update(HZ).where(HZ.c.id == hid).values(state="closed"))


def delete_events(conn: Connection, hid: str) -> None:
    conn.execute(delete(EV).where(EV.c.hazard_id == hid))


def delete_hazard(conn: Connection, hid: str) -> None:
    for table in ("hazard_photo", "hazard_matter", "hazard_reminder"):
        conn.exec_driver_sql(f"DELETE FROM {table} WHERE hazard_id = '{hid}'")
    conn.exec_driver_sql(f"UPDATE notification SET hazard_id = NULL WHERE hazard_id = '{hid}'")
    conn.execute(delete(EV).where(EV.c.hazard_id == hid))
    conn.execute(delete(HZ).where(HZ.c.id == hid))


WITNESS = "officer"  # the tablet's user: the picked hazards are in that officer's district


def _tablet(server: Any, workdir: Path) -> SyncClient:
    """A tablet core logged in as ``WITNESS`` (the key pinned at login)."""
    store = LocalStore(workdir / "witness-tablet.db")
    client = SyncClient(
        store,
        server.url,
        backoff_base=0.01,
        backoff_cap=0.05,
        relogin=lambda: (WITNESS, "demo-password"),
    )
    client.login(WITNESS, "demo-password")
    return client


def _witness_reports(db_url: str) -> list[tuple[str, dict[str, Any]]]:
    with engine_for(db_url) as engine, engine.connect() as conn:
        rows = conn.execute(text("SELECT reason, detail FROM witness_report ORDER BY id")).all()
    return [(r, d if isinstance(d, dict) else json.loads(d)) for r, d in rows]


def _site_of(http: Any, hazard_id: str) -> str:
    return http.get(f"/hazards/{hazard_id}").json()["site_id"]


def _pick(hazards: list[dict[str, Any]]) -> dict[str, str]:
    """One demo hazard per tampering, by the state each needs."""
    by_state: dict[str, list[str]] = {}
    for h in hazards:
        if not h.get("self_closed"):  # the regulator's closures: their chain ends in 销号
            by_state.setdefault(h["state"], []).append(h["id"])
    picked = {
        "forge": by_state["reported"][0],
        "cut": by_state["closed"][0],
        "rewrite": by_state["in_review"][0],
        "projection": by_state["assigned"][0],
        "no_events": by_state["cancelled"][0],
        "deleted": by_state["verified"][0],
    }
    assert len(set(picked.values())) == 6
    return picked


def test_each_tampering_is_named_by_the_cli_the_api_and_a_tablet(own_cli_server, tmp_path: Path):
    server = own_cli_server
    clean = server.run("chains", "verify")
    assert "log intact" in clean.stdout, clean.stdout
    kept = tmp_path / "kept-checkpoint.txt"  # what an auditor keeps before anything happens
    server.run("log", "checkpoint", "--out", str(kept))
    assert server.run("log", "verify", "--checkpoint", str(kept)).returncode == 0

    with server.login(WITNESS) as officer:
        picked = _pick(officer.get("/hazards", params={"limit": 200}).json()["items"])
        # a fresh record last, so the tablet's pull cursor rests on nothing tampered below
        fresh = {"site_id": _site_of(officer, picked["forge"]), "title": "演练前新隐患"}
        assert officer.post("/hazards", json={**fresh, "severity": "general"}).status_code == 201
    tablet = _tablet(server, tmp_path)
    try:
        before = tablet.sync()
        assert before.ok and before.log_failures == [], (before.errors, before.log_failures)
        held = {r["hazard_id"] for r in tablet.store.read("SELECT hazard_id FROM event")}
        assert set(picked.values()) <= held  # the tablet holds a copy of each victim
        _drill(server, kept, picked, tablet)
    finally:
        tablet.http.close()
        tablet.store.close()


def _drill(server: Any, kept: Path, picked: dict[str, str], tablet: SyncClient) -> None:
    """The six tamperings, then each named by the CLI, the API and the tablet."""
    with server.login("admin") as admin:
        with engine_for(server.db_url) as engine, engine.begin() as conn:
            forged = forge_append(conn, picked["forge"])
            cut = cut_closure(conn, picked["cut"])
            first = rewrite_first(conn, picked["rewrite"])
            projection_only(conn, picked["projection"])
            delete_events(conn, picked["no_events"])
            delete_hazard(conn, picked["deleted"])

        expected = {
            ("event_not_in_log", picked["forge"], forged),
            ("logged_event_missing", picked["cut"], cut),
            ("log_leaf_mismatch", picked["rewrite"], first),
            ("projection_mismatch", picked["projection"], None),
            ("missing_events", picked["no_events"], None),
            ("logged_hazard_missing", picked["deleted"], None),
        }
        # the CLI names each
        out = server.run("chains", "verify", ok=False)
        assert out.returncode == 1
        for reason, hid, eid in expected:
            lines = [ln for ln in out.stdout.splitlines() if hid in ln and reason in ln]
            assert lines, f"{reason} on {hid} not named:\n{out.stdout}"
            if eid:
                assert any(eid in ln for ln in lines), lines
        assert "fields state" in out.stdout
        # the whole-record endpoint names each
        report = admin.get("/log/verify").json()
        assert report["ok"] is False
        named = {(f["reason"], f["hazard_id"]) for f in report["findings"]}
        assert {(r, h) for r, h, _ in expected} <= named
        # each hazard's own verify names its tampering; the deleted one is gone (404)
        for key, reason in (
            ("forge", "event_not_in_log"),
            ("cut", "logged_event_missing"),
            ("rewrite", "log_leaf_mismatch"),
            ("projection", "projection_mismatch"),
            ("no_events", "missing_events"),
        ):
            verdict = admin.get(f"/hazards/{picked[key]}/chain/verify").json()
            assert verdict["ok"] is False and verdict["broken_at"]["reason"] == reason, verdict
        assert admin.get(f"/hazards/{picked['deleted']}/chain/verify").status_code == 404

        # the tablet that synced before: its next sync names each of the six
        after = tablet.sync()
        seen = {
            (f["reason"], json.loads(f["detail"]).get("hazard_id"))
            for f in tablet.store.read("SELECT reason, detail FROM witness_failure")
        }
        by_tablet = {
            ("event_not_in_log", picked["forge"]),
            ("event_deleted", picked["cut"]),
            ("event_altered", picked["rewrite"]),
            ("projection_mismatch", picked["projection"]),
            ("hazard_events_missing", picked["no_events"]),
            ("hazard_missing", picked["deleted"]),
        }
        assert by_tablet <= seen, seen
        assert {r for r, _ in by_tablet} <= set(after.log_failures), after.log_failures
        details: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for f in tablet.store.read("SELECT reason, detail FROM witness_failure"):
            d = json.loads(f["detail"])
            details.setdefault((f["reason"], d.get("hazard_id")), []).append(d)
        assert [d["event_id"] for d in details[("event_not_in_log", picked["forge"])]] == [forged]
        assert [d["event_id"] for d in details[("event_deleted", picked["cut"])]] == [cut]
        altered = details[("event_altered", picked["rewrite"])]  # the first, and each after it
        assert first in {d["event_id"] for d in altered} and min(d["seq"] for d in altered) == 1
        assert "state" in details[("projection_mismatch", picked["projection"])][0]["fields"]
        # shown plainly, in both languages, and kept: the next sync still shows each once
        for reason, _ in by_tablet:
            assert message(reason, "zh").startswith("服务器记录可能被篡改：")
            assert message(reason, "zh") != "服务器记录可能被篡改：" + reason
            assert "tampered" in message(reason, "en")
        again = tablet.sync()
        assert {r for r, _ in by_tablet} <= set(again.log_failures)
        count = tablet.store.read("SELECT count(*) AS n FROM witness_failure")[0]["n"]
        assert count == len(
            tablet.store.read("SELECT DISTINCT reason, detail FROM witness_failure")
        )
        # and the server heard each from the tablet
        unreported = tablet.store.read("SELECT id FROM witness_failure WHERE reported = 0")
        assert unreported == []
        reported = {(r, d.get("hazard_id")) for r, d in _witness_reports(server.db_url)}
        assert by_tablet <= reported, reported

        # covering the rewrite in the log too: the signed checkpoints no longer match
        with engine_for(server.db_url) as engine, engine.begin() as conn:
            for ev in _events(conn, picked["rewrite"]):
                conn.execute(
                    update(LogLeaf.__table__)
                    .where(LogLeaf.__table__.c.event_id == ev.id)
                    .values(leaf_hash=event_leaf(ev.hash).hex())
                )
        against_kept = server.run("log", "verify", "--checkpoint", str(kept), ok=False)
        assert against_kept.returncode == 1
        assert "TAMPERED checkpoint_mismatch" in against_kept.stdout
        assert "log_leaf_mismatch" not in against_kept.stdout  # the leaves were made to agree
        reasons = {f["reason"] for f in admin.get("/log/verify").json()["findings"]}
        assert "checkpoint_mismatch" in reasons
