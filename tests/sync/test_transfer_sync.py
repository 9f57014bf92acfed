"""A transfer travels by sync on both databases: an officer's tablet queues it offline (checked
there by the same spec), pushes it, and the enterprise tablet's pull brings the link with its
hash intact and folds the new unit in as responsible for the next step."""

from __future__ import annotations

from tablets import server_events

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
