"""Site coordinates on the console's create-site and edit-site forms, in real Chromium on both
databases: out-of-range, not-a-number and one-without-the-other are refused with a Chinese
message beside the field (what was typed stays), and good ones are saved with their datum."""

from __future__ import annotations

import uuid

import httpx
from console_helpers import browser_login


def _api_site(base: str, site_id: str) -> dict:
    with httpx.Client(base_url=base + "/api/v1", timeout=30) as c:
        token = c.post("/auth/token", data={"username": "admin", "password": "demo-password"})
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        return c.get(f"/sites/{site_id}").json()


def _submit(page, form: str, **fields: str) -> None:
    for name, value in fields.items():
        page.locator(f"{form} [name={name}]").fill(value)
    with page.expect_navigation():
        page.locator(f"{form} button.primary").click()
    page.wait_for_load_state("networkidle")


def _field_error(page, name: str) -> str:
    error = page.locator(f"[data-field-error={name}]")
    return error.inner_text().strip() if error.count() else ""


def test_create_and_edit_site_coordinates_in_chromium(live_demo, browser, artifacts):
    base = live_demo.url
    ctx = browser.new_context(viewport={"width": 390, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, base, "admin")
    page.goto(f"{base}/console/admin/sites")
    create = "form[action='/console/admin/sites'][method=post]"
    name = f"坐标测试场所{uuid.uuid4().hex[:6]}"
    assert page.locator(f"{create} [name=lat]").is_visible()
    assert page.locator(f"{create} select[name=datum] option").count() == 2

    _submit(page, create, name=name, lat="39.51", lon="")
    assert _field_error(page, "lon") == "已填写纬度，请同时填写经度（或两项都留空）"
    assert _field_error(page, "lat") == ""
    assert page.locator(f"{create} [name=lat]").input_value() == "39.51"  # kept as typed
    assert page.locator(f"{create} [name=name]").input_value() == name
    page.locator("[data-field-error=lon]").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "site-create-coordinates-error-390.png"))

    _submit(page, create, lat="95", lon="106.8")
    assert _field_error(page, "lat") == "纬度应在 -90 到 90 之间"
    _submit(page, create, lat="39.51", lon="东经106")
    assert _field_error(page, "lon") == "经度应为数字"

    page.locator(f"{create} [name=lon]").fill("106.87")
    page.locator(f"{create} select[name=datum]").select_option("gcj02")
    _submit(page, create, lat="39.51")
    assert "/console/admin/sites?done=saved" in page.url
    page.goto(f"{base}/console/admin/sites?name={name}")
    page.locator("a.button", has_text="编辑").first.click()
    page.wait_for_load_state("networkidle")
    site_id = page.url.rsplit("/", 1)[1]
    saved = _api_site(base, site_id)
    assert (saved["lat"], saved["lon"], saved["datum"]) == (39.51, 106.87, "gcj02")

    edit = f"form[action='/console/admin/sites/{site_id}']"
    assert page.locator(f"{edit} [name=lat]").input_value() == "39.51"
    _submit(page, edit, lat="", lon="200")
    assert _field_error(page, "lon") == "经度应在 -180 到 180 之间"
    assert page.locator(f"{edit} [name=lon]").input_value() == "200"  # kept as typed
    assert page.locator(f"{edit} [name=lat]").input_value() == ""
    assert page.locator(f"{edit} [name=lon]").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(artifacts / "site-edit-coordinates-error-390.png"), full_page=True)
    assert _api_site(base, site_id)["lon"] == 106.87  # nothing saved

    _submit(page, edit, lat="", lon="")  # both cleared: the site has no coordinates
    assert "done=saved" in page.url
    cleared = _api_site(base, site_id)
    assert cleared["lat"] is None and cleared["lon"] is None

    ctx.add_cookies([{"name": "hc_lang", "value": "en", "url": f"{base}/console"}])
    page.goto(f"{base}/console/admin/sites/{site_id}")
    _submit(page, edit, lat="-91", lon="10")
    assert _field_error(page, "lat") == "latitude must be between -90 and 90"
    ctx.close()
