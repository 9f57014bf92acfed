"""Records made with no network are sent by themselves when the network comes back (the app
probes the server on a timer; here the timer's callback is called directly)."""

from __future__ import annotations

from app_helpers import DEAD_SERVER, login, sync


def test_sync_starts_when_the_network_appears(server, start_app):
    d = start_app(server.url, "tablet")
    store = d.app.backend._inner
    login(d, "inspector")
    sync(d)
    hazard = next(h for h in store.hazards() if h["is_open"])

    store.set_server_url(DEAD_SERVER)
    screen = d.go("hazard", hazard_id=hazard["id"])
    add_note = next(b for b in screen.ids.actions.children if b.text == d.app.t("Add note"))
    d.press(add_note)
    form = d.popups()[0]
    form.inputs["text"].text = "井下无信号时记录的备注"
    d.press(form.ids.submit_button)
    d.pump()
    assert d.app.pending == 1

    d.app._probe()  # the timer fires: still no network
    d.pump()
    assert not d.app.online and not d.app.syncing and d.app.pending == 1

    store.set_server_url(server.url)
    d.app._probe()  # the network is back: sync starts by itself
    d.pump()
    assert d.app.online and d.app.pending == 0
    acked = [r for r in store.sync_state()["records"] if r["status"] == "acknowledged"]
    assert acked and acked[0]["receipt"]["at"]
    with server.login("officer") as officer:
        events = officer.get(f"/hazards/{hazard['id']}").json()["events"]
    assert events[-1]["payload"] == {"text": "井下无信号时记录的备注"}
