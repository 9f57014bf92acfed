"""The Excel export of any filtered hazard list holds exactly the rows the queue shows, in its
order (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

ROW = re.compile(r'data-hazard="([0-9a-f-]{36})"')


def sheet_rows(content: bytes) -> list[tuple]:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return list(wb.worksheets[0].iter_rows(values_only=True))


def test_export_holds_the_filtered_list(console, live_demo):
    officer = console("officer")
    for query in (
        "tab=open",
        "tab=overdue",
        "tab=all&severity=major",
        "tab=open&q=万达",
        "tab=done",
    ):
        page_ids = ROW.findall(officer.get(f"/console/queue?{query}").text)
        r = officer.get(f"/console/export/hazards.xlsx?{query}")
        assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
        rows = sheet_rows(r.content)
        assert rows[0][:3] == ("编号", "隐患", "场所")
        assert [row[0] for row in rows[1:]] == page_ids, query
    rows = sheet_rows(officer.get("/console/export/hazards.xlsx?tab=overdue").content)
    api = live_demo.login("officer")
    overdue = api.get("/hazards", params={"overdue": "true", "limit": 200}).json()["items"]
    assert {row[0] for row in rows[1:]} == {h["id"] for h in overdue}
    by_id = {h["id"]: h for h in overdue}
    for row in rows[1:]:
        assert row[1] == by_id[row[0]]["title"]
        assert row[6] == "已交办" and row[10] > 0  # state in Chinese, days overdue


def test_export_headers_follow_the_language_and_empty_lists_export(console):
    en = console("officer", lang="en")
    rows = sheet_rows(en.get("/console/export/hazards.xlsx?q=nothing-like-this").content)
    assert rows == [rows[0]] and rows[0][:3] == ("ID", "Hazard", "Site")
