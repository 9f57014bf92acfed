"""The printable on-site inspection record (检查记录): site, failed items with their basis,
hazards with deadlines, signature lines (SQLite and PostgreSQL)."""

from __future__ import annotations

from console_helpers import raise_inspection

from server.checklists.service import DEFAULT_ROOT
from shared.checklist import load_all


def test_record_lists_failures_basis_hazards_and_signatures(console, live_demo, clock):
    inspection_id, failed = raise_inspection(live_demo.app.state.engine, clock)
    template = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    page = console("officer").get(f"/console/inspections/{inspection_id}")
    assert page.status_code == 200
    html = page.text
    assert "现场检查记录" in html and "万达广场乌海店" in html and "张检查" in html
    for item_id in failed:
        item = template.item(item_id)
        assert item.text.zh in html
        standard = template.standard(item.basis.standard)
        assert standard.title.zh.split("（")[0] in html  # the basis names its standard
    assert "立即整改" in html or "日内" in html  # the hazards' deadlines
    assert "检查人员签字" in html and "被检查单位负责人签字" in html
    assert "@media print" in console("officer").get("/console/static/console.css").text
    listing = console("officer").get("/console/inspections").text
    assert f"/console/inspections/{inspection_id}" in listing
    assert console("officer2").get(f"/console/inspections/{inspection_id}").status_code == 404
    hazard_page = console("officer").get(f"/console/queue?q={template.item(failed[0]).text.zh[:6]}")
    assert hazard_page.status_code == 200
