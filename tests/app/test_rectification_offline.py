"""The enterprise user rectifies offline: the 五落实-free general hazard gets its evidence
(description and photo) with no network, the tablet warns it holds the only copy, sync fails
in plain words, then goes through when the network is back; an officer verifies and closes
through the API, and after a pull the tablet shows the hazard closed (已销号)."""

from __future__ import annotations

from app_helpers import DEAD_SERVER, dialog_button, login, sync

TITLE = "地下车库电动自行车违规充电"  # demo: assigned to the mall, the enterprise user's site


def test_offline_rectification_then_verified_and_closed(server, start_app, photo_dir):
    d = start_app(server.url, "enterprise")
    store = d.app.backend._inner
    login(d, "enterprise")
    sync(d)
    hazard = next(h for h in store.hazards() if h["title"] == TITLE)
    assert hazard["state"] == "assigned"

    # the network goes away (a basement car park)
    store.set_server_url(DEAD_SERVER)
    screen = d.go("hazard", hazard_id=hazard["id"])
    button = next(
        b for b in screen.ids.actions.children if b.text == d.app.t("Submit rectification")
    )
    d.press(button)
    form = d.popups()[0]
    form.inputs["description"].text = "已拆除飞线，增设集中充电柜"
    d.press(dialog_button(d, d.app.t("Add photo")))
    chooser = d.popups()[0]  # the newest popup is on top (first child of the window)
    chooser.ids.chooser.selection = [str(photo_dir / "after.png")]
    d.press(dialog_button(d, d.app.t("Use this photo")))
    d.press(form.ids.submit_button)
    assert not d.settle_popups()

    # shown at once, marked pending; the chain's next link is the officer's review
    record = store.hazard(hazard["id"])
    assert record["state"] == "in_review" and record["has_pending"]
    pending = [e for e in record["timeline"] if e["status"] == "pending"]
    assert [e["type"] for e in pending] == ["rectification_submitted"]
    texts = [w.text for w in screen.ids.timeline.walk() if hasattr(w, "text")]
    assert d.app.t("Pending: on this tablet only") in texts

    # sync with no network: a plain-words error, the only-copy warning, nothing lost
    sync_screen = d.go("sync")
    d.press(sync_screen.ids.sync_button)
    d.pump()
    assert "没有网络" in d.app.toast_text
    d.go("sync")
    assert sync_screen.only_copy >= 2  # the event and its photo
    assert "唯一副本" in sync_screen.ids.warning.text
    assert sync_screen.ids.sync_button.text == d.app.t("Retry")

    # the network is back: retry sends it
    store.set_server_url(server.url)
    d.press(sync_screen.ids.sync_button)
    d.pump()
    state = store.sync_state()
    assert state["only_copy"] == 0
    assert sync_screen.only_copy == 0

    # an officer verifies and closes (销号) through the API
    with server.login("officer") as officer:
        detail = officer.get(f"/hazards/{hazard['id']}").json()
        assert detail["state"] == "in_review"
        assert (
            detail["evidence"] and officer.get(f"/blobs/{detail['evidence'][0]}").status_code == 200
        )
        officer.post(
            f"/hazards/{hazard['id']}/events",
            json={"type": "verified", "payload": {"comment": "现场核查通过"}},
        ).raise_for_status()
        officer.post(
            f"/hazards/{hazard['id']}/events",
            json={"type": "closed", "payload": {"comment": "同意销号"}},
        ).raise_for_status()

    # after a pull the tablet shows it closed, with the officer's links in its chain
    sync(d)
    screen = d.go("hazard", hazard_id=hazard["id"])
    assert screen.hazard["state"] == "closed"
    badges = [w.text for w in screen.ids.badges.children]
    assert "已销号" in badges
    assert [e["type"] for e in screen.hazard["timeline"]][-3:] == [
        "rectification_submitted",
        "verified",
        "closed",
    ]
    assert not any(e["status"] != "server" for e in screen.hazard["timeline"])
    hazards = d.go("hazards")
    hazards.state_filter = "closed"
    hazards.refresh()
    d.pump()
    assert TITLE in [r["title"] for r in hazards.ids.rv.data]
    assert d.app.backend.main_thread_calls == []
