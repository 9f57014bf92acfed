"""The Excel export of any filtered hazard list holds exactly the rows the queue shows, in its
order (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re

from console_helpers import hazard_rows
from openpyxl import load_workbook

NUMBER = re.compile(r'class="muted small nowrap hazard-no">([^<]*)<')


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
        page = officer.get(f"/console/queue?{query}").text
        page_numbers = NUMBER.findall(page)
        assert len(page_numbers) == len(hazard_rows(page))
        r = officer.get(f"/console/export/hazards.xlsx?{query}")
        assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
        rows = sheet_rows(r.content)
        assert rows[0][:3] == ("隐患编号", "隐患", "场所")
        assert [row[0] for row in rows[1:]] == page_numbers, query
    rows = sheet_rows(officer.get("/console/export/hazards.xlsx?tab=overdue").content)
    api = live_demo.login("officer")
    overdue = api.get("/hazards", params={"overdue": "true", "limit": 200}).json()["items"]
    assert {row[0] for row in rows[1:]} == {h["number"] for h in overdue}
    assert all(re.fullmatch(r"YH-\d{6}-\d{4}-\d{6}", row[0]) for row in rows[1:])
    by_number = {h["number"]: h for h in overdue}
    for row in rows[1:]:
        assert row[1] == by_number[row[0]]["title"]
        # state in Chinese (an unassigned one is late for the officer), whole days overdue
        assert row[6] in ("已交办", "已上报") and isinstance(row[10], int) and row[10] > 0
        assert row[11] in (None, "区县督办", "市级督办")  # supervision in words, not 0/1/2


def test_export_headers_follow_the_language_and_empty_lists_export(console):
    en = console("officer", lang="en")
    rows = sheet_rows(en.get("/console/export/hazards.xlsx?q=nothing-like-this").content)
    assert rows == [rows[0]] and rows[0][:3] == ("Hazard No.", "Hazard", "Site")
