"""A transfer (移交) reaches the tablet by a pull and its timeline shows it from the event's
spec: the officer hands the enterprise's hazard to another unit through the API; after a sync
the hazard page on the enterprise tablet names the transfer, the new unit and the reason, and
the new unit is responsible; its own actions (offered by the specs) are still there."""

from __future__ import annotations

import uuid

from app_helpers import login, sync

from server.demo import did
from tests.cli_server import assigned_to_the_mall

MALL = did("site", "万达广场乌海店")  # the enterprise user's site


def test_pulled_transfer_shows_on_the_tablet_timeline(server, start_app):
    title = f"地下车库电动自行车违规充电 {uuid.uuid4().hex[:6]}"
    assigned_to_the_mall(server, MALL, title)
    d = start_app(server.url, "enterprise")
    store = d.app.backend._inner
    login(d, "enterprise")
    sync(d)
    hazard = next(h for h in store.hazards() if h["title"] == title)
    with server.login("officer") as officer:
        r = officer.post(
            f"/hazards/{hazard['id']}/events",
            json={
                "type": "transferred",
                "payload": {
                    "responsible_unit": "万达物业工程部",
                    "responsible_person": "王工",
                    "reason": "充电区域属物业管理",
                },
            },
        )
        assert r.status_code == 201, r.text

    sync(d)
    screen = d.go("hazard", hazard_id=hazard["id"])
    assert screen.hazard["timeline"][-1]["type"] == "transferred"
    assert screen.hazard["responsible_unit"] == "万达物业工程部"
    newest = screen.ids.timeline.children[-1]  # the timeline lists the newest first
    badges = [w.text for w in newest.ids.head.children]
    assert "移交" in badges
    body = newest.ids.body.text
    assert "接收单位: 万达物业工程部" in body and "原因: 充电区域属物业管理" in body
    assert "→" in body and "万达物业工程部" in body.split("→")[1]  # the new unit acts next
    assert "万达物业工程部" in screen.ids.info.text
    # the enterprise's own actions still come from the specs (transfer is not one of them)
    buttons = [b.text for b in screen.ids.actions.children]
    assert "提交整改" in buttons and "移交其他责任单位" not in buttons
    assert d.app.backend.main_thread_calls == []


def test_officer_transfers_from_the_spec_built_tablet_form(server, start_app):
    title = f"配电间堆放杂物 {uuid.uuid4().hex[:6]}"
    assigned_to_the_mall(server, MALL, title)
    d = start_app(server.url, "officer")
    store = d.app.backend._inner
    login(d, "officer")
    sync(d)
    hazard = next(h for h in store.hazards() if h["title"] == title)
    screen = d.go("hazard", hazard_id=hazard["id"])
    button = next(b for b in screen.ids.actions.children if b.text == "移交其他责任单位")
    d.press(button)
    form = d.popups()[0]
    assert set(form.inputs) == {"responsible_unit", "responsible_person", "reason"}
    d.press(form.ids.submit_button)  # empty: refused on the tablet, the dialog stays
    assert d.popups() and "请填写必填项" in screen.action_dialog.ids.extra.children[0].text
    form.inputs["responsible_unit"].text = "万达物业工程部"
    form.inputs["responsible_person"].text = "王工"
    form.inputs["reason"].text = "充电区域属物业管理"
    d.press(form.ids.submit_button)
    assert not d.settle_popups()
    record = store.hazard(hazard["id"])
    assert record["responsible_unit"] == "万达物业工程部" and record["has_pending"]

    sync(d)  # pushed, then confirmed by the pull
    with server.login("officer") as officer:
        detail = officer.get(f"/hazards/{hazard['id']}").json()
    assert detail["events"][-1]["type"] == "transferred"
    assert detail["responsible_unit"] == "万达物业工程部"
    assert not store.hazard(hazard["id"])["has_pending"]
