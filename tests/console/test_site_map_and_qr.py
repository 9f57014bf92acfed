"""Where and which (issue #16 point 7), in the console: site coordinates edited in the site
form and the API (validated, with their datum), the site map drawn by the server as SVG with no
online tiles, and each site's printable QR code, decoded back from the page Chromium shows."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import httpx
import pytest

from server.demo import SITES, did
from shared.geo import parse_site_qr, site_qr_payload

SITE = did("site", SITES[0][0])  # 骆驼山煤矿


def _api(base: str, username: str = "admin") -> httpx.Client:
    c = httpx.Client(base_url=base + "/api/v1", timeout=30)
    r = c.post("/auth/token", data={"username": username, "password": "demo-password"})
    assert r.status_code == 200, r.text
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def test_site_coordinates_through_the_api_are_validated(live_demo):
    api = _api(live_demo.url)
    site = api.get(f"/sites/{SITE}").json()
    assert 39.3 < site["lat"] < 39.8 and 106.6 < site["lon"] < 107.0  # demo: in Wuhai
    assert site["datum"] == "wgs84"
    r = api.patch(f"/sites/{SITE}", json={"lat": 91, "lon": 106.8})
    assert r.status_code == 422 and "lat" in r.text
    r = api.patch(f"/sites/{SITE}", json={"lat": 39.6, "datum": "bd09"})
    assert r.status_code == 422 and "datum" in r.text
    r = api.patch(f"/sites/{SITE}", json={"lon": None})  # one coordinate alone is no point
    assert r.status_code == 422 and r.json()["fields"] == {
        "lon": "give both latitude and longitude, or neither"
    }
    r = api.patch(f"/sites/{SITE}", json={"lat": 39.47, "lon": 106.9, "datum": "gcj02"})
    assert r.status_code == 200 and (r.json()["lat"], r.json()["datum"]) == (39.47, "gcj02")
    r = api.post(
        "/sites",
        json={"name": "半个坐标的场所", "industry": "mine", "site_type": "coal_mine",
              "district_id": "150303", "risk_colour": "blue", "lat": 39.4},
    )  # fmt: skip
    assert r.status_code == 422 and "lon" in r.json()["fields"]
    cleared = api.patch(f"/sites/{SITE}", json={"lat": None, "lon": None})
    assert cleared.status_code == 200 and cleared.json()["lat"] is None
    api.close()


def test_the_site_form_edits_coordinates_and_refuses_half_of_them(console, live_demo):
    admin = console("admin")
    page = f"/console/admin/sites/{SITE}"
    form = admin.get(page).text
    assert 'name="lat"' in form and 'name="lon"' in form and 'value="gcj02"' in form
    base = {"name": SITES[0][0], "industry": "mine", "site_type": "coal_mine",
            "district_id": "150303", "risk_colour": "red", "active": "yes"}  # fmt: skip
    r = admin.post_form(page, base | {"lat": "39.451", "lon": ""}, from_page=page)
    assert r.status_code == 422 and "已填写纬度，请同时填写经度" in r.text
    r = admin.post_form(page, base | {"lat": "39.451", "lon": "1000"}, from_page=page)
    assert r.status_code == 422
    r = admin.post_form(
        page, base | {"lat": "39.451", "lon": "106.88", "datum": "wgs84"}, from_page=page
    )
    assert r.status_code == 303
    api = _api(live_demo.url)
    assert (api.get(f"/sites/{SITE}").json()["lat"], api.get(f"/sites/{SITE}").json()["lon"]) == (
        39.451,
        106.88,
    )
    api.close()


def test_the_map_places_every_site_and_links_them(console, live_demo):
    officer = console("officer")  # 海勃湾区 only
    svg = officer.get("/console/map").text
    haibowan = [name for name, _, _, district, _ in SITES if district == "150302"]
    assert svg.count('class="site"') == len(haibowan)
    assert "海勃湾区" in svg and "乌达区" not in svg  # scope: another district's sites stay off
    assert f"/console/queue?tab=all&amp;site={did('site', haibowan[0])}" in svg
    leader = console("leader").get("/console/map").text
    assert leader.count('class="site"') == len(SITES)
    assert all(d in leader for d in ("海勃湾区", "乌达区", "海南区"))
    assert 'data-status="overdue"' in leader  # the demo has overdue hazards
    assert "http" not in leader.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # no tile, font or image from anywhere
    assert console("enterprise").get("/console/map").status_code == 403
    dashboard = console("leader").get("/console/dashboard").text
    assert 'href="/console/map"' in dashboard


def test_the_qr_page_carries_the_site_payload(console):
    page = console("officer").get(f"/console/sites/{did('site', '万达广场乌海店')}/qr")
    assert page.status_code == 200
    assert "万达广场乌海店" in page.text and "海勃湾区" in page.text
    assert site_qr_payload(did("site", "万达广场乌海店")) in page.text
    other = console("officer").get(f"/console/sites/{SITE}/qr")  # 海南区: not the officer's
    assert other.status_code == 404


# ---------------------------------------------------------------- in Chromium


def _outside(urls: list[str], base: str) -> list[str]:
    own = urlsplit(base).netloc
    return [
        u for u in urls if urlsplit(u).scheme not in ("data", "about") and urlsplit(u).netloc != own
    ]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_map_page_in_chromium(live_demo, browser, artifacts):
    from console_helpers import browser_login

    ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    seen: list[str] = []
    ctx.on("request", lambda req: seen.append(req.url))
    page = ctx.new_page()
    browser_login(page, live_demo.url, "leader")
    page.goto(live_demo.url + "/console/dashboard")
    page.click("a[href='/console/map']")
    page.wait_for_load_state("networkidle")
    assert page.locator("svg.site-map g.site").count() == len(SITES)
    assert page.locator("svg.site-map path.district").count() == 3
    assert page.locator("svg.site-map g.legend").count() == 4
    box = page.locator("svg.site-map").bounding_box()
    assert box and box["width"] > 600 and box["height"] > 300  # drawn, not collapsed
    page.screenshot(path=str(artifacts / "site_map.png"), full_page=True)
    assert _outside(seen, live_demo.url) == []
    ctx.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_qr_page_decodes_back_to_the_site(live_demo, browser, artifacts):
    from console_helpers import browser_login
    from PIL import Image
    from pyzbar.pyzbar import decode

    site = did("site", "万达广场乌海店")
    ctx = browser.new_context(viewport={"width": 1000, "height": 1200}, locale="zh-CN")
    seen: list[str] = []
    ctx.on("request", lambda req: seen.append(req.url))
    page = ctx.new_page()
    browser_login(page, live_demo.url, "admin")
    page.goto(f"{live_demo.url}/console/admin/sites/{site}")
    page.click(f"a[href='/console/sites/{site}/qr']")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "site_qr.png"), full_page=True)
    png = page.locator("#site-qr svg").screenshot()
    found = decode(Image.open(io.BytesIO(png)))
    assert [d.data.decode() for d in found] == [site_qr_payload(site)]
    assert parse_site_qr(found[0].data.decode()) == site
    assert _outside(seen, live_demo.url) == []
    ctx.close()


# ---------------------------------------------------------------- GPS stamps on the record

MALL = did("site", "万达广场乌海店")
BEIJING = {"lat": 39.9042, "lon": 116.4074, "accuracy": 15.0, "at": "2026-03-02T01:00:00Z"}


def _report(api: httpx.Client, title: str, gps: dict | None) -> httpx.Response:
    body = {"site_id": MALL, "title": title, "severity": "general"}
    return api.post("/hazards", json=body | ({"gps": gps} if gps else {}))


def test_the_record_shows_the_gps_stamp_and_flags_a_far_one(console, live_demo):
    from server.demo import demo_point

    api = _api(live_demo.url, "inspector")
    lat, lon = demo_point("万达广场乌海店", "150302")
    near = _report(api, "灭火器压力不足", {"lat": lat, "lon": lon + 0.002, "at": BEIJING["at"]})
    far = _report(api, "疏散指示标志缺失", BEIJING)
    plain = _report(api, "安全出口上锁", None)
    assert {r.status_code for r in (near, far, plain)} == {201}
    bad = _report(api, "坐标越界", BEIJING | {"lat": 91})
    assert bad.status_code == 422 and "gps" in bad.text and "lat" in bad.text
    api.close()
    officer = console("officer")
    far_page = officer.get(f"/console/hazards/{far.json()['id']}").text
    assert 'data-gps="finding" data-far="yes"' in far_page and "远离场所" in far_page
    assert "39.90420, 116.40740 ±15 米" in far_page and "公里" in far_page
    near_page = officer.get(f"/console/hazards/{near.json()['id']}").text
    assert 'data-far="no"' in near_page and "远离场所" not in near_page
    assert "data-gps=" not in officer.get(f"/console/hazards/{plain.json()['id']}").text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_far_stamp_on_the_hazard_page_in_chromium(live_demo, browser, artifacts):
    from console_helpers import browser_login

    api = _api(live_demo.url, "inspector")
    far = _report(api, "疏散指示标志缺失（远处上报）", BEIJING)
    api.close()
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_demo.url, "officer")
    page.goto(f"{live_demo.url}/console/hazards/{far.json()['id']}")
    flagged = page.locator("dd.gps[data-far=yes]")
    assert flagged.count() == 1 and "远离场所" in flagged.inner_text()
    page.screenshot(path=str(artifacts / "hazard_gps_far.png"), full_page=False)
    ctx.close()


def test_the_map_and_qr_pages_in_english(console):
    import re

    from server.console import i18n

    i18n.EN_MISSING.clear()
    en = console("officer", lang="en")
    page = en.get("/console/map").text
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    labels = re.findall(r'class="district-label"[^>]*>([^<]+)<', svg)
    assert labels == ["Haibowan"]  # the officer's district, in English
    legend = re.findall(r'class="legend"[^>]*>.*?<text[^>]*>([^<]+)<', svg)
    assert legend == ["Major hazard open", "Overdue hazard", "Open hazards", "No open hazard"]
    assert en.get(f"/console/sites/{did('site', '万达广场乌海店')}/qr").status_code == 200
    assert not i18n.EN_MISSING
