"""Where and which on the tablet's core (no Kivy): GPS stamps from an injected location
provider travel with findings, reports and photos through sync to the server and its console
(a finding made far from its site flagged); a tablet without GPS stamps nothing and still
syncs; a printed site QR code opens the site and its suggested checklist, and a code that is
not ours, or a site this tablet does not hold, is refused with a reason."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from tablets import MALL, photo

from mobile_app.core.drafts import Drafts
from mobile_app.core.location import (
    MAX_AGE,
    FixedLocation,
    NoLocation,
    PlyerLocation,
    device_location,
)
from mobile_app.core.outbox import LocalRefusal, Outbox
from mobile_app.core.site_codes import open_from_qr
from server.demo import SITES, demo_point, did
from shared.checklist import Template
from shared.clock import FixedClock, SystemClock, parse_iso
from shared.findings import finding_hazard_id
from shared.geo import GpsStamp, distance_m, gcj02_to_wgs84, site_qr_payload, wgs84_to_gcj02
from shared.sync_wire import OpType

MALL_AT = demo_point("万达广场乌海店", "150302")
BEIJING = (39.9042, 116.4074)


@pytest.fixture
def server(cli_server):
    return cli_server


@pytest.fixture
def clock():
    return SystemClock()


def _stamp(point, accuracy=8.0) -> GpsStamp:
    return GpsStamp.of(point[0], point[1], accuracy, SystemClock().now())


def console_page(base: str, username: str, path: str) -> str:
    """A console page as the user's browser gets it (real HTTP, the login form first)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/console/login").text)
        assert token
        form = {"csrf_token": token.group(1), "username": username, "password": "demo-password"}
        assert http.post("/console/login", data=form).status_code == 303
        r = http.get(path)
        assert r.status_code == 200, r.text[:300]
        return r.text


def _template(store) -> Template:
    row = store.read("SELECT data FROM template WHERE id = ?", ["crowded_venue:1"])[0]
    return Template.model_validate(json.loads(row["data"])["content"])


def test_a_finding_and_its_photo_carry_their_gps_stamps_to_the_server(server, tablets, clock):
    t = tablets(server.url, "inspector")
    assert t.sync().ok
    here = FixedLocation(_stamp((MALL_AT[0] + 0.001, MALL_AT[1])))  # ~110 m from the mall
    drafts = Drafts(t.store, clock=clock, location=here)
    outbox = Outbox(t.store, clock=clock, location=here)
    template = _template(t.store)
    draft_id = drafts.open(MALL, "crowded_venue", 1, "mall")
    item = next(
        i
        for i in template.items()
        if i.answer == "yes_no" and not i.photo_required and i.applies_to("mall")
    )
    shot = outbox.add_photo(photo(f"gps-{draft_id}"))["sha256"]
    drafts.save_answer(draft_id, item.id, value="no" if item.pass_when == "yes" else "yes")
    drafts.save_answer(draft_id, item.id, photos=[shot])
    assert drafts.get(draft_id)["answers"][item.id]["gps"] == here.current().wire()
    drafts.mark_unanswered(draft_id, template, "unchecked", "时间所限，本次未检查，下次补查")
    sig = {w: outbox.add_photo(photo(f"{w}-{draft_id}"))["sha256"] for w in ("i", "r")}
    drafts.save_fields(
        draft_id,
        signatures={"inspector": sig["i"], "representative": sig["r"]},
        representative_name="王店长",
    )
    assert drafts.submit(draft_id, template, {})["findings"] == 1
    assert t.sync().ok

    hazard_id = finding_hazard_id(draft_id, item.id)
    with server.login("officer") as officer:
        reported = officer.get(f"/hazards/{hazard_id}").json()["events"][0]["payload"]
    assert reported["gps"] == here.current().wire()
    assert reported["photo_gps"] == {shot: here.current().wire()}
    assert t.chain(hazard_id)[0].payload["gps"] == reported["gps"]  # the tablet's copy agrees

    # a later photo from the same spot travels on its photo.add op
    outbox.add_photos(hazard_id, [photo(f"later-{draft_id}")], caption="近景")
    assert t.sync().ok
    with server.login("officer") as officer:
        events = officer.get(f"/hazards/{hazard_id}").json()["events"]
    added = [e for e in events if e["type"] == "photo_added"][0]["payload"]
    assert list(added["photo_gps"].values()) == [here.current().wire()]


def test_a_report_far_from_its_site_is_flagged_and_no_gps_still_syncs(server, tablets, clock):
    t = tablets(server.url, "inspector")
    assert t.sync().ok
    far = Outbox(t.store, clock=clock, location=FixedLocation(_stamp(BEIJING)))
    far_id = far.report_hazard(site_id=MALL, title="消防通道堵塞（远处上报）", severity="general")
    none = Outbox(t.store, clock=clock, location=NoLocation())
    plain_id = none.report_hazard(site_id=MALL, title="安全出口指示灯损坏", severity="general")
    near = Outbox(t.store, clock=clock, location=FixedLocation(_stamp(MALL_AT, 20)))
    near_id = near.report_hazard(site_id=MALL, title="灭火器过期", severity="general")
    result = t.sync()
    assert result.ok and result.rejected == 0
    with server.login("officer") as officer:
        plain = officer.get(f"/hazards/{plain_id}").json()["events"][0]["payload"]
    assert "gps" not in plain and "photo_gps" not in plain  # a tablet without GPS: as before

    far_page = console_page(server.url, "officer", f"/console/hazards/{far_id}")
    assert 'data-gps="finding" data-far="yes"' in far_page and "远离场所" in far_page
    near_page = console_page(server.url, "officer", f"/console/hazards/{near_id}")
    assert 'data-gps="finding" data-far="no"' in near_page and "远离场所" not in near_page
    plain_page = console_page(server.url, "officer", f"/console/hazards/{plain_id}")
    assert "data-gps=" not in plain_page


def test_a_bad_stamp_is_refused_on_the_device_with_the_field(server, tablets, clock):
    t = tablets(server.url, "inspector")
    assert t.sync().ok
    with pytest.raises(ValueError, match="lat"):
        GpsStamp(lat=95, lon=106.8, at="2026-03-02T01:00:00Z")
    with pytest.raises(ValueError, match="ISO 8601"):
        GpsStamp(lat=39.6, lon=106.8, at="yesterday")
    with pytest.raises(LocalRefusal) as refused:  # a stamp naming a photo the report lacks
        t.outbox.enqueue(
            OpType.hazard_report,
            {"hazard_id": "0b7a3c1e-3b0e-4a57-9a43-6f7b0a0c0d01", "site_id": MALL,
             "title": "x", "severity": "general", "photos": [],
             "photo_gps": {"a" * 64: _stamp(MALL_AT).wire()}},
        )  # fmt: skip
    assert refused.value.refusal.code == "invalid_gps"
    assert "photo_gps" in refused.value.refusal.fields


def test_open_from_qr_finds_the_site_and_its_checklist(server, tablets):
    t = tablets(server.url, "inspector")  # 海勃湾区
    assert t.sync().ok
    opened = open_from_qr(t.store, "inspector", site_qr_payload(MALL))
    assert opened.site["name"] == "万达广场乌海店"
    assert (opened.suggested.template_id, opened.suggested.profile) == ("crowded_venue", "mall")
    typed = open_from_qr(t.store, "inspector", f"  {MALL.upper()} ")  # the printed id, typed
    assert typed.site["id"] == MALL
    wuda = did("site", next(n for n, _, _, d, _ in SITES if d == "150304"))
    cases = {
        site_qr_payload(wuda): "qr_unknown_site",  # another district's: not on this tablet
        site_qr_payload("00000000-0000-4000-8000-000000000000"): "qr_unknown_site",
        "https://weixin.qq.com/r/abc": "qr_foreign",
        "WIFI:S:guest;T:WPA;P:x;;": "qr_foreign",
        "": "qr_empty",
    }
    for payload, code in cases.items():
        with pytest.raises(LocalRefusal) as refused:
            open_from_qr(t.store, "inspector", payload)
        assert refused.value.refusal.code == code, payload
        assert refused.value.refusal.zh and refused.value.refusal.en


def test_location_providers_and_datums():
    clock = FixedClock(parse_iso("2026-03-02T01:00:00Z"))
    assert isinstance(device_location("linux"), NoLocation)  # a desktop has no GPS
    assert PlyerLocation(clock).start() is False  # plyer has no GPS for Linux: nothing stamped
    gps = PlyerLocation(clock)
    assert gps.current() is None
    gps.on_location(lat=39.69, lon=106.82, accuracy=12.0, speed=0.0)  # plyer's callback
    assert gps.current() == GpsStamp(
        lat=39.69, lon=106.82, accuracy=12.0, at=clock.now().isoformat()
    )
    gps.on_location(lat="garbage")  # a broken fix is ignored, the last good one kept
    assert gps.current() is not None
    clock.advance(seconds=MAX_AGE.total_seconds() + 1)
    assert gps.current() is None  # stale: not stamped on a finding made now
    # GCJ-02 (高德) is a few hundred metres off WGS-84 in Wuhai, and converts back
    mars = wgs84_to_gcj02(*MALL_AT)
    assert 100 < distance_m(mars, MALL_AT) < 1000
    assert distance_m(gcj02_to_wgs84(*mars), MALL_AT) < 0.5
