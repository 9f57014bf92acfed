"""Photos uploaded through the console's forms: a real file input in Chromium, and over HTTP on
both databases the refusals (not an image, nothing chosen) answered readably with nothing
appended to the chain."""

from __future__ import annotations

import pytest
from console_helpers import IN_REVIEW, browser_login

from server.blobs.store import digest
from server.demo import demo_png

PAGE = f"/console/hazards/{IN_REVIEW}"


def _events(live_demo) -> list[dict]:
    with live_demo.login("officer") as api:
        return api.get(f"/hazards/{IN_REVIEW}").json()["events"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_officer_adds_photos_through_the_file_input(live_demo, browser, artifacts, tmp_path):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = ctx.new_page()
    base = live_demo.url
    browser_login(page, base, "officer")
    shots = [demo_png(f"复查照片{i}", (90, 160, 60)) for i in range(2)]
    files = []
    for i, data in enumerate(shots):
        path = tmp_path / f"复查{i}.png"
        path.write_bytes(data)
        files.append(str(path))
    page.goto(base + PAGE)
    form = page.locator("details.action-photo_added")
    form.locator("summary").click()
    form.locator("input[name=photos]").set_input_files(files)
    form.locator("input[name=caption]").fill("复查时补拍")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    for data in shots:  # shown on the page as previews of the new photos
        assert page.locator(f'img[src="/console/blobs/{digest(data)}/thumb"]').count() >= 1
    page.screenshot(path=str(artifacts / "hazard-photos-added.png"), full_page=True)
    last = _events(live_demo)[-1]
    assert last["type"] == "photo_added" and last["payload"]["caption"] == "复查时补拍"
    assert set(last["payload"]["photos"]) == {digest(d) for d in shots}
    ctx.close()


def test_a_file_that_is_not_an_image_is_refused_readably(console, live_demo):
    officer = console("officer")
    before = len(_events(live_demo))
    r = officer.post_form(
        f"{PAGE}/act",
        {"action": "photo_added", "caption": "不是图片"},
        from_page=PAGE,
        files=[("photos", ("报告.txt", b"plain text, not a photo", "image/png"))],
    )
    assert r.status_code == 415 and "PNG" in r.text
    assert "不是图片" in r.text  # what was typed is kept
    empty = officer.post_form(f"{PAGE}/act", {"action": "photo_added"}, from_page=PAGE, files=[])
    assert empty.status_code == 422 and "photos" in empty.text
    assert len(_events(live_demo)) == before  # nothing appended
