"""Self-inspection templates (自查, issue 18): who may use a template is part of the template,
validated; the published patrol and check templates follow the v2 rules; each site type the fire,
gas and e-bike rules cover has its self-inspections and rhythm (shared.site_checklists), and so
does a site of every other industry whose rules require the enterprise to check itself: its
template built from the regulator's items of the same id, unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from server.checklists.publishing import (
    validate_tree,
)
from server.checklists.service import DEFAULT_ROOT
from shared.checklist import (
    LEGACY_VERSIONS,
    Template,
    check_template,
    load_all,
    template_digest,
)
from shared.site_checklists import (
    RHYTHMS,
    SELF_CHECKS,
    SITE_CHECKLISTS,
    Fit,
    default_for,
    picker_fits,
    self_checks_for,
    self_mismatch,
)
from shared.text import for_inspectors

TEMPLATES = load_all(DEFAULT_ROOT)
# each industry's self-inspection template and the regulator template its items come from
DERIVED = {
    "coal_shift_check": "coal_mine",
    "noncoal_shift_check": "noncoal_mine",
    "chemical_self_check": "hazardous_chemicals",
    "industry_trade_self_check": "industry_trade",
    "gas_operator_self_check": "town_gas",
    "construction_daily_check": "construction",
    "hazmat_pretrip_check": "hazmat_road_transport",
}
SELF_IDS = {"fire_patrol_daily", "fire_check_monthly", "gas_user_daily", "ebike_patrol", *DERIVED}
HELD = {tid: t.industry for (tid, _v), t in TEMPLATES.items()}


def test_the_published_tree_is_valid_with_the_self_inspection_templates() -> None:
    assert validate_tree(DEFAULT_ROOT) == []
    assert {tid for tid, _ in TEMPLATES} >= SELF_IDS


def test_self_inspection_templates_are_for_the_enterprise_and_regulator_ones_are_not() -> None:
    for (tid, _v), template in TEMPLATES.items():
        if tid in SELF_IDS:
            assert template.inspectors == ("enterprise",) and template.self_inspection
            assert not template.usable_by("regulator")
        else:
            assert template.inspectors == ("regulator",) and not template.self_inspection


def test_a_default_inspectors_field_leaves_old_digests_alone() -> None:
    """Versions published before the field keep their canonical JSON, so pins still match."""
    for key in LEGACY_VERSIONS:
        content = TEMPLATES[key].model_dump(mode="json", by_alias=True)
        assert "inspectors" not in content
    patrol = TEMPLATES[("fire_patrol_daily", 1)]
    dumped = patrol.model_dump(mode="json", by_alias=True)
    assert dumped["inspectors"] == ["enterprise"]
    assert template_digest(Template.model_validate(dumped)) == template_digest(patrol)


def _raw(**change: object) -> dict:
    raw = TEMPLATES[("fire_patrol_daily", 1)].model_dump(mode="json", by_alias=True)
    return {**raw, **change}


def test_inspectors_must_name_who_and_only_known_parties() -> None:
    assert any("inspectors is empty" in p for p in check_template(Template(**_raw(inspectors=[]))))
    twice = check_template(Template(**_raw(inspectors=["enterprise", "enterprise"])))
    assert any("twice" in p for p in twice)
    with pytest.raises(ValidationError) as bad:
        Template(**_raw(inspectors=["landlord"]))
    assert "inspectors" in str(bad.value)
    both = Template(**_raw(inspectors=["regulator", "enterprise"]))
    assert check_template(both) == [] and both.usable_by("regulator") and both.self_inspection


def test_a_short_self_inspection_template_is_a_draft_below_its_own_floor(tmp_path: Path) -> None:
    """A patrol is short by nature (floor 8), a regulator's checklist is not (floor 40)."""
    src = (DEFAULT_ROOT / "ebike_patrol" / "1.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "ebike_patrol"
    folder.mkdir()
    (folder / "1.yaml").write_text(src, encoding="utf-8")
    assert not any("items, at least" in p for p in validate_tree(tmp_path))
    (folder / "1.yaml").write_text(src.replace("- enterprise", "- regulator"), encoding="utf-8")
    assert any("at least 40 required" in p for p in validate_tree(tmp_path))


def test_every_self_check_names_a_self_inspection_template_and_a_known_rhythm() -> None:
    latest = {tid: t for (tid, _v), t in sorted(TEMPLATES.items())}
    for site_type, checks in SELF_CHECKS.items():
        assert checks, site_type
        for check in checks:
            template = latest[check.template_id]
            assert template.self_inspection and check.rhythm in RHYTHMS
            assert check.profile is None or check.profile in template.profile_ids()


def test_a_mall_patrols_every_two_hours_and_checks_monthly_a_canteen_checks_its_gas() -> None:
    held = {tid: t.industry for (tid, _v), t in TEMPLATES.items()}
    mall = [(c.template_id, c.rhythm) for c in self_checks_for("mall", held)]
    assert mall == [("fire_patrol_daily", "every_2h_open"), ("fire_check_monthly", "monthly")]
    canteen = self_checks_for("canteen", held)
    assert [(c.template_id, c.profile) for c in canteen] == [("gas_user_daily", "canteen")]
    assert self_checks_for("ebike_shop", held) == []  # no rule asks a shop to patrol itself
    # the regulator's default checklist is never a self-inspection one
    assert default_for("mall", "crowded_venue", held).template_id == "crowded_venue"


def test_a_self_inspection_that_does_not_fit_is_refused_with_the_reason() -> None:
    assert self_mismatch("mall", "fire_patrol_daily", None) is None
    wrong = self_mismatch("mall", "gas_user_daily", "restaurant")
    assert wrong is not None and wrong.code == "checklist_mismatch"
    assert "fire_patrol_daily" in wrong.en and "template_id" in wrong.fields
    profile = self_mismatch("canteen", "gas_user_daily", "piped_user")
    assert profile is not None and "profile" in profile.fields


def _latest(tid: str) -> Template:
    return max((t for (i, _v), t in TEMPLATES.items() if i == tid), key=lambda t: t.version)


@pytest.mark.parametrize("tid", sorted(DERIVED))
def test_a_derived_item_is_its_regulator_item_unchanged(tid: str) -> None:
    """An item that carries a regulator item's id is that check: same requirement, defect
    wording, answer rule, basis (the standard's title too), severity, deadline and profiles; so a
    hazard the enterprise finds reads and counts as the one an inspector would write."""
    own, source = _latest(tid), _latest(DERIVED[tid])
    assert own.industry == source.industry and own.inspectors == ("enterprise",)
    shared = [i for i in own.items() if i.id in source.items_by_id]
    # built from the regulator's items; its own few are named as such
    assert len(shared) > len(list(own.items())) / 2
    assert all(".self." in i.id for i in own.items() if i.id not in source.items_by_id)
    for item in shared:
        theirs = source.item(item.id)
        keep = item.model_dump(exclude={"guidance", "profiles"})
        assert keep == theirs.model_dump(exclude={"guidance", "profiles"}), item.id
        assert own.standard(item.basis.standard) == source.standard(theirs.basis.standard)
        if own.profiles and own.profile_ids() <= source.profile_ids():  # premises, not levels
            assert set(item.profiles or own.profile_ids()) <= set(
                theirs.profiles or source.profile_ids()
            ), item.id
    for item in own.items():  # the template's own items cite a clause too
        assert item.basis.clause.strip() and item.hazard is not None


@pytest.mark.parametrize("tid", sorted(DERIVED))
def test_no_placeholder_reaches_the_enterprise(tid: str) -> None:
    """Every basis is shown as written: nothing the display would have to drop."""
    for item in _latest(tid).items():
        assert for_inspectors(item.basis.clause) == item.basis.clause, item.id
        assert "待" not in item.basis.clause and "核对" not in item.basis.clause, item.id


# site type -> (template, rhythm, profile) of each self-inspection its rules require
OWED = {
    "coal_mine": [("coal_shift_check", "daily", None)],
    "noncoal_underground": [("noncoal_shift_check", "daily", "underground")],
    "open_pit": [("noncoal_shift_check", "daily", "open_pit")],
    "tailings": [("noncoal_shift_check", "daily", "tailings")],
    "chemical_plant": [
        ("chemical_self_check", "daily", "daily"),
        ("chemical_self_check", "weekly", "weekly"),
        ("chemical_self_check", "monthly", "monthly"),
        ("chemical_self_check", "quarterly", "seasonal"),
    ],
    "lpg_filling": [("gas_operator_self_check", "daily", "lpg_filling")],
    "gas_network": [("gas_operator_self_check", "daily", "gas_network")],
    "building_site": [("construction_daily_check", "daily", "building_site")],
    "municipal_site": [("construction_daily_check", "daily", "municipal_site")],
    "hazmat_carrier": [("hazmat_pretrip_check", "daily", None)],
    "dust_plant": [("industry_trade_self_check", "monthly", "dust_plant")],
    "metallurgy": [("industry_trade_self_check", "monthly", "metallurgy")],
}


@pytest.mark.parametrize("site_type", sorted(OWED))
def test_each_industry_owes_its_self_inspections_at_the_rules_rhythm(site_type: str) -> None:
    owed = [(c.template_id, c.rhythm, c.profile) for c in self_checks_for(site_type, HELD)]
    assert owed == OWED[site_type]
    for tid, _rhythm, profile in owed:
        template = _latest(tid)
        assert template.self_inspection and not template.usable_by("regulator")
        assert profile is None or profile in template.profile_ids()
        assert self_mismatch(site_type, tid, profile) is None
    # the enterprise is offered each template once, its profiles in the order owed; the
    # regulator keeps the site's own checklists
    offered = picker_fits("enterprise", site_type, "", HELD)
    assert offered == [
        Fit(tid, tuple(p for t, _r, p in owed if t == tid))
        for tid in dict.fromkeys(t for t, _r, _p in owed)
    ]
    regulator = picker_fits("inspector", site_type, "", HELD)
    assert regulator and not any(_latest(f.template_id).self_inspection for f in regulator)


def test_a_chemical_plants_daily_check_is_not_its_weekly_one() -> None:
    assert self_mismatch("chemical_plant", "chemical_self_check", "weekly") is None
    wrong = self_mismatch("chemical_plant", "coal_shift_check", None)
    assert wrong is not None and "chemical_self_check" in wrong.en
    other = self_mismatch("lpg_shop", "gas_operator_self_check", "gas_network")
    assert other is not None and "profile" in other.fields


def test_every_site_type_without_a_self_inspection_is_one_no_rule_asks_it_of() -> None:
    """A new site type gets its self-inspections here, or a place on this list on purpose."""
    without = {t for t in SITE_CHECKLISTS if not self_checks_for(t, HELD)}
    assert without == {
        "lpg_delivery", "cylinder_testing", "gas_works", "gas_repair", "ebike_producer",
        "ebike_shop", "ebike_repair", "hazmat_loader", "hazmat_parking",
    }  # fmt: skip
