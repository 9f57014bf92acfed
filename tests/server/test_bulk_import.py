"""Bulk import of users and sites from .xlsx sheets the test writes with openpyxl, over real HTTP:
a dry run lists every bad row's problem (row, column, Chinese or English), a real run writes
every row or none; the admin's user list pages with a cursor."""

from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import load_workbook

from server.imports.service import COLUMNS
from server.testing import xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet(kind: str, rows: list[list[object]], headers: list[str] | None = None) -> bytes:
    return xlsx_bytes([headers or [c.header for c in COLUMNS[kind]], *rows])


def upload(http, kind: str, data: bytes, *, dry_run: bool, lang: str | None = None):
    headers = {"Accept-Language": lang} if lang else {}
    return http.post(
        f"/imports/{kind}",
        params={"dry_run": str(dry_run).lower()},
        files={"file": ("sheet.xlsx", data, XLSX)},
        headers=headers,
    )


def usernames(admin, prefix: str) -> set[str]:
    page = admin.get("/users", params={"q": prefix, "limit": 500}).json()
    return {u["username"] for u in page["items"]}


def test_template_has_the_headers_and_only_admins_get_it(live_demo):
    admin = live_demo.login("admin")
    for kind in ("users", "sites"):
        r = admin.get(f"/imports/{kind}/template.xlsx")
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == XLSX
        ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
        headers = [c.value for c in next(ws.iter_rows(max_row=1))]
        assert headers == [c.header for c in COLUMNS[kind]]
        assert "*用户名（username）" in headers or "*场所名称（name）" in headers
    officer = live_demo.login("officer")
    assert officer.get("/imports/users/template.xlsx").status_code == 403
    r = upload(officer, "users", sheet("users", []), dry_run=True)
    assert r.status_code == 403


def _bad_users(tag: str) -> list[list[object]]:
    # username, display_name, role, password, unit, phone, email, districts, sites
    return [
        [f"{tag}_ok", "好人", "检查员", "password-123", "", 13800000000, "", "150302", ""],
        ["admin", "重名", "inspector", "password-123", "", "", "", "海勃湾区", ""],  # row 3
        [f"{tag}_ok", "又一个", "inspector", "password-123", "", "", "", "150302", ""],  # 4
        [f"{tag}_d", "无此区", "inspector", "password-123", "", "", "", "999999", ""],  # 5
        [f"{tag}_r", "坏角色", "wizard", "password-123", "", "", "", "150302", ""],  # 6
        [f"{tag}_m", "", "officer", "password-123", "", "", "", "150303", ""],  # 7
        [f"{tag}_e", "无场所", "enterprise", "password-123", "", "", "", "", ""],  # 8
        [None] * 9,  # a blank row is skipped, not a problem
        [f"{tag}_s", "系统", "system", "password-123", "", "", "", "", ""],  # 10
    ]


def test_dry_run_lists_every_bad_row_and_writes_nothing(live_demo):
    admin = live_demo.login("admin")
    tag = "imp" + uuid.uuid4().hex[:6]
    data = sheet("users", _bad_users(tag))
    r = upload(admin, "users", data, dry_run=True)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["dry_run"] is True and report["written"] == 0 and report["rows"] == 8
    got = {(p["row"], p["column"]) for p in report["problems"]}
    assert got == {
        (3, "username"),  # taken by the demo admin
        (4, "username"),  # duplicates row 2
        (5, "district_ids"),  # unknown district
        (6, "role"),  # not a role
        (7, "display_name"),  # required, empty
        (8, "site_ids"),  # an enterprise user needs a site
        (10, "role"),  # system is not a login role
    }
    by = {(p["row"], p["column"]): p for p in report["problems"]}
    assert by[(4, "username")]["message"] == "与第2行重复"  # Chinese by default
    assert by[(7, "display_name")]["message"] == "必填"
    assert by[(7, "display_name")]["column_label"] == "姓名"
    assert (
        "999999" in by[(5, "district_ids")]["zh"]
        and "unknown district" in by[(5, "district_ids")]["en"]
    )
    en = upload(admin, "users", data, dry_run=True, lang="en").json()
    en_by = {(p["row"], p["column"]): p for p in en["problems"]}
    assert en_by[(4, "username")]["message"] == "duplicates row 2"
    assert en_by[(7, "display_name")]["column_label"] == "Name"
    assert usernames(admin, tag) == set()


def test_real_run_writes_all_rows_or_none(live_demo):
    admin = live_demo.login("admin")
    tag = "imp" + uuid.uuid4().hex[:6]
    bad = upload(admin, "users", sheet("users", _bad_users(tag)), dry_run=False)
    assert bad.status_code == 422, bad.text
    body = bad.json()
    assert body["code"] == "import_invalid" and "未导入" in body["message"]
    assert len(body["problems"]) == 7 and "3.username" in body["fields"]
    assert usernames(admin, tag) == set()  # the good row 2 was not written either

    good = [
        [
            f"{tag}_insp",
            "检查员甲",
            "检查员",
            "password-123",
            "应急局",
            "",
            "",
            "150302，乌达区",
            "",
        ],
        [f"{tag}_ent", "安全员乙", "enterprise", "password-123", "", "", "", "", "乌达碳化硅厂"],
        [f"{tag}_lead", "领导丙", "Leader", "password-123", "", "", "", "150300", ""],
    ]
    ok = upload(admin, "users", sheet("users", good), dry_run=False)
    assert ok.status_code == 200, ok.text
    assert ok.json()["written"] == 3 and ok.json()["problems"] == []
    assert usernames(admin, tag) == {f"{tag}_insp", f"{tag}_ent", f"{tag}_lead"}
    page = admin.get("/users", params={"q": f"{tag}_insp"}).json()["items"]
    assert page[0]["role"] == "inspector" and sorted(page[0]["district_ids"]) == [
        "150302",
        "150304",
    ]
    new = live_demo.login(f"{tag}_ent", "password-123")  # the imported password works
    assert new.get("/me").json()["role"] == "enterprise"
    again = upload(admin, "users", sheet("users", good), dry_run=True).json()
    assert {(p["row"], p["column"]) for p in again["problems"]} == {
        (2, "username"),
        (3, "username"),
        (4, "username"),
    }


def test_sites_sheet_checks_industry_district_and_colour(live_demo):
    admin = live_demo.login("admin")
    tag = uuid.uuid4().hex[:6]
    rows = [
        # name, industry, site_type, district, risk, address, contact, phone
        [f"导入商场{tag}", "人员密集场所", "商场", "海勃湾区", "红", "", "", ""],
        [f"导入煤矿{tag}", "mine", "mall", "150302", "red", "", "", ""],  # 3: type ≠ industry
        [f"导入学校{tag}", "crowded_venue", "school", "无此区", "blue", "", "", ""],  # 4
        [f"导入医院{tag}", "crowded_venue", "hospital", "150303", "purple", "", "", ""],  # 5
        [f"导入商场{tag}", "crowded_venue", "mall", "150302", "red", "", "", ""],  # 6: dup of 2
        ["", "crowded_venue", "mall", "150302", "red", "", "", ""],  # 7: no name
    ]
    r = upload(admin, "sites", sheet("sites", rows), dry_run=True)
    assert r.status_code == 200, r.text
    got = {(p["row"], p["column"]) for p in r.json()["problems"]}
    assert got == {
        (3, "site_type"),
        (4, "district_id"),
        (5, "risk_colour"),
        (6, "name"),
        (7, "name"),
    }
    mismatch = next(p for p in r.json()["problems"] if p["row"] == 3)
    assert "不属于行业" in mismatch["zh"] and "does not belong" in mismatch["en"]
    assert upload(admin, "sites", sheet("sites", rows), dry_run=False).status_code == 422
    names = {s["name"] for s in admin.get("/sites", params={"name": tag}).json()["items"]}
    assert names == set()

    ok = upload(
        admin,
        "sites",
        sheet(
            "sites",
            rows[:1]
            + [
                [
                    f"导入学校{tag}",
                    "人员密集场所",
                    "学校",
                    "150304",
                    "蓝",
                    "乌达区某路1号",
                    "张三",
                    13900000000,
                ]
            ],
        ),
        dry_run=False,
    )
    assert ok.status_code == 200, ok.text and ok.json()["written"] == 2
    got_sites = admin.get("/sites", params={"name": tag}).json()["items"]
    school = next(s for s in got_sites if s["site_type"] == "school")
    assert (school["industry"], school["district_id"], school["risk_colour"]) == (
        "crowded_venue",
        "150304",
        "blue",
    )
    assert school["contact_phone"] == "13900000000"


@pytest.mark.parametrize(
    "data, column",
    [
        (b"not a spreadsheet", "file"),
        (sheet("users", [["x"]], headers=["用户名", "姓名"]), "header"),
        (sheet("users", []), "file"),
    ],
)
def test_unreadable_sheets_say_why(live_demo, data, column):
    admin = live_demo.login("admin")
    r = upload(admin, "users", data, dry_run=True)
    assert r.status_code == 200, r.text
    assert [p["column"] for p in r.json()["problems"]] == [column]
    assert upload(admin, "users", data, dry_run=False).status_code == 422
    assert admin.post("/imports/things", files={"file": ("a.xlsx", data, XLSX)}).status_code == 422


def test_admin_user_list_pages_with_a_cursor(live_demo):
    admin = live_demo.login("admin")
    everyone = admin.get("/users", params={"limit": 500}).json()
    assert everyone["total"] == len(everyone["items"]) >= 5 and everyone["next_cursor"] is None
    seen, cursor = [], None
    while True:
        page = admin.get("/users", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += [u["username"] for u in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [u["username"] for u in everyone["items"]] == sorted(seen)
    backwards = admin.get("/users", params={"limit": 500, "sort": "-username"}).json()["items"]
    assert [u["username"] for u in backwards] == seen[::-1]
    assert {u["role"] for u in admin.get("/users", params={"role": "leader"}).json()["items"]} == {
        "leader"
    }
    bad = admin.get("/users", params={"sort": "password_hash"})
    assert bad.status_code == 422 and "sort" in bad.json()["fields"]
    other = admin.get("/users", params={"limit": 2}).json()["next_cursor"]
    mixed = admin.get("/users", params={"cursor": other, "sort": "-username"})
    assert mixed.status_code == 422 and "cursor" in mixed.json()["fields"]
