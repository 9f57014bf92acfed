"""The printable on-site inspection record (检查记录): site, failed items with their basis,
hazards with deadlines, signature lines (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

from console_helpers import raise_inspection

from server.blobs.store import digest
from server.checklists.service import DEFAULT_ROOT
from server.demo import demo_png
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


def test_record_shows_item_notes_written_descriptions_and_signatures(console, live_demo, clock):
    inspector = live_demo.login("inspector")
    images = [demo_png(uuid.uuid4().hex, (10, 10, 10)) for _ in range(2)]
    for data in images:
        assert inspector.put(f"/blobs/{digest(data)}", content=data).status_code == 201
    template = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    # raise_inspection answers only yes/no items: this one is not among the failures
    passed = next(i for i in template.items() if i.answer != "yes_no" and i.profiles is None)
    signatures = {
        "inspector": digest(images[0]),
        "representative": digest(images[1]),
        "representative_name": "陈安全员",
    }
    inspection_id, failed = raise_inspection(
        live_demo.app.state.engine,
        clock,
        item_notes={passed.id: "东侧出口堆放纸箱"},
        signatures=signatures,
    )
    assert passed.id not in failed
    officer = console("officer")
    html = officer.get(f"/console/inspections/{inspection_id}").text
    assert "其他检查项备注" in html and "东侧出口堆放纸箱" in html and passed.text.zh in html
    for sha in (signatures["inspector"], signatures["representative"]):
        assert f'<img src="/console/blobs/{sha}"' in html
        assert officer.get(f"/console/blobs/{sha}").status_code == 200
    assert "签字人" in html and "陈安全员" in html and "张检查" in html
    english = console("officer", lang="en").get(f"/console/inspections/{inspection_id}").text
    assert "Notes on other items" in english and "Signed by" in english


def test_record_puts_a_failed_items_note_and_written_description_beside_it(
    console, live_demo, clock
):
    template = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    general = [i for i in template.items() if i.answer == "yes_no" and i.profiles is None]
    first = next(i for i in general if i.severity == "general" and not i.photo_required)
    inspection_id, failed = raise_inspection(
        live_demo.app.state.engine,
        clock,
        item_notes={first.id: "二楼东侧"},
        descriptions={first.id: "二楼东侧通道堆放纸箱"},
    )
    assert first.id in failed
    html = console("officer").get(f"/console/inspections/{inspection_id}").text
    assert "检查项备注" in html and "二楼东侧" in html and "二楼东侧通道堆放纸箱" in html
    assert "其他检查项备注" not in html
    assert "检查人员签字" in html and '<p class="line">' in html  # no signatures: lines to sign


def test_record_and_the_days_summary_show_the_completion_rate(console, live_demo, clock):
    template = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    applicable = [i for i in template.items() if i.applies_to("mall")]
    skipped = [i for i in applicable if i.answer == "number"][:4]
    general = [i for i in applicable if i.answer == "yes_no" and i.severity == "general"]
    not_here = general[5]  # not among the items raise_inspection fails
    marks = {i.id: "unchecked" for i in skipped} | {not_here.id: "na"}
    reasons = {i.id: "检测仪器送检，下次补测" for i in skipped} | {not_here.id: "该楼层无此设施"}
    inspection_id, _ = raise_inspection(
        live_demo.app.state.engine, clock, item_notes=reasons, marks=marks
    )
    done = len(applicable) - len(skipped)
    rate = f"{done / len(applicable) * 100:.1f}%"
    officer = console("officer")
    html = officer.get(f"/console/inspections/{inspection_id}").text
    row = html.split('id="completion">')[1].split("</td>")[0]
    assert f"完成率 {rate}" in row and "未检查 4" in row and "不适用 1" in row
    assert f"（共 {len(applicable)} 项）" in row
    assert html.count('<strong class="mark">未检查</strong> 检测仪器送检，下次补测') == 4
    assert '<strong class="mark">不适用</strong> 该楼层无此设施' in html
    english = console("officer", lang="en").get(f"/console/inspections/{inspection_id}").text
    assert "Completion rate" in english and "Not checked" in english

    # the day's live summary: the same items, the same rate, as a tile of its own
    dash = officer.get("/console/dashboard?date=today").text
    tile = dash.split('data-kpi="inspection_completion"')[1][:400]
    assert rate in tile and f"{done}/{len(applicable)}" in tile
