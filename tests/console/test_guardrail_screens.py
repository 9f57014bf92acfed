"""The changed console screens in real Chromium (screenshots in artifacts/console/): 隐患编号 in
the queue and on the hazard page with whole overdue days, and the batch-assign warning when
the selected hazards belong to different sites."""

from __future__ import annotations

import re

import pytest
from console_helpers import browser_login

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NUMBER = re.compile(r"^YH-\d{6}-\d{4}-\d{6}$")


def test_numbers_overdue_days_and_the_mixed_sites_warning(live_demo, browser, artifacts):
    ctx = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_demo.url, "officer")

    page.goto(f"{live_demo.url}/console/queue?tab=overdue")
    page.wait_for_load_state("networkidle")
    numbers = page.locator("table.queue .hazard-no").all_inner_texts()
    assert numbers and all(NUMBER.match(n) for n in numbers), numbers
    late = page.locator("table.queue .late-text").all_inner_texts()
    assert late and all(re.fullmatch(r"逾期 \d+ 天", t) for t in late), late
    page.screenshot(path=str(artifacts / "queue-numbers.png"), full_page=True)

    page.click("table.queue tbody tr a >> nth=0")
    page.wait_for_load_state("networkidle")
    shown = page.locator("[data-hazard-number]").inner_text()
    assert NUMBER.match(shown.split("：")[1]), shown
    assert re.fullmatch(r"逾期 \d+ 天", page.locator(".badges .badge.late").inner_text())
    page.screenshot(path=str(artifacts / "hazard-number.png"))

    page.goto(f"{live_demo.url}/console/queue?tab=open")
    page.wait_for_load_state("networkidle")
    boxes = page.locator("input[name=hazard_id]")
    rows = page.locator("table.queue tbody tr")
    sites = [rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())]
    first = 0
    other = next(i for i, s in enumerate(sites) if s != sites[first])
    boxes.nth(first).check()
    boxes.nth(other).check()
    page.fill("input[name=responsible_unit]", "海勃湾区教育局")
    page.fill("input[name=responsible_person]", "刘科长")
    page.click("fieldset.batch button.primary")
    page.wait_for_load_state("networkidle")
    warning = page.locator("#mixed-sites")
    assert warning.is_visible()
    text = warning.inner_text()
    assert "选中的隐患属于不同场所" in text and sites[first] in text and sites[other] in text
    warning.screenshot(path=str(artifacts / "batch-mixed-sites.png"))
    page.click("#mixed-sites button.primary")
    page.wait_for_load_state("networkidle")
    assert "2 成功" in page.locator("section.alert").first.inner_text()
    ctx.close()
