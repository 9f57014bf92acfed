"""A transfer travels by sync on both databases: an officer's tablet queues it offline (checked
there by the same spec), pushes it, and the enterprise tablet's pull brings the link with its
hash intact and folds the new unit in as responsible for the next step."""

from __future__ import annotations

import pytest
from tablets import MALL, server_events

from mobile_app.core.outbox import LocalRefusal

TITLE = "地下车库电动自行车违规充电"  # demo: assigned to the mall


def test_transfer_pushed_by_one_tablet_is_pulled_by_another(live_demo, tablets, engine):
    officer, ent = tablets(live_demo.url, "officer"), tablets(live_demo.url, "enterprise")
    assert officer.sync().ok and ent.sync().ok
    hid = next(h for h, v in ent.hazards().items() if v["title"] == TITLE)
    before = ent.hazards()[hid]

    op_id = officer.outbox.append_event(
        hid,
        "transferred",
        {"responsible_unit": "万达物业工程部", "responsible_person": "王工", "reason": "属物业"},
    )
    local = officer.hazards()[hid]
    assert local["responsible_unit"] == "万达物业工程部"  # folded at once, before any sync
    assert officer.sync().ok

    result = ent.sync()
    assert result.ok and result.pulled >= 1
    view = ent.hazards()[hid]
    assert view["responsible_unit"] == "万达物业工程部" and view["responsible_person"] == "王工"
    assert view["link_owner"]["unit"] == "万达物业工程部"
    assert view["deadline"] == before["deadline"] and view["state"] == before["state"]
    last = ent.chain(hid)[-1]
    assert last.id == op_id and last.type == "transferred"
    assert last.payload["previous_unit"] == before["responsible_unit"]
    assert ent.chains_verify() == []
    assert ent.events() == server_events(engine, "enterprise")


def test_the_old_units_tablet_refuses_at_once_what_the_server_would(live_demo, tablets):
    """The enterprise rule is shared: a hazard handed to another company user cannot be
    rectified from the old unit's tablet, offline, before any push (shared.responsibility)."""
    with live_demo.login("admin") as admin:
        made = admin.post(
            "/users",
            json={
                "username": "mall-maint-sync", "display_name": "物业工程部", "role": "enterprise",
                "password": "demo-password", "unit": "万达物业工程部", "site_ids": [MALL],
            },
        )  # fmt: skip
        assert made.status_code == 201, made.text
    officer, ent = tablets(live_demo.url, "officer"), tablets(live_demo.url, "enterprise")
    assert officer.sync().ok and ent.sync().ok
    hid = next(h for h, v in ent.hazards().items() if v["title"] == TITLE)
    officer.outbox.append_event(
        hid,
        "transferred",
        {"responsible_unit": "万达物业工程部", "responsible_person": "王工",
         "responsible_user_id": made.json()["id"], "reason": "属物业"},
    )  # fmt: skip
    assert officer.sync().ok and ent.sync().ok

    queued = ent.outbox.counts()["pending"]
    with pytest.raises(LocalRefusal) as refused:
        ent.outbox.append_event(hid, "rectification_submitted", {"description": "已清理"})
    assert refused.value.refusal.code == "not_responsible"
    assert "未交办给您" in refused.value.refusal.zh
    assert ent.outbox.counts()["pending"] == queued  # nothing queued to be refused later
    ent.outbox.append_event(hid, "note", {"text": "已告知物业"})  # a note is still anyone's
