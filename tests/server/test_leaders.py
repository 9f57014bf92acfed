"""Leaders can lead, over real HTTP on both databases: a 批示 reaches the owner of the next
step, waits on their own queue until they 签收 it, and nobody else may; 挂牌督办 raises the
supervision level with a reason; every role's "待我处理" is what that role does next."""

from __future__ import annotations

from server.demo import did

EBIKE = did(
    "hazard", "地下车库电动自行车违规充电"
)  # the mall's, assigned to the enterprise account
REPORTED = did("hazard", "教学楼二层疏散指示标志不亮")  # awaiting an officer's assignment
IN_REVIEW = did("hazard", "防火卷帘门下堆放杂物")  # awaiting an officer's review
WUDA_MAJOR = did("hazard", "采煤工作面甲烷浓度超限仍在作业")  # major, long overdue


def event(client, hid, type_, expect=201, **payload):
    r = client.post(f"/hazards/{hid}/events", json={"type": type_, "payload": payload})
    assert r.status_code == expect, r.text
    return r.json()


def awaiting(client) -> dict[str, dict]:
    items = client.get("/hazards", params={"awaiting": "true", "limit": 200}).json()["items"]
    return {h["id"]: h for h in items}


def test_instruction_waits_on_the_enterprise_until_it_acknowledges(live_demo):
    leader, ent, officer = (live_demo.login(u) for u in ("leader", "enterprise", "officer"))
    assert EBIKE in awaiting(ent)  # its own assigned work is on its own list
    assert awaiting(ent)[EBIKE]["instruction_awaits"] == []
    h = event(leader, EBIKE, "instructed", text="请于本周内完成充电桩改造并拍照上报")
    last = h["events"][-1]
    assert last["type"] == "instructed" and last["payload"]["to_role"] == "enterprise"
    assert last["payload"]["to_user_id"] == ent.get("/me").json()["id"]
    assert h["instructions"][0]["text"] == "请于本周内完成充电桩改造并拍照上报"
    assert h["link_owner"]["role"] == "enterprise"  # who acts next is unchanged
    mine = awaiting(ent)
    assert mine[EBIKE]["instruction_awaits"] == ["enterprise"]
    assert "acknowledged" in ent.get(f"/hazards/{EBIKE}").json()["allowed_events"]
    assert ent.get(f"/hazards/{EBIKE}").json()["awaits_me"] is True
    # the officer is not the addressee: refused with the reason, not acknowledged for them
    refused = event(officer, EBIKE, "acknowledged", expect=403)
    assert refused["code"] == "not_addressee" and "企业" in refused["message"]
    # a role that never acknowledges: refused by the rules
    refused = event(live_demo.login("inspector"), EBIKE, "acknowledged", expect=403)
    assert refused["code"] == "role_not_allowed"
    h = event(ent, EBIKE, "acknowledged", comment="收到，周五前完成")
    assert h["instructions"] == [] and h["chain_ok"]
    assert h["events"][-1]["payload"] == {
        "instructions": [last["id"]],
        "comment": "收到，周五前完成",
    }
    assert awaiting(ent)[EBIKE]["instruction_awaits"] == []
    again = event(ent, EBIKE, "acknowledged", expect=409)
    assert again["code"] == "no_instruction"


def test_instruction_on_an_officers_step_goes_to_the_officers(live_demo):
    leader, officer, ent = (live_demo.login(u) for u in ("leader", "officer", "enterprise"))
    assert REPORTED in awaiting(officer)
    h = event(leader, REPORTED, "instructed", text="今日内交办学校整改")
    assert h["events"][-1]["payload"] == {"text": "今日内交办学校整改", "to_role": "officer"}
    assert awaiting(officer)[REPORTED]["instruction_awaits"] == ["officer"]
    refused = event(ent, REPORTED, "acknowledged", expect=404)  # not the enterprise's site
    assert refused["code"] == "not_found"
    h = event(officer, REPORTED, "acknowledged")
    assert h["instructions"] == [] and h["events"][-1]["payload"] == {
        "instructions": [h["events"][-2]["id"]]
    }


def test_wrong_roles_and_bad_payloads_are_refused_with_reasons(live_demo):
    leader, officer = live_demo.login("leader"), live_demo.login("officer")
    refused = event(officer, EBIKE, "instructed", expect=403, text="x")
    assert refused["code"] == "role_not_allowed" and "批示" in refused["message"]
    refused = event(officer, WUDA_MAJOR, "supervised", expect=404, reason="x")  # not his district
    refused = event(live_demo.login("officer2"), WUDA_MAJOR, "supervised", expect=403, reason="x")
    assert refused["code"] == "role_not_allowed"
    refused = event(leader, EBIKE, "instructed", expect=422)
    assert refused["fields"] == {"text": "text is required"}
    refused = event(leader, EBIKE, "instructed", expect=422, text="\x00")
    assert "text" in refused["fields"]
    refused = event(leader, WUDA_MAJOR, "supervised", expect=422, level=2)
    assert refused["fields"] == {"reason": "reason is required"}
    refused = event(leader, WUDA_MAJOR, "supervised", expect=422, level="city", reason="r")
    assert list(refused["fields"]) == ["level"]
    refused = event(leader, WUDA_MAJOR, "supervised", expect=422, level=9, reason="r")
    assert list(refused["fields"]) == ["level"]


def test_leader_lists_an_overdue_major_hazard_for_supervision(live_demo):
    leader = live_demo.login("leader")
    before = leader.get(f"/hazards/{WUDA_MAJOR}").json()
    assert before["severity"] == "major" and before["overdue"]
    assert {"instructed", "supervised"} <= set(before["allowed_events"])
    h = event(leader, WUDA_MAJOR, "supervised", level=2, reason="市政府挂牌督办，限10日内整改到位")
    assert h["escalation_level"] == 2
    assert h["supervision"]["reason"] == "市政府挂牌督办，限10日内整改到位"
    assert h["supervision"]["level"] == 2
    assert h["events"][-1]["payload"]["supervising_level"] == "city"
    listed = leader.get("/hazards", params={"escalated": "true", "limit": 200}).json()["items"]
    assert WUDA_MAJOR in {x["id"] for x in listed}
    again = event(leader, WUDA_MAJOR, "supervised", expect=422, level=2, reason="再次")
    assert again["code"] == "invalid_supervision"
    assert leader.get(f"/hazards/{WUDA_MAJOR}/chain/verify").json()["ok"]


def test_each_roles_queue_is_its_own_next_steps(live_demo):
    officer, ent, leader = (live_demo.login(u) for u in ("officer", "enterprise", "leader"))
    theirs = awaiting(officer)
    assert REPORTED in theirs and IN_REVIEW in theirs
    assert EBIKE not in theirs  # the enterprise's step, not the officer's
    assert all("officer" in h["acts_next"] for h in theirs.values())
    ours = awaiting(ent)
    assert EBIKE in ours and IN_REVIEW not in ours and REPORTED not in ours
    assert all("enterprise" in h["acts_next"] for h in ours.values())
    assert awaiting(leader) == {}  # a leader owes no step of any chain
