"""自查自改 on the enterprise's tablet, through a server set up as ``make run`` does, on both
databases (issue 18, point 4): the mall's safety manager patrols offline, finds a general
hazard, fixes it and closes it with an after photo before any sync; the server takes the closure
into the same chain, marked self-found; the officer's 抽查 reopens it, and the tablet shows the
reopened hazard back on its own list."""

from __future__ import annotations

import pytest
from tablets import MALL, photo
from test_tablet_self_inspection import _site, _template

from mobile_app.core.checklists import offers
from mobile_app.core.drafts import Drafts
from mobile_app.core.outbox import LocalRefusal
from shared.clock import SystemClock
from shared.deadlines import DEFAULT_POLICY
from shared.findings import finding_hazard_id

FAILED = "patrol.fac.extinguishers"  # general, no photo required: the report has none


def _patrol_with_a_finding(ent) -> str:
    """An offline patrol of the mall that fails one item; returns the finding's hazard id."""
    patrol = offers(ent.store, "enterprise", _site(ent.store, MALL))[0]
    assert patrol.template_id == "fire_patrol_daily"
    template = _template(ent.store, patrol.template_id, patrol.version)
    drafts = Drafts(ent.store, clock=SystemClock())
    draft_id = drafts.open(MALL, patrol.template_id, patrol.version, patrol.profile)
    for item in template.items():
        if not item.applies_to(patrol.profile):
            continue
        if item.id == FAILED:
            drafts.save_answer(draft_id, item.id, value="no")
            continue
        value = item.pass_when if item.answer == "yes_no" else item.pass_rule.value
        if item.answer == "number" and item.pass_rule.op in (">", "<"):
            value = item.pass_rule.value + (1 if item.pass_rule.op == ">" else -1)
        drafts.save_answer(draft_id, item.id, value=value)
    sig = ent.outbox.add_photo(photo(f"sig-{draft_id}"))["sha256"]
    drafts.save_fields(draft_id, signatures={"inspector": sig})
    assert drafts.submit(draft_id, template, {})["findings"] == 1
    return finding_hazard_id(draft_id, FAILED)


def test_the_enterprise_self_closes_offline_and_the_officers_spot_check_reopens(
    cli_server, tablets
):
    ent = tablets(cli_server.url, "enterprise")
    assert ent.sync().ok
    hazard_id = _patrol_with_a_finding(ent)

    # still offline: the tablet's own rules want a before photo and an after photo
    with pytest.raises(LocalRefusal) as refused:
        ent.outbox.append_event(hazard_id, "self_closed", {"description": "已更换灭火器"})
    assert refused.value.refusal.code == "before_photo_required"
    before = ent.outbox.add_photo(photo(f"before-{hazard_id}"))["sha256"]
    after = ent.outbox.add_photo(photo(f"after-{hazard_id}"))["sha256"]
    ent.outbox.append_event(
        hazard_id,
        "self_closed",
        {"description": "已更换灭火器", "photos": [before], "evidence": [after]},
    )
    local = ent.hazards()[hazard_id]
    assert (local["state"], local["self_closed"], local["origin"]) == (
        "closed",
        True,
        "self_inspection",
    )

    result = ent.sync()
    assert result.ok and result.rejected == 0
    drawn = DEFAULT_POLICY.spot_check_drawn(hazard_id)  # the server's share is the default
    with cli_server.login("officer") as officer:
        h = officer.get(f"/hazards/{hazard_id}").json()
        assert (h["state"], h["origin"], h["self_closed"]) == ("closed", "self_inspection", True)
        assert h["spot_check"] == ("drawn" if drawn else None)
        assert [e["type"] for e in h["events"]] == ["reported", "self_closed"]
        assert set(h["evidence"]) == {after} and {before, after} <= set(h["photos"])
        assert officer.get(f"/blobs/{after}").status_code == 200  # the evidence came along
        assert {"spot_checked", "reopened"} <= set(h["allowed_events"])
        r = officer.post(
            f"/hazards/{hazard_id}/events",
            json={"type": "reopened", "payload": {"reason": "灭火器仍过期"}},
        )
        assert r.status_code == 201, r.text

    assert ent.sync().ok
    view = ent.hazards()[hazard_id]
    assert (view["state"], view["spot_check"], view["self_closed"]) == (
        "rectifying",
        "reopened",
        False,
    )
    assert [e.type for e in ent.chain(hazard_id)] == ["reported", "self_closed", "reopened"]
    assert ent.chains_verify() == []
