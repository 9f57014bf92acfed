"""The change feed (TECH-NOTES §1.3 cases 4, 13, 14, 17): commit order, per-user scope,
keyset pages with a cursor that commits with each page, and a reset when the server cannot
continue a cursor — the outbox always kept."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import tracemalloc
import uuid

import pytest
from sqlmodel import Session, select
from tablets import MALL, ServerBackup, op, push_raw, report_payload, restart, server_events

import mobile_app.core.sync_client as sync_client
from server.auth.scope import scope_of
from server.context import Caller
from server.hazards import service as hazards
from server.sites.models import Site
from server.sync.models import SyncChange
from server.users.models import User
from shared.chain import EventType
from tests.checklists.checklist_fixtures import import_test_templates


def test_scope_each_user_gets_their_own(live_demo, tablets, engine, clock):
    ins, ins2, ent = (tablets(live_demo.url, u) for u in ("inspector", "inspector2", "enterprise"))
    for t in (ins, ins2, ent):
        assert t.sync().ok
    import_test_templates(engine, clock)  # written by another service: the feed sees it too
    for t in (ins, ins2, ent):
        assert t.sync().ok
        assert t.events() == server_events(engine, t.username)
        assert t.store.read("SELECT count(*) AS n FROM district")[0]["n"] > 0  # shared data
        assert t.store.read("SELECT id FROM template") == [{"id": "test_fire:1"}]
    assert ins.events() and ins2.events() and not set(ins.events()) & set(ins2.events())
    assert set(ent.events()) < set(ins.events())  # the mall only, inside 海勃湾区
    with Session(engine) as s:
        mall_district = s.get(Site, MALL).district_id
        sites = set(s.exec(select(Site.id)).all())
    ent_sites = {r["id"] for r in ent.store.read("SELECT id FROM site")}
    assert ent_sites == {MALL}
    ins_sites = {r["id"] for r in ins.store.read("SELECT id, district_id FROM site")}
    assert MALL in ins_sites and ins_sites < sites
    ins2_districts = {r["district_id"] for r in ins2.store.read("SELECT district_id FROM site")}
    assert mall_district not in ins2_districts


def test_crash_mid_page_rolls_back_and_reapplying_is_idempotent(
    live_demo, tablets, engine, monkeypatch
):
    """Case 4: the app dies half-way through applying a page."""
    t = tablets(live_demo.url, "officer", pull_limit=25)
    real, half, committed = sync_client.store_events, [], {}

    def dies_half_way(db, items):
        if not half and len(items) >= 10:  # what had committed when the page began to apply
            committed.update(cursor=t.store.meta("cursor"), events=dict(t.events()))
            half.extend(items[:9])
            real(db, half)  # nine of the page's events written, then the battery dies
            raise SystemExit("battery died")
        return real(db, items)

    monkeypatch.setattr(sync_client, "store_events", dies_half_way)
    with pytest.raises(SystemExit):
        t.sync()
    monkeypatch.setattr(sync_client, "store_events", real)
    assert half, "no page had ten events"
    assert t.store.meta("cursor") == committed["cursor"]  # the page and its cursor: neither
    assert t.events() == committed["events"]
    assert not {data["id"] for data, _ in half} & set(t.events())  # the nine rolled back
    assert t.sync().ok
    assert t.events() == server_events(engine, "officer")
    # re-applying everything from the start changes nothing (upserts by event id)
    t.store.set_meta("cursor", None)
    result = t.sync()
    assert result.ok and result.pulled > 0
    assert t.events() == server_events(engine, "officer")
    assert t.chains_verify() == []


def _hold_clock_in_open_transaction(engine, hid, now, holding, release, errors):
    """Thread A: append to a chain without committing (it holds the feed's clock)."""
    try:
        with Session(engine, expire_on_commit=False) as s:
            officer = s.exec(select(User).where(User.username == "officer")).one()
            caller = Caller(officer, scope_of(s, officer))
            hazards.append(
                s,
                actor=caller.actor,
                hazard_id=hid,
                event_type=EventType.note,
                payload={"text": "A: took its position first, commits last"},
                now=now,
            )  # flushed: the test is the edge, and commits only once released
            holding.set()
            release.wait(20)
            s.commit()
    except Exception as exc:  # pragma: no cover - reported by the test
        errors.append(exc)
        holding.set()


def test_a_slow_transaction_is_never_skipped_by_a_pull(live_demo, tablets, engine, clock):
    """Case 13: while A holds its feed position uncommitted, B's push waits behind it, and a
    pull in between returns neither; afterwards both arrive, A first."""
    http = live_demo.login("inspector")
    hid = str(uuid.uuid4())
    push_raw(http, "tablet-b-0001", [op(1, "hazard.report", report_payload(hid), op_id=hid)])
    reader = tablets(live_demo.url, "officer")
    assert reader.sync().ok
    before = set(reader.events())
    holding, release, errors = threading.Event(), threading.Event(), []
    a = threading.Thread(
        target=_hold_clock_in_open_transaction,
        args=(engine, hid, clock.now(), holding, release, errors),
    )
    a.start()
    assert holding.wait(20) and not errors
    b_result: dict = {}
    b_op = op(2, "hazard.event", {"hazard_id": hid, "type": "note", "payload": {"text": "B"}})
    b = threading.Thread(
        target=lambda: b_result.update(push_raw(http, "tablet-b-0001", [b_op])["results"][0])
    )
    b.start()
    b.join(1.0)
    assert b.is_alive()  # B waits for A's position to commit (or roll back)
    assert reader.sync().ok
    assert set(reader.events()) == before  # neither is visible yet, and nothing was passed by
    release.set()
    a.join(20)
    b.join(20)
    assert not errors and b_result["status"] == "applied"
    assert reader.sync().ok
    new = [
        (r["server_seq"], r["body"])
        for r in reader.store.read(
            "SELECT server_seq, body FROM event WHERE hazard_id = ? ORDER BY seq", [hid]
        )
    ]
    assert ["A:" in body for _, body in new[1:]] == [True, False]
    assert new[1][0] < new[2][0] == b_result["server_seq"]


def test_concurrent_writers_and_a_reader_see_every_change_once(live_demo, engine):
    """Several devices push at once while a reader pulls page after page: the reader ends up
    with every change exactly once, in increasing feed order."""
    users = ["inspector", "officer", "officer3", "enterprise"]
    clients = {u: live_demo.login(u) for u in users}
    done = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        http = live_demo.login("admin")
        cursor = None
        try:
            while True:
                finished = done.is_set()
                params = {"device_id": "reader-0000001", "schema_version": 1, "limit": 7}
                if cursor:
                    params["cursor"] = cursor
                page = http.get("/sync/pull", params=params).json()
                seen.extend(c["seq"] for c in page["changes"])
                cursor = page["next_cursor"]
                if finished and not page["has_more"]:
                    return
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def writer(user: str) -> None:
        try:
            hid = str(uuid.uuid4())
            device = f"writer-{user}-01"
            ops = [op(1, "hazard.report", report_payload(hid, title=f"{user}的隐患"), op_id=hid)]
            ops += [
                op(i, "hazard.event", {"hazard_id": hid, "type": "note", "payload": {"text": "n"}})
                for i in range(2, 13)
            ]
            for i in range(0, len(ops), 3):
                body = push_raw(clients[user], device, ops[i : i + 3])
                assert all(r["status"] == "applied" for r in body["results"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    r = threading.Thread(target=reader)
    r.start()
    writers = [threading.Thread(target=writer, args=(u,)) for u in users]
    for w in writers:
        w.start()
    for w in writers:
        w.join(60)
    done.set()
    r.join(60)
    assert not errors, errors
    with Session(engine) as s:
        every = sorted(s.exec(select(SyncChange.seq)).all())
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert seen == every  # admin sees everything: nothing skipped, nothing twice


def test_cursor_past_retention_resets_and_keeps_the_outbox(
    live_demo, tablets, engine, clock, db_url
):
    """Case 14 (retention): a tablet silent for longer than allowed downloads everything again;
    what it wrote meanwhile is still sent."""
    live_demo.app.state.settings.sync_max_offline_days = 1
    t = tablets(live_demo.url, "inspector")
    assert t.sync().ok
    clock.advance(days=2)
    hid = t.outbox.report_hazard(site_id=MALL, title="离线期间发现", severity="general")
    result = t.sync()
    assert result.ok and result.resets == 1
    assert t.outbox.record(hid)["status"] == "acknowledged"
    assert t.events() == server_events(engine, "inspector")
    # what an operator runs after restoring a backup: every tablet starts again
    env = {**os.environ, "HAZARDCHAIN_DATABASE_URL": db_url, "HAZARDCHAIN_SECRET_KEY": "x" * 40}
    cli = [sys.executable, "-m", "server.cli", "sync", "renew-epoch"]
    done = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "epoch renewed" in done.stdout, done.stderr
    result = t.sync()
    assert result.ok and result.resets == 1
    assert t.events() == server_events(engine, "inspector")
    assert t.chains_verify() == []


def test_server_restored_from_backup(
    live_demo, tablets, engine, settings, clock, db_url, request, tmp_path
):
    """Case 14 (restore): the server loses its last changes; the tablet is told to reset, gives
    the server back the ops it had acknowledged, and keeps what it wrote meanwhile."""
    pg_uri = request.getfixturevalue("pg_uri") if db_url.startswith("postgresql") else None
    server = {"live": live_demo}

    def bounce(between) -> None:
        server["live"] = restart(server["live"], settings, clock, engine, before_start=between)

    try:
        t = tablets(live_demo.url, "inspector")
        hid = t.outbox.report_hazard(site_id=MALL, title="备份前上报", severity="general")
        assert t.sync().ok
        backup = ServerBackup(db_url, engine, pg_uri, tmp_path)
        backup.take(bounce)
        lost = [t.outbox.append_event(hid, "note", {"text": f"备份后 {i}"}) for i in range(2)]
        assert t.sync().ok
        backup.restore(bounce)
        clock.advance(hours=1)  # re-applied, these ops get other times and so other hashes
        meanwhile = t.outbox.append_event(hid, "note", {"text": "服务器恢复期间"})
        result = t.sync()
        assert result.ok, result.errors
        assert result.resets == 1
        for op_id in [*lost, meanwhile]:
            assert t.outbox.record(op_id)["status"] == "acknowledged"
        assert t.events() == server_events(engine, "inspector")
        texts = [e.payload.get("text") for e in t.chain(hid)[1:]]
        assert texts == ["备份后 0", "备份后 1", "服务器恢复期间"]
        assert t.chains_verify() == []
    finally:
        server["live"].stop()


def test_many_changes_after_weeks_offline_are_paged_resumable_and_bounded(
    live_demo, tablets, engine
):
    """Case 17, scaled for the test suite (bench/bench_sync.py pushes 10,000 ops and pulls
    50,000 changes): 300 offline ops on 15 hazards go in batches of 50, the third answer is
    lost and the push resumes; a second tablet pulls everything in pages of 50 with bounded
    memory."""
    t = tablets(live_demo.url, "inspector", batch_size=50)
    hids = [
        t.outbox.report_hazard(site_id=MALL, title=f"长期离线{i}", severity="general")
        for i in range(15)
    ]
    for i in range(285):
        t.outbox.append_event(hids[i % 15], "note", {"text": f"第{i}条"})
    real, posts = t.client._apply_push, []

    def lose_the_third_answer(db, batch, resp):
        posts.append(1)
        if len(posts) == 3:
            raise ConnectionError("network gone after the server answered")
        return real(db, batch, resp)

    t.client._apply_push = lose_the_third_answer
    with pytest.raises(ConnectionError):
        t.sync()
    t.client._apply_push = real
    assert t.outbox.counts()["acknowledged"] == 100
    result = t.sync()
    assert result.ok and t.outbox.counts()["acknowledged"] == 300
    assert result.pushed == 200
    assert [r["result_status"] for r in t.outbox.records()[100:150]] == ["duplicate"] * 50
    other = tablets(live_demo.url, "officer", pull_limit=50)
    tracemalloc.start()
    result = other.sync()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.ok and result.pulled >= 300
    assert peak < 30 * 1024 * 1024, peak  # server and tablet together, pages of 50
    assert {len(other.chain(h)) for h in hids} == {20}
    assert other.events() == server_events(engine, "officer")
