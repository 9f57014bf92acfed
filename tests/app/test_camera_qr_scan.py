"""Scanning a site's printed QR code with the tablet's own camera, with real Kivy widgets and
real zbar: the code is rendered as the console prints it (segno, ``server/console/where.py``),
photographed onto a wall (tilted, JPEG), fed to the app as its camera's frames
(``StillFrames``: shown through a Kivy texture and read back as a camera's is) and decoded by
pyzbar. A good read opens the site and its checklist; a foreign code and another district's
site are refused with the reason while the scan goes on; a tablet with no camera (or with the
camera refused) says so and takes the handheld scanner's or typed code."""

from __future__ import annotations

import io
import time
from pathlib import Path

import segno
from app_helpers import login, sync
from PIL import Image

from mobile_app.ui.scanner import DENIED, NO_CAMERA, READY, NoCamera, ScanDialog, StillFrames
from server.demo import SITES, did
from shared.geo import site_qr_payload

MALL = did("site", "万达广场乌海店")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "app"
WALL = (152, 146, 136)


def camera_picture(payload: str | None) -> bytes:
    """What a 640×480 camera sees: a wall and, on it, the code as the console prints it,
    a little tilted; saved as a camera saves (JPEG)."""
    wall = Image.new("RGB", (640, 480), WALL)
    if payload is not None:
        buf = io.BytesIO()
        segno.make(payload, error="m").save(buf, kind="png", scale=6, border=4)
        code = Image.open(buf).convert("RGB").rotate(7, expand=True, fillcolor=WALL)
        wall.paste(code, ((640 - code.width) // 2 + 25, (480 - code.height) // 2 - 10))
    out = io.BytesIO()
    wall.save(out, "JPEG", quality=85)
    return out.getvalue()


def _until(d, done, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        d.pump(frames=2)
        time.sleep(0.05)


def _open_scan(d) -> ScanDialog:
    login(d, "inspector")
    sync(d)
    sites = d.go("sites")
    d.press(sites.ids.scan)
    (dlg,) = d.popups()
    assert isinstance(dlg, ScanDialog)
    return dlg


def test_the_camera_reads_a_site_code_and_its_checklist_opens(server, start_app):
    camera = StillFrames([camera_picture(None), camera_picture(site_qr_payload(MALL))])
    d = start_app(server.url, "tablet", camera=camera)
    dlg = _open_scan(d)
    assert dlg.state == READY and dlg.ids.viewfinder.live
    assert dlg.ids.status.text == "正在扫描…请将场所二维码置于方框内。"

    _until(d, lambda: d.app.manager.current == "site", "the site to open")
    assert camera._shown >= 2  # the bare wall was read first and opened nothing
    assert camera._image is None  # the camera is let go with the dialog
    site = d.app.screen()
    assert site.params["site_id"] == MALL and site.ids.bar.title == "万达广场乌海店"
    # its suggested checklist is preselected: one tap starts the inspection
    assert d.settle_popups() == [site.picker]
    assert site.picker.chosen["id"] == "crowded_venue" and site.picker.profile == "mall"
    d.press(site.picker.ids.go)
    _until(d, lambda: d.app.manager.current == "checklist", "the checklist to open")
    checklist = d.app.screen()
    _until(d, lambda: getattr(checklist, "draft", None) is not None, "the draft to load")
    assert checklist.draft["site_id"] == MALL
    assert checklist.draft["template_id"] == "crowded_venue"


def test_foreign_and_out_of_scope_codes_are_refused_while_the_scan_goes_on(server, start_app):
    camera = StillFrames([camera_picture("https://weixin.qq.com/r/abc")])
    d = start_app(server.url, "tablet", camera=camera)
    dlg = _open_scan(d)
    _until(d, lambda: dlg.ids.status.text == "这不是本系统的场所二维码", "the refusal")
    assert d.popups() == [dlg] and d.app.manager.current == "sites"
    assert dlg.refused_code == "https://weixin.qq.com/r/abc"
    SHOTS.mkdir(parents=True, exist_ok=True)
    d.screenshot(SHOTS / "scan-foreign-code.png")
    from kivy.core.window import Window

    from mobile_app.ui import theme

    try:  # the same dialog on a 360 px phone: the view, the reason and the field all fit
        Window.size = theme.PHONE_SIZES[0]
        d.pump(frames=5)
        assert d.app.phone and dlg.ids.viewfinder.height > 200
        assert dlg.ids.cancel.y >= dlg.y and dlg.ids.viewfinder.top <= dlg.top
        d.screenshot(SHOTS / "scan-foreign-code-phone.png")
    finally:
        Window.size = theme.TABLET_SIZE
        d.pump(frames=5)

    # the inspector turns to another district's site: not on this tablet
    wuda = did("site", next(n for n, _, _, district, _ in SITES if district == "150304"))
    camera.pictures = [camera_picture(site_qr_payload(wuda))]
    _until(d, lambda: "本机没有这个场所" in dlg.ids.status.text, "the scope refusal")
    assert d.popups() == [dlg] and d.app.manager.current == "sites"
    d.screenshot(SHOTS / "scan-other-district.png")

    # and then to the mall's code on the same wall: it opens
    camera.pictures = [camera_picture(site_qr_payload(MALL))]
    _until(d, lambda: d.app.manager.current == "site", "the site to open")
    assert d.app.screen().params["site_id"] == MALL


def test_without_a_camera_the_scanner_or_typed_code_opens_the_site(server, start_app):
    d = start_app(server.url, "tablet")  # the fixture's device has no camera
    dlg = _open_scan(d)
    vf = dlg.ids.viewfinder
    assert dlg.state == NO_CAMERA and not vf.live and vf.message == "本设备没有摄像头"
    assert "扫码枪" in dlg.ids.status.text and dlg.ids.code.focus
    SHOTS.mkdir(parents=True, exist_ok=True)
    d.screenshot(SHOTS / "scan-no-camera.png")

    d.app.set_language("en")  # the state stays; its words follow the language
    d.pump()
    assert vf.message == "No camera on this device" and "handheld scanner" in dlg.ids.status.text
    d.app.set_language("zh_CN")
    d.pump()

    dlg.inputs["code"].text = site_qr_payload(MALL)  # a handheld scanner types, then Enter
    dlg.ids.code.dispatch("on_text_validate")
    d.pump()
    assert d.app.manager.current == "site" and d.app.screen().params["site_id"] == MALL


def test_a_refused_camera_permission_says_so(server, start_app):
    d = start_app(server.url, "tablet", camera=NoCamera(DENIED))
    dlg = _open_scan(d)
    assert dlg.state == DENIED and dlg.ids.viewfinder.message == "未获得摄像头权限"
    assert "设置中允许使用摄像头" in dlg.ids.status.text
    d.press(dlg.ids.cancel)
    assert d.settle_popups() == []
