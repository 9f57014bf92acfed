"""Opening a site from its printed QR code on the tablet, with real Kivy widgets: the sites
screen's "site QR code" dialog takes the scanned or typed code, refuses a foreign code or a
site this tablet does not hold with the reason (and stays open), and opens the site with its
suggested checklist for a code of ours."""

from __future__ import annotations

from pathlib import Path

from app_helpers import login, sync

from server.demo import SITES, did
from shared.geo import site_qr_payload

MALL = did("site", "万达广场乌海店")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "app"


def _enter(d, dlg, code: str) -> None:
    dlg.inputs["code"].text = code
    d.press(dlg.ids.submit_button)
    d.pump()


def test_a_site_opens_from_its_code_and_strangers_are_refused(server, start_app):
    d = start_app(server.url, "tablet")
    login(d, "inspector")
    sync(d)
    sites = d.go("sites")
    d.pump()
    d.press(sites.ids.scan)
    dlg = d.popups()[0]
    assert dlg.inputs["code"].multiline is False  # a scanner's Enter submits, no new line

    _enter(d, dlg, "https://weixin.qq.com/r/abc")
    assert d.popups() == [dlg] and dlg.hint.text == "这不是本系统的场所二维码"
    wuda = did("site", next(n for n, _, _, district, _ in SITES if district == "150304"))
    _enter(d, dlg, site_qr_payload(wuda))  # another district's site: not on this tablet
    assert d.popups() == [dlg] and "本机没有这个场所" in dlg.hint.text
    SHOTS.mkdir(parents=True, exist_ok=True)
    d.screenshot(SHOTS / "site-code-refused.png")

    _enter(d, dlg, site_qr_payload(MALL))
    assert d.app.manager.current == "site"
    site = d.app.screen()
    assert site.params["site_id"] == MALL and site.ids.bar.title == "万达广场乌海店"
    # the checklist picker is open on its suggested checklist, ready to start
    assert d.settle_popups() == [site.picker] and dlg not in d.popups()
    assert site.picker.chosen["id"] == "crowded_venue" and site.picker.profile == "mall"
    d.screenshot(SHOTS / "site-from-code.png")
