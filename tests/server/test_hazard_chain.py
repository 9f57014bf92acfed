"""The chain over real HTTP on both databases: report → assign → (plan) → rectify → verify or
reject → close, and every rule a user can trip over."""

from __future__ import annotations

from datetime import timedelta

from server.blobs.store import digest
from server.demo import demo_png, did
from shared.clock import to_iso

MALL = did("site", "万达广场乌海店")
PLANT = did("site", "千里山工业园氯碱化工")


def upload(client, seed: str) -> str:
    data = demo_png(seed, (10, 20, 30))
    sha = digest(data)
    r = client.put(f"/blobs/{sha}", content=data)
    assert r.status_code == 201, r.text
    return sha


def report(client, site=MALL, severity="general", title="疏散通道堵塞"):
    r = client.post("/hazards", json={"site_id": site, "title": title, "severity": severity})
    assert r.status_code == 201, r.text
    return r.json()


def event(client, hid, type_, expect=201, **payload):
    r = client.post(f"/hazards/{hid}/events", json={"type": type_, "payload": payload})
    assert r.status_code == expect, r.text
    return r.json()


def test_general_hazard_full_chain(live_demo, clock):
    inspector, officer, officer3 = (
        live_demo.login(u) for u in ("inspector", "officer", "officer3")
    )
    ent = live_demo.login("enterprise")
    me = ent.get("/me").json()
    h = report(inspector)
    assert h["state"] == "reported" and h["escalation_level"] == 0
    assert h["link_owner"] == {"role": "officer"}
    hid = h["id"]
    h = event(
        officer,
        hid,
        "assigned",
        responsible_unit="万达广场",
        responsible_person="陈安全员",
        responsible_user_id=me["id"],
    )
    assert h["state"] == "assigned"
    # default deadline for a general crowded-venue hazard: 7 days from the server clock
    assert h["deadline"].startswith((clock.now() + timedelta(days=7)).date().isoformat())
    assert h["link_owner"]["person"] == "陈安全员"
    clock.advance(days=1)
    sha = upload(ent, "after")
    h = event(ent, hid, "rectification_submitted", description="已清理", evidence=[sha])
    assert h["state"] == "in_review" and h["evidence"] == [sha]
    refused = event(officer, hid, "closed", expect=409)
    assert refused["code"] == "invalid_state" and "待复查" in refused["message"]
    h = event(officer, hid, "rejected", reason="照片不清晰")
    assert h["state"] == "rectifying"
    h = event(
        ent,
        hid,
        "rectification_submitted",
        description="重新拍照",
        evidence=[upload(ent, "after2")],
    )
    h = event(officer3, hid, "verified", comment="通过")
    assert h["state"] == "verified"
    h = event(officer, hid, "closed")
    assert h["state"] == "closed" and h["closed_at"]
    assert [e["type"] for e in h["events"]] == [
        "reported",
        "assigned",
        "rectification_submitted",
        "rejected",
        "rectification_submitted",
        "verified",
        "closed",
    ]
    assert all(
        e["prev_hash"] == p["hash"] for p, e in zip(h["events"], h["events"][1:], strict=False)
    )
    assert h["chain_ok"] is True and h["allowed_events"] == []
    note = event(inspector, hid, "note", expect=409, text="晚到的备注")
    assert note["code"] == "invalid_state"
    assert officer.get(f"/hazards/{hid}/chain/verify").json() == {"ok": True, "broken_at": None}


def test_major_hazard_needs_plan_and_is_escalated(live_demo, clock):
    inspector, officer, officer3 = (
        live_demo.login(u) for u in ("inspector", "officer", "officer3")
    )
    h = report(inspector, site=PLANT, severity="major", title="液氯储罐无SIS")
    assert h["escalation_level"] == 1
    assert [e["type"] for e in h["events"]] == ["reported", "escalated"]
    assert h["events"][1]["actor_role"] == "system"
    hid = h["id"]
    h = event(officer, hid, "assigned", responsible_unit="氯碱化工", responsible_person="吴厂长")
    assert h["deadline"].startswith((clock.now() + timedelta(days=30)).date().isoformat())
    sha = upload(officer3, "major")
    r = event(
        officer3, hid, "rectification_submitted", expect=409, description="done", evidence=[sha]
    )
    assert r["code"] == "plan_incomplete" and "资金落实" in r["message"]
    h = event(officer3, hid, "plan_submitted", responsibility="厂长", measures="加装SIS")
    assert h["state"] == "assigned" and set(h["plan_missing"]) == {
        "funds",
        "deadline",
        "contingency",
    }
    h = event(
        officer3, hid, "plan_submitted", funds="80万", deadline="30日", contingency="双人巡检"
    )
    assert h["state"] == "rectifying" and h["plan_complete"] is True
    h = event(officer3, hid, "rectification_submitted", description="done", evidence=[sha])
    r = event(officer3, hid, "verified", expect=409)
    assert r["code"] == "verifier_is_rectifier"
    h = event(officer, hid, "verified")
    assert h["state"] == "verified"


def test_evidence_must_be_uploaded_first(live_demo):
    officer = live_demo.login("officer")
    hid = report(officer)["id"]
    event(officer, hid, "assigned", responsible_unit="u", responsible_person="p")
    missing = "ab" * 32
    r = event(
        officer, hid, "rectification_submitted", expect=422, description="x", evidence=[missing]
    )
    assert r["code"] == "photo_pending" and "evidence" in r["fields"]
    r = event(officer, hid, "rectification_submitted", expect=422, description="x", evidence=[])
    assert r["code"] == "evidence_required"


def test_extension_overdue_and_cancel(live_demo, clock):
    from server.scheduler import run_job

    officer = live_demo.login("officer")
    hid = report(officer)["id"]
    event(
        officer,
        hid,
        "assigned",
        responsible_unit="u",
        responsible_person="p",
        deadline=to_iso(clock.now() + timedelta(days=2)),
    )
    r = event(
        officer,
        hid,
        "extension_requested",
        expect=422,
        new_deadline=to_iso(clock.now()),
        reason="r",
    )
    assert r["code"] == "extension_not_later" and "new_deadline" in r["fields"]
    r = event(officer, hid, "extension_granted", expect=409)
    assert r["code"] == "no_extension_request"
    clock.advance(days=3)
    assert run_job(live_demo.app.state.engine, "flag_overdue", clock.now()) >= 1
    assert run_job(live_demo.app.state.engine, "flag_overdue", clock.now()) == 0  # idempotent
    h = officer.get(f"/hazards/{hid}").json()
    assert h["overdue"] is True and h["events"][-1]["type"] == "overdue"
    assert h["events"][-1]["actor_role"] == "system"
    listed = officer.get("/hazards", params={"overdue": "true", "limit": 200}).json()
    assert hid in {i["id"] for i in listed["items"]}
    new = to_iso(clock.now() + timedelta(days=10))
    event(officer, hid, "extension_requested", new_deadline=new, reason="等待配件")
    h = event(officer, hid, "extension_granted")
    assert h["overdue"] is False and h["deadline"].startswith(new[:10])
    r = event(officer, hid, "cancelled", expect=422)
    assert r["fields"] == {"reason": "reason is required"}
    h = event(officer, hid, "cancelled", reason="误报")
    assert h["state"] == "cancelled"


def test_event_ids_are_idempotent(live_demo):
    import uuid

    officer = live_demo.login("officer")
    hid = report(officer)["id"]
    eid = str(uuid.uuid4())
    body = {"id": eid, "type": "note", "payload": {"text": "一次"}}
    first = officer.post(f"/hazards/{hid}/events", json=body)
    again = officer.post(f"/hazards/{hid}/events", json=body)
    assert first.status_code == again.status_code == 201
    assert len(again.json()["events"]) == len(first.json()["events"])
    other = officer.post(f"/hazards/{hid}/events", json={**body, "type": "photo_added"})
    assert other.status_code == 409 and other.json()["code"] == "id_reuse"
    hid2 = str(uuid.uuid4())
    payload = {"id": hid2, "site_id": MALL, "title": "t", "severity": "general"}
    first = officer.post("/hazards", json=payload)
    again = officer.post("/hazards", json=payload)  # a retry after a lost response
    assert first.status_code == again.status_code == 201
    assert again.json()["events"] == first.json()["events"]
    clash = live_demo.login("officer3").post("/hazards", json=payload)
    assert clash.status_code == 409 and clash.json()["code"] == "id_reuse"
