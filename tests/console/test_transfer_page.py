"""Transfer (移交) in real Chromium: the action's form is built from its spec (labelled fields,
the site's accounts to choose from), a refusal re-shows the form with the reason and the input,
and once done the timeline shows the transfer and the hazard's unit is the new one.

SQLite only, as test_browser.py explains; the API test (tests/server/test_transfer.py) runs the
same rules on both databases."""

from __future__ import annotations

import pytest
from console_helpers import OVERDUE, browser_login

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_officer_transfers_through_the_spec_built_form(live_demo, browser, artifacts):
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_demo.url, "officer")
    page.goto(f"{live_demo.url}/console/hazards/{OVERDUE}")
    before = page.locator(".details dl").nth(1).inner_text()

    action = page.locator("details.action-transferred")
    assert action.locator("summary").inner_text() == "移交其他责任单位"
    action.evaluate("d => d.open = true")
    form = action.locator("form")
    labels = form.locator("label").all_inner_texts()
    assert [x.split("\n")[0].strip() for x in labels][:4] == [
        "接收单位",
        "接收单位责任人",
        "责任人账号（可选）",
        "移交原因",
    ]
    assert form.locator("input[name=responsible_unit]").get_attribute("required") is not None
    options = form.locator("select[name=responsible_user_id] option")
    assert options.first.inner_text() == "不指定"  # then the site's accounts, if it has any

    # the same unit again: refused, the form re-opens with the reason and what was typed
    current = before.split("责任单位")[1].split("\n")[1].strip()
    form.locator("input[name=responsible_unit]").fill(current)
    form.locator("input[name=responsible_person]").fill("王工")
    form.locator("textarea[name=reason]").fill("通道属物业管理区域")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "接收单位与当前责任单位相同" in page.locator(".alert.error").inner_text()
    form = page.locator("details.action-transferred[open] form")
    assert form.locator("textarea[name=reason]").input_value() == "通道属物业管理区域"

    form.locator("input[name=responsible_unit]").fill("万达物业工程部")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "操作已记录：移交" in page.locator(".alert.ok").inner_text()
    entry = page.locator("li.event.ev-transferred").first
    text = entry.inner_text()
    assert "移交" in text and "万达物业工程部" in text and "通道属物业管理区域" in text
    assert "原责任单位" in text and current in text
    assert "万达物业工程部" in page.locator(".details dl").nth(1).inner_text()
    assert "链条完整" in page.locator("#chain-badge").inner_text()
    page.screenshot(path=str(artifacts / "transfer-timeline.png"), full_page=True)

    # the English page names the same transfer from the same spec
    page.goto(f"{live_demo.url}/console/lang/en?next=/console/hazards/{OVERDUE}")
    page.goto(f"{live_demo.url}/console/hazards/{OVERDUE}")
    entry = page.locator("li.event.ev-transferred").first.inner_text()
    assert "Transferred" in entry and "New responsible unit" in entry
    ctx.close()
