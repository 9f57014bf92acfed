"""The admin's bulk import page over HTTP (both databases) and in Chromium: upload a sheet the
test writes with openpyxl, read the dry run's table, confirm; the admin lists page by cursor."""

from __future__ import annotations

import io
import re
import uuid

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from server.imports.service import COLUMNS
from server.testing import xlsx_bytes
from server.users.models import User

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
USER_HEADERS = [c.header for c in COLUMNS["users"]]


def _users_sheet(tag: str, *, bad: bool) -> bytes:
    rows = [
        [f"{tag}_a", "导入甲", "检查员", "password-123", "", "", "", "海勃湾区", ""],
        [f"{tag}_b", "导入乙", "officer", "password-123", "", "", "", "150303", ""],
    ]
    if bad:
        rows += [
            [f"{tag}_a", "重复", "inspector", "password-123", "", "", "", "150302", ""],
            [f"{tag}_c", "坏角色", "boss", "password-123", "", "", "", "150302", ""],
        ]
    return xlsx_bytes([USER_HEADERS, *rows])


def _imported(live_demo, tag: str) -> set[str]:
    with Session(live_demo.app.state.engine) as s:
        names = s.exec(select(User.username).where(User.username.startswith(tag))).all()
    return set(names)


def test_dry_run_table_then_confirm(console, live_demo):
    admin = console("admin")
    page = admin.get("/console/admin/import?kind=users")
    assert page.status_code == 200 and "第一步" in page.text and "下载模板" in page.text
    tpl = admin.get("/console/admin/import/users/template.xlsx")
    assert tpl.status_code == 200
    ws = load_workbook(io.BytesIO(tpl.content)).worksheets[0]
    assert [c.value for c in next(ws.iter_rows(max_row=1))] == USER_HEADERS

    tag = "cimp" + uuid.uuid4().hex[:6]
    files = {"file": ("users.xlsx", _users_sheet(tag, bad=True), XLSX)}
    r = admin.post_form(
        "/console/admin/import/check",
        {"kind": "users"},
        from_page="/console/admin/import",
        files=files,
    )
    assert r.status_code == 200, r.text[:500]
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", r.text)
    assert rows == [("4", "用户名", "与第2行重复"), ("5", "角色", rows[1][2])]
    assert "不是有效的角色" in rows[1][2] and "检查员" in rows[1][2]
    assert 'id="import-confirm"' not in r.text  # no confirm for a sheet with problems
    assert _imported(live_demo, tag) == set()

    files = {"file": ("users.xlsx", _users_sheet(tag, bad=False), XLSX)}
    r = admin.post_form(
        "/console/admin/import/check",
        {"kind": "users"},
        from_page="/console/admin/import",
        files=files,
    )
    assert r.status_code == 200 and 'id="import-confirm"' in r.text
    assert _imported(live_demo, tag) == set()  # the dry run wrote nothing
    sheet = re.search(r'name="sheet" value="([^"]+)"', r.text).group(1)
    r = admin.post_form(
        "/console/admin/import/run",
        {"kind": "users", "sheet": sheet},
        from_page="/console/admin/import",
    )
    assert r.status_code == 303 and "done=imported" in r.headers["location"]
    assert _imported(live_demo, tag) == {f"{tag}_a", f"{tag}_b"}
    # confirmed twice: the second run is refused whole, nothing duplicated
    r = admin.post_form(
        "/console/admin/import/run",
        {"kind": "users", "sheet": sheet},
        from_page="/console/admin/import",
    )
    assert r.status_code == 422 and "已存在" in r.text
    assert console("officer").get("/console/admin/import").status_code == 403


def test_english_page_and_paged_site_list(console, live_demo):
    admin = console("admin", lang="en")
    page = admin.get("/console/admin/import?kind=sites").text
    assert "Bulk import" in page and "Download template" in page and "Risk colour" in page
    first = admin.get("/console/admin/sites")
    assert first.status_code == 200
    m = re.search(r'href="/console/admin/sites\?cursor=([^"]+)"', first.text)
    assert m, "62 demo sites take more than one page"
    second = admin.get(f"/console/admin/sites?cursor={m.group(1)}")
    assert second.status_code == 200
    names = lambda html: set(re.findall(r'<tr class="[^"]*"><td[^>]*>([^<]+)</td>', html))  # noqa: E731
    assert names(first.text) and names(second.text) and not names(first.text) & names(second.text)
    bad = admin.get("/console/admin/sites?cursor=garbage")
    assert bad.status_code == 422


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_import_page_in_chromium(live_demo, browser, artifacts):
    from console_helpers import browser_login

    tag = "bimp" + uuid.uuid4().hex[:6]
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_demo.url, "admin")
    page.goto(f"{live_demo.url}/console/admin/sites")
    assert page.locator("nav.pager a").count() == 1  # 62 demo sites: more than a page
    page.screenshot(path=str(artifacts / "33-admin-sites-paged.png"), full_page=False)
    page.goto(f"{live_demo.url}/console/admin/users?q=insp")
    assert page.locator("table.grid tbody tr").count() >= 1
    page.screenshot(path=str(artifacts / "34-admin-users-search.png"), full_page=False)
    page.click(".page-head >> text=批量导入")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/console/admin/import?kind=users")
    path = artifacts / f"{tag}.xlsx"
    path.write_bytes(_users_sheet(tag, bad=True))
    page.set_input_files("#import-upload input[type=file]", str(path))
    page.click("#import-upload button")
    page.wait_for_load_state("networkidle")
    cells = page.locator("table.problems tbody tr").all_inner_texts()
    assert len(cells) == 2 and "与第2行重复" in cells[0]
    page.screenshot(path=str(artifacts / "30-import-dry-run-problems.png"), full_page=True)

    path.write_bytes(_users_sheet(tag, bad=False))
    page.set_input_files("#import-upload input[type=file]", str(path))
    page.click("#import-upload button")
    page.wait_for_load_state("networkidle")
    assert "均无问题" in page.locator("#dry-run").inner_text()
    page.screenshot(path=str(artifacts / "31-import-dry-run-clean.png"), full_page=True)
    page.click("#import-confirm button")
    page.wait_for_load_state("networkidle")
    assert "导入完成" in page.locator(".alert.ok").inner_text()
    page.screenshot(path=str(artifacts / "32-import-done.png"), full_page=False)
    assert _imported(live_demo, tag) == {f"{tag}_a", f"{tag}_b"}
    ctx.close()
