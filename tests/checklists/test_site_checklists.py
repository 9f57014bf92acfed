"""The right checklist, over HTTP on both databases: a site's type decides which checklist and
profile fit (shared.site_checklists); a mismatch is refused with the reason, or goes through
with an override reason that is recorded on the inspection or plan."""

from __future__ import annotations

import pytest
from test_inspections import body

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo import did
from server.demo_inspections import answered_in_full
from shared.checklist import load_all
from shared.site_checklists import SITE_CHECKLISTS, default_for
from shared.taxonomy import SiteType

PIT = did("site", "千里山石灰石矿")  # a non-coal open pit in 海勃湾区
MALL = did("site", "万达广场乌海店")
SCHOOL = did("site", "乌海市第一中学")


@pytest.fixture
def real(live_demo, clock):
    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    return live_demo


def _full(template_id: str, profile: str | None) -> dict:
    return answered_in_full(load_all(DEFAULT_ROOT)[(template_id, 1)], {}, profile)


def test_every_site_type_has_a_checklist_that_exists():
    templates = load_all(DEFAULT_ROOT)  # once: parsing every template per site type is slow
    held = {tid: t.industry for (tid, _v), t in templates.items()}
    for site_type in SiteType:
        fit = default_for(site_type, "", held)
        assert fit is not None and fit.template_id in held, site_type
        template = templates[(fit.template_id, 1)]
        assert fit.profile is None or fit.profile in template.profile_ids(), site_type
    assert default_for("open_pit", "mine", held).template_id == "noncoal_mine"
    assert SITE_CHECKLISTS["mall"][0].profile == "mall"


def test_an_inspection_with_the_wrong_checklist_needs_a_reason(real, clock):
    inspector = real.login("inspector")
    coal = body(clock, {}, complete=False, site_id=PIT, template_id="coal_mine")
    coal["answers"] = _full("coal_mine", None)
    r = inspector.post("/inspections", json=coal)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "checklist_mismatch" and "template_id" in r.json()["fields"]
    assert "不适用于露天矿山" in r.json()["message"] and "金属非金属矿山" in r.json()["message"]

    wrong_profile = body(clock, {}, complete=False, site_id=PIT, template_id="noncoal_mine")
    wrong_profile |= {"profile": "underground", "answers": _full("noncoal_mine", "underground")}
    r = inspector.post("/inspections", json=wrong_profile)
    assert r.status_code == 422 and list(r.json()["fields"]) == ["profile"]

    right = {**wrong_profile, "profile": "open_pit", "answers": _full("noncoal_mine", "open_pit")}
    r = inspector.post("/inspections", json=right)
    assert r.status_code == 201, r.text
    assert r.json()["checklist_override"] is None

    reason = "该矿兼采煤层，按局里要求加查煤矿项目"
    r = inspector.post("/inspections", json={**coal, "checklist_override": f"  {reason} "})
    assert r.status_code == 201, r.text
    stored = inspector.get(f"/inspections/{coal['id']}").json()
    assert stored["checklist_override"] == reason and stored["template_id"] == "coal_mine"


def test_a_plan_takes_the_sites_checklist_and_refuses_another_without_a_reason(real):
    officer = real.login("officer")
    plan = {"name": "商场学校周检", "site_ids": [MALL, SCHOOL], "frequency": "weekly",
            "start_date": "2026-03-02"}  # fmt: skip
    r = officer.post("/plans", json=plan)
    assert r.status_code == 201, r.text
    latest = max(v for tid, v in load_all(DEFAULT_ROOT) if tid == "crowded_venue")
    assert (r.json()["template_id"], r.json()["template_version"]) == ("crowded_venue", latest)

    r = officer.post("/plans", json=plan | {"template_id": "coal_mine", "template_version": 1})
    assert r.status_code == 422 and r.json()["code"] == "checklist_mismatch"
    assert "万达广场乌海店" in r.json()["message"] and "template_id" in r.json()["fields"]

    r = officer.post(
        "/plans", json=plan | {"site_ids": [MALL, PIT], "name": "混合"}
    )  # two site types, two checklists: name one or make two plans
    assert r.status_code == 422 and r.json()["fields"] == {
        "template_id": "the sites call for different checklists: make a plan for each, or name one"
    }

    reason = "商场地下车库按局里要求试用煤矿通风检查项"
    r = officer.post(
        "/plans",
        json=plan | {"template_id": "coal_mine", "checklist_override": reason, "site_ids": [MALL]},
    )
    assert r.status_code == 201, r.text
    coal = max(v for tid, v in load_all(DEFAULT_ROOT) if tid == "coal_mine")
    assert r.json()["checklist_override"] == reason and r.json()["template_version"] == coal
