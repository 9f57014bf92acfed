"""Enterprise self-inspection over HTTP on both databases (issue 18): the mall's safety manager
submits its daily fire patrol (accepted, signed by the patroller alone, its finding a hazard
reported by the enterprise); a regulator's checklist is 403 to it, another site 404; and the
regulator may not use the enterprise's self-inspection checklist."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from test_inspection_signatures import png, upload

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo import did
from server.demo_inspections import answered_in_full
from shared.checklist import load_all
from shared.clock import to_iso
from shared.findings import finding_hazard_id

MALL = did("site", "万达广场乌海店")  # the enterprise user is bound to it
SCHOOL = did("site", "乌海市第一中学")  # it is not
PATROL = load_all(DEFAULT_ROOT)[("fire_patrol_daily", 1)]
FAIL = "patrol.use.smoking"  # general, no photo required


@pytest.fixture
def real(live_demo, clock):
    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    return live_demo


def patrol(clock, signer: str | None, **over) -> dict:
    data = {
        "id": str(uuid.uuid4()),
        "site_id": MALL,
        "template_id": "fire_patrol_daily",
        "template_version": 1,
        "answers": answered_in_full(PATROL, {FAIL: "no"}, None),
        "notes": "14:00 巡查",
        "started_at": to_iso(clock.now() - timedelta(minutes=20)),
        "ended_at": to_iso(clock.now()),
    }
    if signer:
        data["signatures"] = {"inspector": signer}
    data.update(over)
    return data


def test_the_enterprise_submits_its_patrol_and_the_finding_is_its_hazard(real, clock):
    ent = real.login("enterprise")
    data = patrol(clock, upload(ent, png()))
    r = ent.post("/inspections", json=data)
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["signatures"]["representative"] is None and got["finding_count"] == 1
    hazard_id = finding_hazard_id(data["id"], FAIL)
    assert [h["id"] for h in got["hazards"]] == [hazard_id]
    with real.login("officer") as officer:  # the regulator sees it in the same chain
        hazard = officer.get(f"/hazards/{hazard_id}").json()
    assert hazard["site_id"] == MALL and hazard["state"] == "reported"
    assert hazard["title"] == PATROL.item(FAIL).hazard.zh
    assert [(e["type"], e["actor_role"]) for e in hazard["events"]] == [("reported", "enterprise")]
    assert ent.post("/inspections", json=data).status_code == 200  # a retry replays


def test_a_regulators_checklist_is_forbidden_to_the_enterprise(real, clock):
    ent = real.login("enterprise")
    cv = load_all(DEFAULT_ROOT)[("crowded_venue", 2)]
    data = patrol(
        clock,
        None,
        template_id="crowded_venue",
        template_version=2,
        profile="mall",
        answers=answered_in_full(cv, {}, "mall"),
    )
    r = ent.post("/inspections", json=data)
    assert r.status_code == 403, r.text
    err = r.json()
    assert err["code"] == "checklist_not_yours"
    assert "监管检查表" in err["message"] and "self-inspect" in err["fields"]["template_id"]
    assert ent.get(f"/inspections/{data['id']}").status_code == 404  # nothing stored


def test_the_checklist_list_says_who_inspects_with_each(real):
    with real.login("enterprise") as ent:
        listed = {c["id"]: c["inspectors"] for c in ent.get("/checklists").json()["items"]}
    assert listed["fire_patrol_daily"] == ["enterprise"]
    assert listed["crowded_venue"] == ["regulator"]


def test_another_site_is_not_found_for_the_enterprise(real, clock):
    ent = real.login("enterprise")
    r = ent.post("/inspections", json=patrol(clock, None, site_id=SCHOOL))
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "not_found"


def test_the_regulator_may_not_use_a_self_inspection_checklist(real, clock):
    inspector = real.login("inspector")
    r = inspector.post("/inspections", json=patrol(clock, None))
    assert r.status_code == 403, r.text
    assert "企业自查表" in r.json()["message"]


def test_a_self_inspection_that_does_not_fit_the_site_is_refused(real, clock):
    ent = real.login("enterprise")
    gas = load_all(DEFAULT_ROOT)[("gas_user_daily", 1)]
    data = patrol(
        clock,
        None,
        template_id="gas_user_daily",
        profile="canteen",
        answers=answered_in_full(gas, {}, "canteen"),
    )
    r = ent.post("/inspections", json=data)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "checklist_mismatch"
