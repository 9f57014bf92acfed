"""An enterprise's own patrol on its tablet (自查, issue 18), through a server set up as
``make run`` does, on both databases: the mall's safety manager is offered its self-inspections
(not the regulator's checklists), patrols offline with the same drafts, photos and signature
(its own alone), syncs, and the officer sees the finding as a hazard the enterprise reported."""

from __future__ import annotations

import json

import pytest
from tablets import MALL, photo

from mobile_app.core.checklists import offers
from mobile_app.core.drafts import Drafts
from mobile_app.core.outbox import LocalRefusal
from shared.checklist import Template
from shared.clock import SystemClock
from shared.findings import finding_hazard_id


def _site(store, site_id: str) -> dict:
    return json.loads(store.read("SELECT data FROM site WHERE id = ?", [site_id])[0]["data"])


def _template(store, template_id: str, version: int) -> Template:
    row = store.read("SELECT data FROM template WHERE id = ?", [f"{template_id}:{version}"])[0]
    return Template.model_validate(json.loads(row["data"])["content"])


def test_the_enterprise_tablet_patrols_its_mall_offline_and_the_finding_is_a_hazard(
    cli_server, tablets
):
    ent = tablets(cli_server.url, "enterprise")
    assert ent.sync().ok
    offered = offers(ent.store, "enterprise", _site(ent.store, MALL))
    assert [(o.template_id, o.self_inspection) for o in offered] == [
        ("fire_patrol_daily", True),
        ("fire_check_monthly", True),
    ]
    inspector = tablets(cli_server.url, "inspector")
    assert inspector.sync().ok
    regulator = [
        o.template_id for o in offers(inspector.store, "inspector", _site(ent.store, MALL))
    ]
    assert "crowded_venue" in regulator and "fire_patrol_daily" not in regulator

    # offline from here until the sync: drafts, a photo and the signature stay on the tablet
    patrol = offered[0]
    template = _template(ent.store, patrol.template_id, patrol.version)
    drafts = Drafts(ent.store, clock=SystemClock())
    draft_id = drafts.open(MALL, patrol.template_id, patrol.version, patrol.profile)
    failed = "patrol.exits.routes_clear"  # a photo is required when it fails
    drafts.save_answer(draft_id, failed, value="no")
    shot = ent.outbox.add_photo(photo(f"route-{draft_id}"))["sha256"]
    drafts.save_answer(draft_id, failed, photos=[shot])
    for item in template.items():
        if item.id != failed and item.applies_to(patrol.profile):
            value = item.pass_when if item.answer == "yes_no" else item.pass_rule.value
            if item.answer == "number" and item.pass_rule.op in (">", "<"):
                value = item.pass_rule.value + (1 if item.pass_rule.op == ">" else -1)
            drafts.save_answer(draft_id, item.id, value=value)
    with pytest.raises(LocalRefusal) as refused:  # the patroller must sign
        drafts.submit(draft_id, template, {})
    assert refused.value.refusal.code == "signatures_required"
    assert "巡查人员" in refused.value.refusal.zh
    sig = ent.outbox.add_photo(photo(f"sig-{draft_id}"))["sha256"]
    drafts.save_fields(draft_id, signatures={"inspector": sig})  # no representative: 自查
    assert drafts.submit(draft_id, template, {})["findings"] == 1
    hazard_id = finding_hazard_id(draft_id, failed)
    pending = ent.store.read("SELECT state, confirmed_count FROM hazard WHERE id = ?", [hazard_id])
    assert [(r["state"], r["confirmed_count"]) for r in pending] == [("reported", 0)]

    result = ent.sync()
    assert result.ok and result.rejected == 0 and result.pushed >= 1
    with cli_server.login("officer") as officer:
        got = officer.get(f"/inspections/{draft_id}")
        assert got.status_code == 200, got.text
        assert got.json()["template_id"] == "fire_patrol_daily"
        assert got.json()["signatures"]["representative"] is None
        hazard = officer.get(f"/hazards/{hazard_id}").json()
    assert hazard["site_id"] == MALL and hazard["state"] == "reported" and hazard["chain_ok"]
    assert [(e["type"], e["actor_role"]) for e in hazard["events"]] == [("reported", "enterprise")]
    assert ent.chain(hazard_id)[0].id == hazard_id  # the tablet holds the server's chain
