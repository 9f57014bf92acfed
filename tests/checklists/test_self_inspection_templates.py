"""Self-inspection templates (自查, issue 18): who may use a template is part of the template,
validated; the published patrol and check templates follow the v2 rules; each site type the fire,
gas and e-bike rules cover has its self-inspections and rhythm (shared.site_checklists)."""

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
    default_for,
    self_checks_for,
    self_mismatch,
)

TEMPLATES = load_all(DEFAULT_ROOT)
SELF_IDS = {"fire_patrol_daily", "fire_check_monthly", "gas_user_daily", "ebike_patrol"}


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
    assert self_checks_for("coal_mine", held) == []
    # the regulator's default checklist is never a self-inspection one
    assert default_for("mall", "crowded_venue", held).template_id == "crowded_venue"


def test_a_self_inspection_that_does_not_fit_is_refused_with_the_reason() -> None:
    assert self_mismatch("mall", "fire_patrol_daily", None) is None
    wrong = self_mismatch("mall", "gas_user_daily", "restaurant")
    assert wrong is not None and wrong.code == "checklist_mismatch"
    assert "fire_patrol_daily" in wrong.en and "template_id" in wrong.fields
    profile = self_mismatch("canteen", "gas_user_daily", "piped_user")
    assert profile is not None and "profile" in profile.fields
