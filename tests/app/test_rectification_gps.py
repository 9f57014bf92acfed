"""The enterprise's 整改 photos carry the tablet's GPS stamp as a finding's do (issue #16 point
7): taken with the injected location provider, kept with the photo, shown over its thumbnail
on the hazard screen (real Kivy widgets), and through sync on the server's chain and the
console's hazard page, on both databases. A screenshot of the screen is saved to look at."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import httpx
from app_helpers import dialog_button, login, sync

from mobile_app.core.location import FixedLocation
from mobile_app.ui.evidence import PhotoThumb
from server.demo import demo_point, did
from shared.clock import SystemClock
from shared.geo import GpsStamp

MALL = did("site", "万达广场乌海店")


def test_rectification_photos_are_gps_stamped_and_shown(server, start_app, photo_dir, tmp_path):
    with server.login("officer") as officer, server.login("enterprise") as enterprise:
        ent_id = enterprise.get("/me").json()["id"]
        title = f"整改定位{uuid.uuid4().hex[:6]}"
        r = officer.post("/hazards", json={"site_id": MALL, "title": title, "severity": "general"})
        assert r.status_code == 201, r.text
        hid = r.json()["id"]
        r = officer.post(
            f"/hazards/{hid}/events",
            json={"type": "assigned", "payload": {"responsible_unit": "万达广场",
                  "responsible_person": "陈安全员", "responsible_user_id": ent_id}},
        )  # fmt: skip
        assert r.status_code == 201, r.text

    lat, lon = demo_point("万达广场乌海店", "150302")
    here = GpsStamp.of(lat + 0.0003, lon, 9.0, SystemClock().now())
    d = start_app(server.url, "enterprise", location=FixedLocation(here))
    store = d.app.backend._inner
    login(d, "enterprise")
    sync(d)
    screen = d.go("hazard", hazard_id=hid)
    button = next(
        b for b in screen.ids.actions.children if b.text == d.app.t("Submit rectification")
    )
    d.press(button)
    form = d.popups()[0]
    form.inputs["description"].text = "已清理，加装防护"
    d.press(dialog_button(d, d.app.t("Add photo")))
    chooser = d.popups()[0]
    chooser.ids.chooser.selection = [str(photo_dir / "after.png")]
    d.press(dialog_button(d, d.app.t("Use this photo")))
    d.press(form.ids.submit_button)
    assert not d.settle_popups()

    # kept with the photo and carried by the pending link
    record = store.hazard(hid)
    link = next(e for e in record["timeline"] if e["type"] == "rectification_submitted")
    evidence = link["payload"]["evidence"]
    assert link["payload"]["photo_gps"] == {evidence[0]: here.wire()}

    # shown over the photo's thumbnail, in the reader's words (米)
    screen = d.go("hazard", hazard_id=hid)
    d.pump()
    shown = {w.sha256: w.gps for w in screen.walk(restrict=True) if isinstance(w, PhotoThumb)}
    assert shown[evidence[0]] == here.label(" 米") and "米" in shown[evidence[0]]
    shots = Path(os.environ.get("HAZARDCHAIN_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    d.screenshot(shots / "enterprise-rectification-gps.png")

    # through sync: the server's chain holds the stamp; the console shows it with the photo
    sync(d)
    with server.login("officer") as officer:
        events = officer.get(f"/hazards/{hid}").json()["events"]
        rect = next(e for e in events if e["type"] == "rectification_submitted")
        assert rect["payload"]["photo_gps"] == {evidence[0]: here.wire()}
    with httpx.Client(base_url=server.url, timeout=30) as http:  # the officer's browser
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/console/login").text)
        form = {"csrf_token": token.group(1), "username": "officer", "password": "demo-password"}
        assert http.post("/console/login", data=form).status_code == 303
        page = http.get(f"/console/hazards/{hid}").text
    assert page.count('data-gps="photo"') == 1 and f"{here.lat:.5f}, {here.lon:.5f}" in page
    assert store.hazard(hid)["state"] == "in_review"
