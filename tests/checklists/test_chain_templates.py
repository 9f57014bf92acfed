"""The two city "一件事" templates (town_gas, ebike): they validate, every item says how its
finding is worded, every situation of the 2023 gas major-hazard criterion has a major item, and
a hazard found there is tagged to the matter and link its profile (or section) inspects: through
the shared findings builder, and end to end over HTTP on both databases, where the matter view
counts it.

Number items at their thresholds and count rules at min_failed - 1 / min_failed are checked for
every real template (these included) by test_coverage_complete.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from checklist_fixtures import import_test_templates, template_dict

from server.checklists.coverage import STANDARDS_FILE, covering_items, load_standards
from server.checklists.publishing import (
    validate_tree,
)
from server.demo import did
from server.demo_inspections import answered_in_full
from shared.checklist import (
    ChecklistTemplateError,
    Template,
    check_template,
    evaluate,
    load_all,
)
from shared.clock import to_iso
from shared.findings import finding_hazard_id, finding_hazard_payload
from shared.matters import MATTERS

REAL = Path(__file__).resolve().parents[2] / "checklists"
TEMPLATES = load_all(REAL)
GAS: Template = TEMPLATES[("town_gas", 1)]
EBIKE: Template = TEMPLATES[("ebike", 1)]
GAS_KEY = "mohurd_gas_major_2023"
GAS_ASPECTS = load_standards(REAL / STANDARDS_FILE)[GAS_KEY].aspects

RESTAURANT = did("site", "海勃湾川味小厨")  # 海勃湾区: in the demo inspector's scope


@pytest.mark.parametrize("template", [GAS, EBIKE], ids=lambda t: t.id)
def test_template_validates_and_is_published(template: Template) -> None:
    assert check_template(template) == []
    mine = [p for p in validate_tree(REAL) if p.startswith(f"{template.id}/")]
    assert mine == []
    assert template.industry == template.id
    # every profile is a site type the tablet can pre-select it by, and names no unknown link
    from shared.taxonomy import SiteType

    assert {p.id for p in template.profiles} <= {s.value for s in SiteType}


@pytest.mark.parametrize("template", [GAS, EBIKE], ids=lambda t: t.id)
def test_every_item_words_its_finding_and_states_the_requirement(template: Template) -> None:
    for item in template.items():
        assert item.hazard is not None, f"{item.id} has no hazard wording"
        assert item.hazard.zh.strip() and item.hazard.en.strip(), item.id
        assert item.hazard.zh != item.text.zh, f"{item.id}: the finding repeats the requirement"
        if item.answer == "yes_no":
            assert item.pass_when == "yes", f"{item.id}: state the requirement, pass = yes"
        if item.severity == "major":
            assert item.photo_required, item.id
        assert item.profiles, f"{item.id} applies to no site type"


def test_the_gas_criterion_is_listed_whole_as_read() -> None:
    clauses = [a.clause for a in GAS_ASPECTS]
    read = [f"第四条第（{n}）项" for n in "一二三四五"] + [f"第五条第（{n}）项" for n in "一二三"]
    read += ["第六条第（一）项", "第七条第（一）项"] + [f"第九条第（{n}）项" for n in "一二三四"]
    assert set(read) <= set(clauses)
    assert all(a.confirmed for a in GAS_ASPECTS if a.clause in read)
    assert len(clauses) == len(set(clauses)) == 20


@pytest.mark.parametrize("aspect", GAS_ASPECTS, ids=lambda a: a.clause)
def test_each_situation_of_the_gas_criterion_has_a_major_item(aspect) -> None:
    major = covering_items([GAS], GAS_KEY, aspect.clause, severity="major")
    assert major, f"{aspect.clause} ({aspect.zh}) has no major item"
    for _, item in major:
        failing = "no"  # every major gas item is a yes/no requirement
        (finding,) = evaluate(GAS, {item.id: failing}, item.profiles[0])
        assert finding.severity == "major" and aspect.clause in finding.basis


def _payload(template: Template, profile: str | None, item_id: str) -> dict:
    item = template.item(item_id)
    failing = {"yes": "no", "no": "yes"}.get(item.pass_when or "", 1)  # a count item: 1 found
    (finding,) = evaluate(template, {item_id: failing}, profile)
    return finding_hazard_payload(
        template, finding, inspection_id=str(uuid.uuid4()), site_id="s", photos={}, profile=profile
    )


@pytest.mark.parametrize(
    ("template", "profile", "item_id", "link"),
    [
        (GAS, "restaurant", "gas.user.gas_alarm", "lpg.use"),
        (GAS, "lpg_shop", "gas.shop.licensed_source", "lpg.sale"),
        (GAS, "lpg_filling", "gas.filling.own_cylinders_only", "lpg.filling"),
        (GAS, "lpg_delivery", "gas.delivery.vehicle_permit", "lpg.transport"),
        (GAS, "cylinder_testing", "gas.testing.scrap_destroyed", "lpg.disposal"),
        (GAS, "gas_network", "gas.network.no_encroachment", "piped_gas.network"),
        (GAS, "gas_works", "gas.works.protection_plan", "piped_gas.protection"),
        (EBIKE, "ebike_shop", "ebike.sale.no_modification", "ebike.sale"),
        (EBIKE, "ebike_repair", "ebike.repair.no_nonstandard_battery", "ebike.repair"),
        # a shop's charging item stays on the shop's link: the profile names it
        (EBIKE, "ebike_shop", "ebike.repair.charging_watched", "ebike.sale"),
        # a compound inspects two links: the section names each
        (EBIKE, "residential_compound", "ebike.park.none_in_escape_routes", "ebike.parking"),
        (EBIKE, "residential_compound", "ebike.charge.no_flying_leads", "ebike.charging"),
    ],
)
def test_findings_are_tagged_with_the_profiles_link(template, profile, item_id, link) -> None:
    payload = _payload(template, profile, item_id)
    assert (payload["matter_id"], payload["link_id"]) == (link.split(".")[0], link)
    assert link in {lid for m in MATTERS for lid in m.link_ids()}


def test_untagged_templates_stay_untagged() -> None:
    coal = TEMPLATES[("coal_mine", 1)]
    item = next(i for i in coal.items() if i.answer == "yes_no" and not i.profiles)
    payload = _payload(coal, None, item.id)
    assert "matter_id" not in payload and "link_id" not in payload


@pytest.mark.parametrize(
    ("chain", "problem"),
    [
        ({"matter": "water"}, "chain matter 'water' is unknown"),
        ({"matter": "lpg", "link": "parking"}, "chain link 'parking' is not a link of 'lpg'"),
    ],
)
def test_a_chain_outside_the_catalogue_is_refused(chain, problem) -> None:
    data = template_dict(1)
    data["profiles"][0]["chain"] = chain
    with pytest.raises(ChecklistTemplateError) as err:
        import yaml

        from shared.checklist import parse_template

        parse_template(yaml.safe_dump(data, allow_unicode=True).encode(), "x.yaml")
    assert any(problem in p for p in err.value.problems)


# --------------------------------------------------------------------------------------------
# End to end: an LPG restaurant inspected over HTTP
# --------------------------------------------------------------------------------------------


def _use_link(client) -> dict:
    lpg = client.get("/matters/lpg").json()
    return next(link for link in lpg["links"] if link["id"] == "lpg.use")


def test_lpg_restaurant_inspection_is_tagged_to_the_use_link(live_demo, clock):
    import_test_templates(live_demo.app.state.engine, clock, GAS)
    inspector, leader = live_demo.login("inspector"), live_demo.login("leader")
    before = _use_link(leader)
    failing = {
        "gas.user.gas_alarm": "no",  # general
        "gas.user.cylinder_distance": 0.3,  # general, below 0.5 m
        "gas.user.no_lpg_underground": "no",  # major: LPG in a basement
    }
    passing = {"gas.user.flame_failure": "yes", "gas.user.hose_length": 1.5}
    iid = str(uuid.uuid4())
    photo = "ab" * 32
    r = inspector.post(
        "/inspections",
        json={
            "id": iid,
            "site_id": RESTAURANT,
            "template_id": "town_gas",
            "template_version": 1,
            "profile": "restaurant",
            "answers": answered_in_full(GAS, {**failing, **passing}, "restaurant"),
            "photos": {k: [photo] for k in failing},
            "notes": "后厨燃气检查",
            "started_at": to_iso(clock.now() - timedelta(hours=1)),
            "ended_at": to_iso(clock.now()),
        },
    )
    assert r.status_code == 201, r.text
    hazard_ids = {finding_hazard_id(iid, k) for k in failing}
    assert {h["id"] for h in r.json()["hazards"]} == hazard_ids

    tagged = leader.get(
        "/hazards", params={"matter": "lpg", "link": "lpg.use", "limit": 200}
    ).json()["items"]
    assert hazard_ids <= {h["id"] for h in tagged}
    for hid in hazard_ids:
        h = leader.get(f"/hazards/{hid}").json()
        assert (h["matter_id"], h["link_id"]) == ("lpg", "lpg.use")
    assert not hazard_ids & {
        h["id"] for h in leader.get("/hazards", params={"matter": "ebike"}).json()["items"]
    }

    after = _use_link(leader)
    assert after["open"] == before["open"] + 3
    assert after["major_open"] == before["major_open"] + 1
    lpg = leader.get("/matters/lpg").json()
    assert lpg["open"] == sum(link["open"] for link in lpg["links"])
    # the link's sites by the rule that tags their hazards, and how many were inspected
    assert after["sites"] >= 1 and before["sites"] == after["sites"]
    assert after["inspected_30d"] == after["inspected_90d"] >= max(1, before["inspected_30d"])
    if before["inspected_30d"] == 0:  # only this inspection reached the restaurant
        assert after["inspected_30d"] == 1
    assert after["inspected_30d"] <= after["sites"]
    # the demo registers a site for every link of the LPG chain, delivery and testing too
    assert all(link["sites"] >= 1 for link in lpg["links"]), lpg["links"]
    # the matter list counts them too
    listed = next(m for m in leader.get("/matters").json() if m["id"] == "lpg")
    assert listed["open"] == lpg["open"]
