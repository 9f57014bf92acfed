"""Previews of photos in the console: small JPEGs made once and kept, upright, with the same
access rule as the photo itself; an image that cannot be previewed is served as it is."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from server.blobs.store import BlobStore, digest
from server.blobs.thumbs import MAX_PIXELS, make_thumbnail, thumb_path, thumbnail
from server.demo import did

MALL_HAZARD = did("hazard", "消防控制室值班人员不足")  # 万达广场乌海店: the enterprise user's site
STATION_HAZARD = did("hazard", "卸油区消防沙不足")  # 滨河加油加气站: not the enterprise user's


def _image(size: tuple[int, int], mode: str = "RGB", fmt: str = "PNG", **save) -> bytes:
    if mode in ("1", "L"):
        img = Image.new(mode, size, 0)
    else:
        img = Image.new(mode, size, (30, 120, 200, 128) if mode == "RGBA" else (30, 120, 200))
        for x in range(0, size[0], 7):  # some detail, so sizes mean something
            img.putpixel((x, x % size[1]), (250, 250, 0))
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_large_photo_becomes_a_small_upright_jpeg():
    big = _image((4000, 3000), fmt="JPEG", quality=95)
    small = make_thumbnail(big)
    assert _open(small).format == "JPEG" and max(_open(small).size) == 480
    assert len(small) < len(big) / 10
    # a camera that stored the picture sideways (EXIF orientation 6): shown upright
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = _image((400, 300), fmt="JPEG", exif=exif.tobytes())
    assert _open(make_thumbnail(sideways)).size == (300, 400)
    # transparency (a signature PNG) on white, not black
    clear = make_thumbnail(_image((100, 50), mode="RGBA"))
    assert _open(clear).mode == "RGB" and _open(clear).getpixel((1, 2))[0] > 100


def test_an_oversized_image_is_refused_before_decoding(tmp_path):
    side = int(MAX_PIXELS**0.5) + 100
    bomb = _image((side, side), mode="1")
    with pytest.raises(ValueError, match="too large"):
        make_thumbnail(bomb)
    store = BlobStore(tmp_path)
    sha = digest(bomb)
    store.put(sha, bomb)
    assert thumbnail(store, sha) is None and not thumb_path(store, sha).exists()


def test_console_serves_previews_in_scope_only(console, live_demo):
    officer = console("officer")
    page = officer.get(f"/console/hazards/{MALL_HAZARD}").text
    sha = page.split("/console/blobs/")[1][:64]
    assert f'src="/console/blobs/{sha}/thumb"' in page  # the page shows the preview
    r = officer.get(f"/console/blobs/{sha}/thumb")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert _open(r.content).format == "JPEG"
    store = live_demo.app.state.blobs
    assert thumb_path(store, sha).read_bytes() == r.content  # kept for the next request
    original = officer.get(f"/console/blobs/{sha}")
    assert original.headers["content-type"] == "image/png"

    enterprise = console("enterprise")
    assert enterprise.get(f"/console/blobs/{sha}/thumb").status_code == 200
    other = officer.get(f"/console/hazards/{STATION_HAZARD}").text.split("/console/blobs/")[1][:64]
    assert enterprise.get(f"/console/blobs/{other}/thumb").status_code == 404
