"""A leader's 批示 reaches the enterprise tablet with real Kivy widgets: after a sync the
hazard list's "待我处理" filter shows the hazard with its 待签收批示 badge (and not the
officer's hazards), the hazard page shows the instruction and a 签收批示 button built from
the spec; the acknowledgement made on the tablet reaches the server and the instruction is
no longer pending anywhere."""

from __future__ import annotations

from pathlib import Path

from app_helpers import login, sync

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "app" / "leaders"

TITLE = "地下车库电动自行车违规充电"  # demo: assigned to the mall's enterprise account
IN_REVIEW = "防火卷帘门下堆放杂物"  # the mall's too, but the officer reviews it next


def test_enterprise_tablet_acknowledges_a_leaders_instruction(server, start_app):
    d = start_app(server.url, "enterprise")
    store = d.app.backend._inner
    login(d, "enterprise")
    sync(d)
    hazard = next(h for h in store.hazards() if h["title"] == TITLE)
    with server.login("leader") as leader:
        r = leader.post(
            f"/hazards/{hazard['id']}/events",
            json={"type": "instructed", "payload": {"text": "本周内完成充电桩改造"}},
        )
        assert r.status_code == 201, r.text
        r = leader.post(
            f"/hazards/{hazard['id']}/events",
            json={"type": "supervised", "payload": {"level": 1, "reason": "区政府督办"}},
        )
        assert r.status_code == 201, r.text
    sync(d)

    screen = d.go("hazards")
    screen.pick_state(screen.state_label("mine"))
    d.pump()
    rows = {row["title"]: row for row in screen.ids.rv.data}
    assert screen.state_label("mine") == "待我处理"
    assert TITLE in rows and IN_REVIEW not in rows  # its own next steps only
    assert "待签收批示" in [text for text, _ in rows[TITLE]["badges"]]
    d.screenshot(SHOTS / "hazards-mine.png")

    page = d.go("hazard", hazard_id=hazard["id"])
    assert "待签收批示: 本周内完成充电桩改造" in page.ids.info.text
    heads = [[w.text for w in e.ids.head.children] for e in page.ids.timeline.children]
    assert "领导督办" in heads[-1]
    instruction = page.ids.timeline.children[-2]
    assert "领导批示" in heads[-2]
    assert "批示内容: 本周内完成充电桩改造" in instruction.ids.body.text
    # the level in the console's words (shared.supervision), not a tablet spelling of its own
    assert "区县督办" in [w.text for w in page.ids.badges.children]
    assert "督办级别: 区县督办" in page.ids.timeline.children[-1].ids.body.text
    d.screenshot(SHOTS / "hazard-instruction.png")
    button = next(b for b in page.ids.actions.children if b.text == "签收批示")
    d.press(button)
    form = d.popups()[0]
    assert set(form.inputs) == {"comment"}
    form.inputs["comment"].text = "收到，周五前完成"
    d.press(form.ids.submit_button)
    assert not d.settle_popups()
    assert store.hazard(hazard["id"])["instructions_for_me"] == []

    sync(d)
    with server.login("enterprise") as ent:
        detail = ent.get(f"/hazards/{hazard['id']}").json()
    assert detail["events"][-1]["type"] == "acknowledged"
    assert detail["events"][-1]["payload"]["comment"] == "收到，周五前完成"
    assert detail["instructions"] == []
    page = d.go("hazard", hazard_id=hazard["id"])
    assert "签收批示" not in [b.text for b in page.ids.actions.children]
    assert d.app.backend.main_thread_calls == []
