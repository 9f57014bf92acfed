"""Transfer (移交) over real HTTP on both databases: an officer hands a hazard to another
responsible unit with a reason; the new unit owns the next step and the old one can no longer
act on it; a wrong role is refused (403), a hazard out of scope does not exist for the caller
(404), a bad payload names its field (422), and a transfer outside the states where a unit
owes work is a conflict (409)."""

from __future__ import annotations

from test_hazard_chain import MALL, event, report, upload


def _second_enterprise_user(live_demo) -> tuple[str, object]:
    """Another account bound to the mall: the unit the hazard is handed to."""
    with live_demo.login("admin") as admin:
        r = admin.post(
            "/users",
            json={
                "username": "mall-maint",
                "display_name": "物业工程部",
                "role": "enterprise",
                "password": "demo-password",
                "unit": "万达物业工程部",
                "site_ids": [MALL],
            },
        )
        assert r.status_code == 201, r.text
        return r.json()["id"], live_demo.login("mall-maint")


def test_officer_transfers_and_the_new_unit_owns_the_next_step(live_demo, clock):
    officer, ent = live_demo.login("officer"), live_demo.login("enterprise")
    ent_id = ent.get("/me").json()["id"]
    new_id, maint = _second_enterprise_user(live_demo)
    hid = report(live_demo.login("inspector"))["id"]
    assigned = event(
        officer,
        hid,
        "assigned",
        responsible_unit="万达广场",
        responsible_person="陈安全员",
        responsible_user_id=ent_id,
    )

    h = event(
        officer,
        hid,
        "transferred",
        responsible_unit="万达物业工程部",
        responsible_person="王工",
        responsible_user_id=new_id,
        reason="通道属物业管理区域",
    )
    assert h["state"] == "assigned" and h["deadline"] == assigned["deadline"]
    assert h["responsible_unit"] == "万达物业工程部" and h["responsible_person"] == "王工"
    assert h["link_owner"] == {
        "role": "enterprise",
        "unit": "万达物业工程部",
        "person": "王工",
        "user_id": new_id,
    }
    last = h["events"][-1]
    assert last["type"] == "transferred"
    assert last["payload"]["previous_unit"] == "万达广场"
    assert last["payload"]["reason"] == "通道属物业管理区域"
    assert officer.get(f"/hazards/{hid}/chain/verify").json()["ok"] is True

    # the old unit's account may no longer act on it; the new one may
    sha = upload(ent, "old-unit")
    r = ent.post(
        f"/hazards/{hid}/events",
        json={
            "type": "rectification_submitted",
            "payload": {"description": "已整改", "evidence": [sha]},
        },
    )
    assert r.status_code == 403 and r.json()["code"] == "not_responsible"
    sha = upload(maint, "new-unit")
    h = event(maint, hid, "rectification_submitted", description="已清理", evidence=[sha])
    assert h["state"] == "in_review"


def test_transfer_refusals_say_why(live_demo, clock):
    officer = live_demo.login("officer")
    hid = report(live_demo.login("inspector"))["id"]

    # nothing to hand over before a unit has it: the state refuses (409)
    r = officer.post(
        f"/hazards/{hid}/events",
        json={
            "type": "transferred",
            "payload": {"responsible_unit": "甲", "responsible_person": "乙", "reason": "丙"},
        },
    )
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"

    event(officer, hid, "assigned", responsible_unit="万达广场", responsible_person="陈安全员")
    good = {"responsible_unit": "物业", "responsible_person": "王工", "reason": "属物业管理"}

    # wrong roles: 403 with the reason in the caller's language
    for user in ("inspector", "enterprise", "leader"):
        r = live_demo.login(user).post(
            f"/hazards/{hid}/events",
            json={"type": "transferred", "payload": good},
            headers={"Accept-Language": "en"},
        )
        assert r.status_code == 403, (user, r.text)
        body = r.json()
        assert body["code"] in ("role_not_allowed", "not_responsible"), body
        if body["code"] == "role_not_allowed":
            assert "may not append 'Transferred'" in body["message"]

    # another district's officer: the hazard is not theirs to see (out of scope is 404)
    r = live_demo.login("officer2").post(
        f"/hazards/{hid}/events", json={"type": "transferred", "payload": good}
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"

    # bad payloads name their field (422)
    for payload, field in (
        ({**good, "reason": ""}, "reason"),
        ({k: v for k, v in good.items() if k != "responsible_unit"}, "responsible_unit"),
        ({**good, "responsible_person": 7}, "responsible_person"),
        ({**good, "responsible_unit": "万达广场"}, "responsible_unit"),  # the same unit
        ({**good, "responsible_user_id": "no-such-user"}, "responsible_user_id"),
    ):
        r = officer.post(f"/hazards/{hid}/events", json={"type": "transferred", "payload": payload})
        assert r.status_code == 422, (payload, r.text)
        assert field in r.json()["fields"], r.json()

    # none of the refusals left a trace in the chain
    detail = officer.get(f"/hazards/{hid}").json()
    assert [e["type"] for e in detail["events"]] == ["reported", "assigned"]
