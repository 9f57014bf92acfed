"""A hazard seen outside any checklist (随手报): reported from the site's page with no network,
a major one refused until it has a photo, shown at once as pending, then on the server with
its photo after the sync; enterprise users may report too, leaders may not."""

from __future__ import annotations

from app_helpers import DEAD_SERVER, dialog_button, login, sync

from server.blobs.store import digest
from server.demo import did

MALL = did("site", "万达广场乌海店")
TITLE = "消防通道被装修材料占用"


def test_report_a_hazard_offline_then_sync(server, start_app, photo_dir):
    d = start_app(server.url, "tablet")
    store = d.app.backend._inner
    login(d, "inspector")
    sync(d)
    store.set_server_url(DEAD_SERVER)  # in the basement: no network
    site = d.go("site", site_id=MALL)
    assert not site.ids.report.disabled
    d.press(site.ids.report)
    form = d.popups()[0]
    d.press(form.ids.submit_button)  # nothing typed: refused, the form stays
    assert d.popups() and form.inputs["title"].text == ""
    form.inputs["title"].text = TITLE
    form.inputs["description"].text = "B1层东侧消防通道堆满石膏板"
    d.press(form.severity_major)
    assert (form.severity_major.state, form.severity_general.state) == ("down", "normal")
    d.press(form.ids.submit_button)  # major without a photo: refused, says why
    assert d.popups()
    assert any(
        getattr(w, "text", "") == d.app.t("A major hazard needs at least one photo.")
        for w in form.walk()
    )
    d.press(dialog_button(d, d.app.t("Add photo")))
    chooser = d.popups()[0]
    chooser.ids.chooser.selection = [str(photo_dir / "before.png")]
    d.press(dialog_button(d, d.app.t("Use this photo")))
    d.press(form.ids.submit_button)
    assert not d.settle_popups()

    # the hazard's page opens at once, the report pending on this tablet
    assert d.app.manager.current == "hazard"
    record = store.hazard(d.app.screen().params["hazard_id"])
    assert record["title"] == TITLE and record["severity"] == "major"
    assert record["local_only"] and record["state"] == "reported"
    assert store.sync_state()["pending"] == 1

    store.set_server_url(server.url)
    sync(d)
    assert store.sync_state()["pending"] == 0
    photo = digest((photo_dir / "before.png").read_bytes())
    with server.login("officer") as officer:
        got = officer.get(f"/hazards/{record['id']}").json()
        assert got["title"] == TITLE and got["severity"] == "major"
        assert got["site_id"] == MALL and got["photos"] == [photo]
        assert officer.get(f"/blobs/{photo}").status_code == 200
    assert not store.hazard(record["id"])["has_pending"]
    assert d.app.backend.main_thread_calls == []


def test_who_sees_the_report_button(server, start_app):
    for username, shown in (("enterprise", True), ("leader", False)):
        d = start_app(server.url, username)
        login(d, username)
        sync(d)
        site = d.go("site", site_id=MALL)
        d.pump()
        assert site.ids.report.disabled is (not shown), username
        d.stop()
