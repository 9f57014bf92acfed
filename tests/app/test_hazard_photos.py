"""The enterprise's tablet shows the inspector's photos (issue 16, point 6), with real Kivy
widgets against the demo server: after a sync every photo of the hazard is a thumbnail, in the
photo strip and under its link of the chain; a photo its taker has not sent says it failed; with
the cache emptied and no network they say "not downloaded (offline)"; a tap opens the full
photo, fetched once the network is back. The screen is saved as a screenshot to look at."""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path

from app_helpers import login, sync
from PIL import Image

from mobile_app.core.photo_cache import PhotoCache
from mobile_app.ui.evidence import PhotoThumb, PhotoViewer
from server.blobs.store import digest
from server.demo import did

MALL = did("site", "万达广场乌海店")


def picture(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", (width, height), rgb)
    for x in range(0, width, 120):  # stripes, so the thumbnail is visibly a picture
        img.paste((255, 255, 255), (x, 0, x + 30, height))
    img.putpixel((0, 0), tuple(uuid.uuid4().bytes[:3]))  # bytes nobody has sent
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def thumbs(widget) -> list[PhotoThumb]:
    return [w for w in widget.walk(restrict=True) if isinstance(w, PhotoThumb)]


def test_hazard_screen_shows_every_photo_with_its_state(server, start_app, tmp_path):
    defect, closeup = picture(1200, 900, (190, 60, 50)), picture(900, 900, (60, 90, 160))
    unsent = digest(uuid.uuid4().bytes)  # cited, never uploaded by its taker
    with server.login("inspector") as insp:
        for data in (defect, closeup):
            assert insp.put(f"/blobs/{digest(data)}", content=data).status_code == 201
        body = {
            "site_id": MALL,
            "title": f"配电箱柜门缺失-{uuid.uuid4().hex[:4]}",
            "severity": "general",
            "photos": [digest(defect), digest(closeup), unsent],
        }
        r = insp.post("/hazards", json=body)
        assert r.status_code == 201, r.text
        hid = r.json()["id"]

    d = start_app(server.url, "enterprise")
    backend = d.app.backend._inner
    login(d, "enterprise")
    sync(d)  # the pull, then the previews of what it brought
    assert d.app.last_report.photos_fetched >= 2
    screen = d.go("hazard", hazard_id=hid)
    strip = thumbs(screen.ids.photos)
    assert [t.sha256 for t in strip] == body["photos"]
    assert [t.status for t in strip] == ["ready", "ready", "failed"]
    assert strip[0].texture.size == (480, 360)  # the preview, not the photo
    assert "加载失败" in [w.text for w in strip[2].walk(restrict=True) if hasattr(w, "text")]
    in_chain = thumbs(screen.ids.timeline)  # under the report's link, too
    assert [t.sha256 for t in in_chain] == body["photos"]
    shots = Path(os.environ.get("HAZARDCHAIN_SHOTS") or tmp_path)  # set it to look at them
    d.screenshot(shots / "enterprise-hazard-photos.png")

    # a thumbnail waits for its bytes, then shows them
    fresh = PhotoThumb(sha256=digest(defect))
    assert fresh.status == "loading"
    d.pump()
    assert fresh.status == "ready"

    # the cache emptied (a small budget) and the network gone: each says why it is blank
    cache = PhotoCache(backend.store, budget_bytes=0)
    assert cache.evict_to_budget() >= 2
    d.app.online = False
    screen = d.go("hazard", hazard_id=hid)
    strip = thumbs(screen.ids.photos)
    assert [t.status for t in strip] == ["offline", "offline", "failed"]
    assert "离线未下载" in [w.text for w in strip[0].walk(restrict=True) if hasattr(w, "text")]
    d.screenshot(shots / "enterprise-hazard-photos-offline.png")
    d.press(strip[0])
    (viewer,) = [p for p in d.popups() if isinstance(p, PhotoViewer)]
    assert viewer.status == "offline" and "原图未下载" in viewer.note
    viewer.dismiss()
    d.settle_popups()

    # online again: a tap fetches the full photo, checked against the hash the chain cites
    d.app.online = True
    screen = d.go("hazard", hazard_id=hid)
    strip = thumbs(screen.ids.photos)
    assert [t.status for t in strip] == ["ready", "ready", "failed"]
    d.press(strip[0])
    (viewer,) = [p for p in d.popups() if isinstance(p, PhotoViewer)]
    assert viewer.status == "full" and viewer.texture.size == (1200, 900)
    assert backend.photo(digest(defect), "full")["data"] == defect  # kept for offline use
    d.screenshot(shots / "enterprise-photo-full.png")
    viewer.dismiss()
    d.settle_popups()
    assert not d.app.backend.main_thread_calls  # every photo was read off the main thread

    # the budget is a setting: what is kept, of how much; a lower one applies at once
    screen = d.go("settings")
    assert "已用" in screen.photo_line and screen.ids.photo_budget.text == "256 MB"
    screen.ids.photo_budget.text = "128 MB"
    d.pump()
    assert backend.setting("photo_budget_mb") == 128 and screen.photo_budget == "128"
    assert "128.0 MB" in screen.photo_line
    d.screenshot(shots / "enterprise-settings-photos.png")
