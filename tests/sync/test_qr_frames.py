"""The tablet's QR decode on its own (``mobile_app/core/qr_scan.py``, real zbar): frames as the
cameras hand them (Android's luma plane, a Kivy texture read back bottom row first, a front
camera's mirror image) yield the printed site code; a poster carrying a WeChat code beside
ours opens ours; a bare wall yields nothing."""

from __future__ import annotations

import io

import segno
from PIL import Image, ImageOps

from mobile_app.core.qr_scan import Frame, decoder_available, read_codes, site_code_among
from server.demo import did
from shared.geo import site_qr_payload

MALL_CODE = site_qr_payload(did("site", "万达广场乌海店"))
FOREIGN = "https://weixin.qq.com/r/abc"


def _code(payload: str) -> Image.Image:
    buf = io.BytesIO()
    segno.make(payload, error="m").save(buf, kind="png", scale=5, border=4)
    return Image.open(buf).convert("RGB")


def _wall(*payloads: str) -> Image.Image:
    wall = Image.new("RGB", (640, 480), (150, 146, 138))
    for n, payload in enumerate(payloads):
        wall.paste(_code(payload), (40 + n * 320, 100))
    return wall


def _frame(img: Image.Image, mode: str, bottom_up: bool = False) -> Frame:
    if bottom_up:  # what a texture reads back: the rows from the bottom up
        img = img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    img = img.convert(mode)
    return Frame(img.tobytes(), img.width, img.height, mode, bottom_up=bottom_up)


def test_frames_as_the_cameras_give_them_yield_the_site_code():
    assert decoder_available()
    wall = _wall(MALL_CODE)
    assert read_codes(_frame(wall, "L")) == [MALL_CODE]  # Android's NV21 luma plane
    assert read_codes(_frame(wall, "RGBA", bottom_up=True)) == [MALL_CODE]  # a Kivy texture
    assert read_codes(_frame(ImageOps.mirror(wall), "RGB")) == [MALL_CODE]  # a front camera
    assert read_codes(_frame(Image.new("RGB", (640, 480), "white"), "L")) == []


def test_our_code_wins_over_a_foreign_one_and_a_foreign_one_alone_is_named():
    codes = read_codes(_frame(_wall(FOREIGN, MALL_CODE), "L"))
    assert sorted(codes) == sorted([FOREIGN, MALL_CODE])
    assert site_code_among(codes) == MALL_CODE
    assert site_code_among([FOREIGN]) == FOREIGN  # so it is refused with its reason
    assert site_code_among([]) is None
