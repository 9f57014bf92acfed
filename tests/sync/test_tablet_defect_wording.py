"""On the tablet's core (no Kivy): a submitted inspection's failed items show at once as pending
hazards titled with the item's defect wording, the title the server then gives them."""

from __future__ import annotations

import json

import pytest
from tablets import MALL, photo

from mobile_app.core.drafts import Drafts
from shared.checklist import Template
from shared.findings import finding_hazard_id

TEMPLATE = "crowded_venue"


@pytest.fixture
def server(live_demo, clock):
    from server.checklists.service import DEFAULT_ROOT, import_into

    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    return live_demo


def _template(store, version: int) -> Template:
    row = store.read("SELECT data FROM template WHERE id = ?", [f"{TEMPLATE}:{version}"])[0]
    return Template.model_validate(json.loads(row["data"])["content"])


def test_pending_hazards_carry_the_defect_wording(server, tablets, clock):
    t = tablets(server.url, "inspector")
    t.sync()
    template = _template(t.store, 2)
    drafts = Drafts(t.store, clock=clock)
    draft_id = drafts.open(MALL, TEMPLATE, template.version, "mall")  # the mall's profile
    failed = [
        i
        for i in template.items()
        if i.answer == "yes_no" and not i.photo_required and i.applies_to(None)
    ][:2]
    for item in failed:
        drafts.save_answer(draft_id, item.id, value="no")  # yes is compliant on every item
    drafts.mark_unanswered(draft_id, template, "unchecked", "本次只查两项（测试）")
    sig = {w: t.outbox.add_photo(photo(w))["sha256"] for w in ("inspector", "rep")}
    drafts.save_fields(
        draft_id,
        signatures={"inspector": sig["inspector"], "representative": sig["rep"]},
        representative_name="王店长",
    )
    assert drafts.submit(draft_id, template, {})["findings"] == 2

    rows = {r["id"]: r for r in t.store.read("SELECT id, title, confirmed_count FROM hazard")}
    for item in failed:
        assert item.hazard is not None
        row = rows[finding_hazard_id(draft_id, item.id)]
        assert row["confirmed_count"] == 0  # pending: the server has not seen it yet
        assert row["title"] == item.hazard.zh != item.text.zh

    assert t.sync().ok
    with server.login("officer") as officer:
        for item in failed:
            got = officer.get(f"/hazards/{finding_hazard_id(draft_id, item.id)}").json()
            assert got["title"] == item.hazard.zh
