"""No empty inspections, over HTTP on both databases: an inspection with items unanswered, or
marked 不适用/未检查 without a reason, is refused with a field per item; marked items with their
reasons go through, and the record carries its completion rate (完成率)."""

from __future__ import annotations

from test_inspections import MALL, body, site_hazard_count

GENERAL = ["t.exit.clear", "t.alarm.works", "t.ext.pressure", "t.drill.freq", "t.note"]


def test_nothing_answered_is_refused_naming_every_item(checklists, clock):
    inspector = checklists.login("inspector")
    before = site_hazard_count(inspector)
    r = inspector.post("/inspections", json=body(clock, {}, complete=False))
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["code"] == "inspection_incomplete"
    assert sorted(err["fields"]) == sorted(f"answers.{i}" for i in GENERAL)
    assert (
        "还有 5 项未作答" in err["message"] and "1.1 安全出口是否畅通、未被封堵？" in err["message"]
    )
    # the mall-only item does not apply without the mall profile, so it is not asked for
    assert "answers.t.mall.shutters" not in err["fields"]
    with_mall = inspector.post(
        "/inspections", json=body(clock, {}, complete=False, profile="mall")
    ).json()
    assert "answers.t.mall.shutters" in with_mall["fields"]
    # one item left out is named alone; English on request
    one_left = body(clock, {"t.note": None})
    r = inspector.post("/inspections", json=one_left, headers={"Accept-Language": "en"})
    assert r.status_code == 422 and list(r.json()["fields"]) == ["answers.t.note"]
    assert "1 item(s) not answered: 1.5 Other observations" in r.json()["message"]
    assert inspector.get("/inspections").json()["items"] == []
    assert site_hazard_count(inspector) == before


def test_marks_need_a_reason_and_lower_the_completion_rate(checklists, clock):
    inspector = checklists.login("inspector")
    marked = {"t.drill.freq": "unchecked", "t.note": "na"}
    r = inspector.post("/inspections", json=body(clock, marked))
    assert r.status_code == 422 and r.json()["code"] == "inspection_incomplete"
    assert set(r.json()["fields"]) == {"item_notes.t.drill.freq", "item_notes.t.note"}
    assert "2 项标为不适用或未检查但未写原因" in r.json()["message"]
    blank = {"t.drill.freq": "  ", "t.note": "无文字记录项"}
    r = inspector.post("/inspections", json=body(clock, marked, item_notes=blank))
    assert set(r.json()["fields"]) == {"item_notes.t.drill.freq"}

    reasons = {"t.drill.freq": "演练台账在总部，下次补查", "t.note": "无需记录"}
    r = inspector.post("/inspections", json=body(clock, marked, item_notes=reasons))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["finding_count"] == 0  # 未检查 is no finding, and no pass either
    assert out["completion"] == {
        "applicable": 5,
        "answered": 3,
        "not_applicable": 1,
        "unchecked": 1,
        "unanswered": [],
        "rate": 0.8,
    }
    assert inspector.get(f"/inspections/{out['id']}").json()["completion"]["rate"] == 0.8
    assert out["site_id"] == MALL
