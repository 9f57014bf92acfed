"""The three sector templates of the city programme (hazmat_road_transport, construction,
industry_trade): each validates and is published, words every finding, has a major item for
every situation of its major-hazard criterion, fits its site types, and, inspected over HTTP on
both databases at its demo site, raises hazards titled with the items' defect wording (the
transport ones tagged to the hazardous-chemicals chain, which the matter view counts).

Number items at their thresholds are checked for every real template by
test_coverage_complete.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from checklist_fixtures import import_test_templates

from server.checklists.coverage import STANDARDS_FILE, covering_items, load_standards
from server.checklists.publishing import (
    validate_tree,
)
from server.demo import did
from server.demo_inspections import answered_in_full
from shared.checklist import (
    Template,
    check_template,
    evaluate,
    load_all,
)
from shared.clock import to_iso
from shared.findings import finding_hazard_id, finding_hazard_payload
from shared.site_checklists import default_for
from shared.taxonomy import Industry, SiteType

REAL = Path(__file__).resolve().parents[2] / "checklists"
TEMPLATES = load_all(REAL)
TRANSPORT: Template = TEMPLATES[("hazmat_road_transport", 1)]
CONSTRUCTION: Template = TEMPLATES[("construction", 1)]
TRADE: Template = TEMPLATES[("industry_trade", 1)]
ALL = [TRANSPORT, CONSTRUCTION, TRADE]
STANDARDS = load_standards(REAL / STANDARDS_FILE)
# each template's major-hazard criterion, and how many situations it lists
CRITERIA = {
    "hazmat_road_transport": ("mot_road_major_2023", 5),
    "construction": ("mohurd_construction_major_2022", 33),
    "industry_trade": ("mem_order_10_2023", 64),  # 3 management + 47 sector + 14 special
}


@pytest.mark.parametrize("template", ALL, ids=lambda t: t.id)
def test_template_validates_and_is_published(template: Template) -> None:
    assert check_template(template) == []
    assert [p for p in validate_tree(REAL) if p.startswith(f"{template.id}/")] == []
    assert template.industry in {i.value for i in Industry}
    profiles = {p.id for p in template.profiles}
    assert profiles <= {s.value for s in SiteType}
    # a site of each profile's type is offered this template under that profile by default
    held = {tid: t.industry for (tid, _v), t in TEMPLATES.items()}
    for pid in profiles:
        fit = default_for(pid, template.industry, held)
        assert fit is not None and (fit.template_id, fit.profile) == (template.id, pid)


@pytest.mark.parametrize("template", ALL, ids=lambda t: t.id)
def test_every_item_words_its_finding(template: Template) -> None:
    for item in template.items():
        assert item.hazard is not None and item.hazard.zh.strip() and item.hazard.en.strip()
        assert item.hazard.zh != item.text.zh, f"{item.id}: the finding repeats the requirement"
        if item.answer == "yes_no":
            assert item.pass_when == "yes", item.id
        if item.severity == "major":
            assert item.photo_required, item.id
            assert item.stop_work or item.measures is not None, item.id


@pytest.mark.parametrize("template", ALL, ids=lambda t: t.id)
def test_each_situation_of_the_criterion_has_a_major_item(template: Template) -> None:
    key, count = CRITERIA[template.id]
    aspects = STANDARDS[key].aspects
    assert len(aspects) == len({a.clause for a in aspects}) == count
    for aspect in aspects:
        major = covering_items([template], key, aspect.clause, severity="major")
        assert major, f"{aspect.clause} ({aspect.zh}) has no major item"
        for _, item in major:
            profile = item.profiles[0] if item.profiles else template.profiles[0].id
            (finding,) = evaluate(template, {item.id: "no"}, profile)
            assert finding.severity == "major" and aspect.clause in finding.basis
            assert finding.title_zh == item.hazard.zh


@pytest.mark.parametrize(
    ("profile", "item_id", "link"),
    [
        ("hazmat_carrier", "hm.carrier.tank_medium", "hazardous_chemicals.transport"),
        ("hazmat_parking", "hm.park.loaded_watch", "hazardous_chemicals.transport"),
        # the loader's profile names its own link, over the section's
        ("hazmat_loader", "hm.carrier.tank_medium", "hazardous_chemicals.loading"),
        ("hazmat_loader", "hm.load.pre_check", "hazardous_chemicals.loading"),
    ],
)
def test_transport_findings_are_tagged_to_the_chemical_chain(profile, item_id, link) -> None:
    (finding,) = evaluate(TRANSPORT, {item_id: "no"}, profile)
    payload = finding_hazard_payload(
        TRANSPORT, finding, inspection_id=str(uuid.uuid4()), site_id="s", photos={}, profile=profile
    )
    assert (payload["matter_id"], payload["link_id"]) == ("hazardous_chemicals", link)


def test_construction_and_trade_stay_untagged() -> None:
    for template, profile in ((CONSTRUCTION, "building_site"), (TRADE, "metallurgy")):
        item = next(i for i in template.items() if i.applies_to(profile) and i.answer == "yes_no")
        (finding,) = evaluate(template, {item.id: "no"}, profile)
        payload = finding_hazard_payload(
            template, finding, inspection_id="i", site_id="s", photos={}, profile=profile
        )
        assert "matter_id" not in payload


def test_a_dust_item_is_not_applicable_where_there_is_no_dust() -> None:
    """Dust, ammonia and confined-space items apply across sectors; "na" is never a finding."""
    assert TRADE.item("it.dust.housekeeping").applies_to("textiles")
    assert evaluate(TRADE, {"it.dust.housekeeping": "na"}, "textiles") == []
    assert not TRADE.item("it.met.no_standing_water").applies_to("nonferrous")


# --------------------------------------------------------------------------------------------
# Over HTTP: each template at its demo site (海勃湾区, in the demo inspector's scope)
# --------------------------------------------------------------------------------------------

RUNS = [
    (
        TRANSPORT,
        "乌海市顺安危险货物运输有限公司",
        "hazmat_carrier",
        {"hm.carrier.tank_medium": "no", "hm.carrier.gps_monitoring": "no"},
    ),
    (
        CONSTRUCTION,
        "滨河新区安置房项目工地",
        "building_site",
        {"con.scaf.ties": "no", "con.power.rcd_trip_ma": 50, "con.height.edges_openings": "no"},
    ),
    (
        TRADE,
        "千里山铁合金厂",
        "metallurgy",
        {"it.met.co_alarms": "no", "it.dust.housekeeping": "no", "it.mgmt.emergency_plan": "no"},
    ),
]


def _link(client, matter: str, link: str) -> dict:
    return next(x for x in client.get(f"/matters/{matter}").json()["links"] if x["id"] == link)


@pytest.mark.parametrize(
    ("template", "site", "profile", "failing"), RUNS, ids=lambda v: getattr(v, "id", None)
)
def test_demo_site_inspection_raises_hazards_titled_with_the_wording(
    live_demo, clock, template, site, profile, failing
):
    import_test_templates(live_demo.app.state.engine, clock, template)
    inspector, leader = live_demo.login("inspector"), live_demo.login("leader")
    chemical = template is TRANSPORT
    if chemical:
        before = _link(leader, "hazardous_chemicals", "hazardous_chemicals.transport")
    iid = str(uuid.uuid4())
    r = inspector.post(
        "/inspections",
        json={
            "id": iid,
            "site_id": did("site", site),
            "template_id": template.id,
            "template_version": template.version,
            "profile": profile,
            "answers": answered_in_full(template, failing, profile),
            "photos": {k: ["ab" * 32] for k in failing},
            "started_at": to_iso(clock.now() - timedelta(hours=2)),
            "ended_at": to_iso(clock.now()),
        },
    )
    assert r.status_code == 201, r.text
    titles = {h["id"]: h["title"] for h in r.json()["hazards"]}
    assert set(titles) == {finding_hazard_id(iid, k) for k in failing}
    for item_id in failing:
        item = template.item(item_id)
        hid = finding_hazard_id(iid, item_id)
        assert titles[hid] == item.hazard.zh
        detail = leader.get(f"/hazards/{hid}").json()
        assert detail["title"] == item.hazard.zh and detail["severity"] == item.severity
        if item.measures is not None:
            assert f"立即措施：{item.measures.zh}" in detail["events"][0]["payload"]["description"]
        if chemical:
            assert (detail["matter_id"], detail["link_id"]) == (
                "hazardous_chemicals",
                "hazardous_chemicals.transport",
            )
        else:
            assert detail.get("matter_id") is None
    if chemical:
        after = _link(leader, "hazardous_chemicals", "hazardous_chemicals.transport")
        assert after["open"] == before["open"] + len(failing)
        assert after["major_open"] == before["major_open"] + 1


def test_the_demo_inspects_each_sector_template_and_tags_the_carrier(demo, blob_store, clock):
    """The Wuhai demo inspects a carrier, a building site and a ferro-alloy plant, so the new
    templates and the hazardous-chemicals transport link have something to show."""
    from sqlmodel import select

    from server.checklists.service import import_tree
    from server.demo_inspections import load_demo_inspections
    from server.hazards.models import Hazard
    from server.inspections.models import Inspection
    from server.uow import unit_of_work

    with unit_of_work(demo) as s:  # the test is the edge that commits
        import_tree(s, REAL, clock.now())
        assert load_demo_inspections(s, now=clock.now(), store=blob_store) > 0
        for template, site, _profile, _failing in RUNS:
            site_id = did("site", site)
            done = s.exec(select(Inspection).where(Inspection.site_id == site_id)).all()
            assert [i.template_id for i in done] == [template.id]
            raised = s.exec(select(Hazard).where(Hazard.inspection_id == done[0].id)).all()
            assert raised, site
            wording = {i.hazard.zh for i in template.items() if i.hazard is not None}
            assert {h.title for h in raised} <= wording
            tags = {(h.matter_id, h.link_id) for h in raised}
            if template is TRANSPORT:
                assert tags == {("hazardous_chemicals", "hazardous_chemicals.transport")}
            else:
                assert tags == {(None, None)}
