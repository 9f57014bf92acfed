"""Pages name a checklist by its title, never by its id (检查记录 and 检查计划 lists)."""

from __future__ import annotations

from console_helpers import MALL, raise_inspection

from server.checklists.service import DEFAULT_ROOT
from shared.checklist import load_all


def test_inspections_and_plans_show_checklist_titles(console, live_demo, clock):
    raise_inspection(live_demo.app.state.engine, clock)
    title = load_all(DEFAULT_ROOT)[("crowded_venue", 1)].title.zh
    officer = live_demo.login("officer")
    r = officer.post(
        "/plans",
        json={"name": "名称测试计划", "site_ids": [MALL], "template_id": "crowded_venue",
              "template_version": 1, "frequency": "weekly", "start_date": "2026-03-02"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    page = console("officer")
    for path in ("/console/inspections", "/console/plans"):
        html = page.get(path).text
        assert title in html, path
        assert "crowded_venue v1" not in html and ">crowded_venue" not in html, path
