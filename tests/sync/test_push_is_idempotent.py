"""Push is idempotent by op id (TECH-NOTES §1.3 cases 1, 2, 3, 5, 6): a retry gets the stored
result with the same ``server_seq``, a reused id with other content is refused, a crash on
either side loses and duplicates nothing, and one bad op in a batch does not stop the rest."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select
from tablets import MALL, op, photo, push_raw, report_payload, server_events

from mobile_app.core.sync_client import SyncClient
from server.demo import did
from server.hazards.models import HazardEvent
from server.inspections.models import Inspection
from server.sync import service as sync_service
from server.sync.models import SyncOp
from tests.checklists.checklist_fixtures import full_answers, import_test_templates
from tests.faultproxy import Fault, FaultProxy

DEVICE = "tablet-raw-0001"


def test_retry_is_duplicate_with_same_server_seq_and_reused_id_is_refused(live_demo, engine):
    http = live_demo.login("inspector")
    hid = str(uuid.uuid4())
    first = op(1, "hazard.report", report_payload(hid), op_id=hid)
    a = push_raw(http, DEVICE, [first])["results"][0]
    assert a["status"] == "applied" and a["server_seq"] > 0
    b = push_raw(http, DEVICE, [first])["results"][0]
    assert b["status"] == "duplicate" and b["outcome"] == "applied"
    assert (b["server_seq"], b["received_at"]) == (a["server_seq"], a["received_at"])
    # case 2: the same id with another payload changes nothing and says why
    reused = {**first, "payload": report_payload(hid, title="另一个隐患")}
    c = push_raw(http, DEVICE, [reused])["results"][0]
    assert c["status"] == "id_reuse" and c["code"] == "id_reuse"
    assert c["message_zh"] and c["message_en"]
    with Session(engine) as s:
        assert len(s.exec(select(HazardEvent).where(HazardEvent.hazard_id == hid)).all()) == 1
        assert s.get(SyncOp, hid).status == "applied"
    # the number the device spent on nothing new counts as used: no gap for the next op
    d = push_raw(http, DEVICE, [op(2, "hazard.event", {"hazard_id": hid, "type": "note",
                                                      "payload": {"text": "x"}})])  # fmt: skip
    assert d["results"][0]["status"] == "applied" and d["stopped"] is None


def test_response_lost_after_commit_then_retry_is_duplicate(live_demo, tablets, engine):
    """Case 1: the server commits, the answer never arrives (stalled, the client times out)."""
    proxy = FaultProxy(live_demo.port).start()
    try:
        t = tablets(proxy.url, "inspector", timeout=(1.0, 1.0), max_attempts=4)
        hid = t.outbox.report_hazard(site_id=MALL, title="配电箱未接地", severity="general")
        t.client.http.close()  # the next request opens a new connection (with the fault)
        faults = iter([Fault(down_cut=0, stall=True, name="stall")])
        proxy.plan = lambda: next(faults, Fault())
        result = t.sync()
        assert result.ok, result.errors
        rec = t.outbox.record(hid)
        assert rec["status"] == "acknowledged" and rec["result_status"] == "duplicate"
        with Session(engine) as s:
            assert rec["server_seq"] == s.get(SyncOp, hid).server_seq
        assert proxy.stats["stall"] == 1
        assert t.events() == server_events(engine, "inspector")
    finally:
        proxy.stop()


def test_client_crash_after_answer_before_ack_is_a_harmless_duplicate(
    live_demo, tablets, engine, monkeypatch, clock
):
    """Case 3: the app dies between the 200 and writing it down; the restarted app resends."""
    t = tablets(live_demo.url, "inspector")
    hid = t.outbox.report_hazard(site_id=MALL, title="消防栓被遮挡", severity="general")
    t.outbox.append_event(hid, "note", {"text": "已通知物业"})

    def crash(self, db, batch, resp):
        raise KeyboardInterrupt("power cut")

    with monkeypatch.context() as m:
        m.setattr(SyncClient, "_apply_push", crash)
        with pytest.raises(KeyboardInterrupt):
            t.sync()
    assert {r["status"] for r in t.outbox.records()} == {"sent"}
    assert t.outbox.only_copy().records == 2  # not acknowledged: still only on this device
    restarted = SyncClient(t.store, live_demo.url, clock=clock)
    assert restarted.sync().ok
    assert [r["result_status"] for r in t.outbox.records()] == ["duplicate", "duplicate"]
    assert t.outbox.only_copy().records == 0
    with Session(engine) as s:
        assert len(s.exec(select(HazardEvent).where(HazardEvent.hazard_id == hid)).all()) == 2


def test_server_crash_mid_push_rolls_back_and_retry_applies_once(
    live_demo, tablets, engine, monkeypatch
):
    """Case 5: the server fails after applying an op but before committing it."""
    t = tablets(live_demo.url, "inspector")
    hid = t.outbox.report_hazard(site_id=MALL, title="电动车违规充电", severity="general")
    real = sync_service._record
    crashes = []

    def crash_once(*a, **kw):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("server crashed before commit")
        return real(*a, **kw)

    monkeypatch.setattr(sync_service, "_record", crash_once)
    result = t.sync()
    assert result.ok, result.errors
    assert crashes == [1]
    rec = t.outbox.record(hid)
    assert rec["status"] == "acknowledged" and rec["result_status"] == "applied"
    with Session(engine) as s:
        assert len(s.exec(select(HazardEvent).where(HazardEvent.hazard_id == hid)).all()) == 1


def test_invalid_op_in_the_middle_of_a_batch(live_demo):
    """Case 6: #3 of 5 is refused; #1–2 are applied and #4–5 are judged on their own (a
    business rejection is recorded and the batch goes on; only a device_seq gap stops it)."""
    http = live_demo.login("inspector")
    hid = str(uuid.uuid4())
    note = {"hazard_id": hid, "type": "note", "payload": {"text": "ok"}}
    ops = [
        op(1, "hazard.report", report_payload(hid), op_id=hid),
        op(2, "hazard.event", note),
        op(3, "hazard.event", {"hazard_id": hid, "type": "verified", "payload": {}}),
        op(4, "hazard.event", note),
        op(5, "hazard.event", {**note, "payload": {"text": ""}}),  # empty note: refused too
    ]
    body = push_raw(http, DEVICE, ops)
    got = [(r["status"], r["code"]) for r in body["results"]]
    assert got == [
        ("applied", None),
        ("applied", None),
        ("rejected", "role_not_allowed"),
        ("applied", None),
        ("rejected", "missing_field"),
    ]
    assert body["stopped"] is None and body["last_seq"] == 5
    third = body["results"][2]
    assert "检查员" in third["message_zh"] or "inspector" in third["message_en"]
    # a retry of the whole batch changes nothing and returns the same outcomes
    again = push_raw(http, DEVICE, ops)
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 5
    assert [r["outcome"] for r in again["results"]] == [
        "applied",
        "applied",
        "rejected",
        "applied",
        "rejected",
    ]


def test_inspection_submit_is_applied_once_even_when_recording_it_fails(
    live_demo, tablets, engine, clock, monkeypatch
):
    """``inspection.submit`` goes through the inspection service, which commits on its own;
    a crash before the op is recorded is repaired by the retry (the service replays)."""
    import_test_templates(engine, clock)
    t = tablets(live_demo.url, "inspector")
    assert t.sync().ok
    evidence = t.outbox.add_photo(photo("安全出口封堵"))["sha256"]
    iid = str(uuid.uuid4())
    t.outbox.submit_inspection(
        {
            "id": iid,
            "site_id": MALL,
            "template_id": "test_fire",
            "template_version": 1,
            "answers": full_answers({"t.exit.clear": "no", "t.alarm.works": "no"}),
            "photos": {"t.exit.clear": [evidence]},
            "notes": "离线完成的检查",
            "started_at": "2026-03-02T00:00:00Z",
            "ended_at": "2026-03-02T00:40:00Z",
        }
    )
    real, crashes = sync_service._record, []

    def crash_once(*a, **kw):
        if not crashes:
            crashes.append(1)
            raise RuntimeError("died after the inspection committed")
        return real(*a, **kw)

    monkeypatch.setattr(sync_service, "_record", crash_once)
    result = t.sync()
    assert result.ok, result.errors
    [rec] = t.outbox.records()
    assert crashes == [1] and rec["status"] == "acknowledged" and rec["server_seq"]
    with Session(engine) as s:
        inspection = s.get(Inspection, iid)
        hazard_ids = [f["hazard_id"] for f in inspection.findings]
    assert len(hazard_ids) == 2
    assert set(hazard_ids) <= set(t.hazards())  # the findings came back with the pull
    assert t.events() == server_events(engine, "inspector")


def test_an_id_held_in_another_district_is_answered_as_not_found(live_demo):
    """inspector2 (乌达区) pushes ops under ids that live in 海勃湾区: one another tablet pushed,
    one a hazard reported through the API. Each gets exactly the answer of an op on a hazard
    it cannot see, never ``id_reuse`` (which told that the id exists). A colleague in the
    same district still hears ``id_reuse``."""
    hid = str(uuid.uuid4())
    inspector = live_demo.login("inspector")
    pushed = push_raw(inspector, DEVICE, [op(1, "hazard.report", report_payload(hid), op_id=hid)])
    assert pushed["results"][0]["status"] == "applied"
    api_hazard = did("hazard", "地下车库电动自行车违规充电")  # 海勃湾区, no sync op

    school = did("site", "乌达区第二小学")
    mine = {"site_id": school, "title": "灭火器过期", "severity": "general"}
    results = push_raw(
        live_demo.login("inspector2"),
        "tablet-wuda-0001",
        [
            op(1, "hazard.report", {**mine, "hazard_id": hid}, op_id=hid),
            op(2, "hazard.report", {**mine, "hazard_id": api_hazard}, op_id=api_hazard),
            # the yardstick: an event on a hazard inspector2 cannot see
            op(
                3,
                "hazard.event",
                {"hazard_id": api_hazard, "type": "note", "payload": {"text": "x"}},
            ),
        ],
    )["results"]

    def answer(r: dict) -> dict:
        return {k: v for k, v in r.items() if k not in ("op_id", "device_seq")}

    assert answer(results[2])["code"] == "not_found"
    assert answer(results[0]) == answer(results[1]) == answer(results[2])

    colleague = push_raw(
        live_demo.login("officer"),
        "tablet-haibowan-02",
        [op(1, "hazard.report", report_payload(hid), op_id=hid)],
    )["results"][0]
    assert colleague["code"] == "id_reuse"
