"""Excel workbooks (openpyxl): any filtered hazard list, and a day's risk summary.

The hazard export runs the very query the work queue shows (same filters, same order), streamed
into a write-only workbook so a city-wide list stays flat in memory. Headers follow the user's
language; times are local to the configured zone.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from sqlmodel import Session, select
from starlette.responses import Response

from server.console import i18n
from server.console.queue import days_overdue
from server.hazards.models import Hazard
from server.inspections.models import Inspection
from server.matters.models import Matter, MatterLink
from server.sites.models import District, Site
from shared.numbers import shown_number

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
HAZARD_COLUMNS = (
    ("隐患编号", "Hazard No.", 24),
    ("隐患", "Hazard", 40),
    ("场所", "Site", 26),
    ("辖区", "District", 12),
    ("行业", "Industry", 14),
    ("等级", "Grade", 10),
    ("状态", "State", 10),
    ("责任单位", "Responsible unit", 24),
    ("责任人", "Responsible person", 12),
    ("整改期限", "Deadline", 18),
    ("逾期天数", "Days overdue", 10),
    ("督办级别", "Escalation level", 10),
    ("上报时间", "Reported", 18),
    ("销号时间", "Closed", 18),
    ("事项", "Matter", 14),
    ("环节", "Link", 14),
    ("来源检查", "From inspection", 24),
)


def xlsx_response(data: bytes, filename: str) -> Response:
    return Response(
        content=data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


def _header(ws, labels: list[str]) -> list[WriteOnlyCell]:
    cells = []
    for label in labels:
        c = WriteOnlyCell(ws, value=label)
        c.font = Font(bold=True)
        c.fill = HEADER_FILL
        c.alignment = Alignment(vertical="center")
        cells.append(c)
    return cells


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def hazard_workbook(session: Session, query, now: datetime, lang: str, tz: str) -> bytes:
    """One row per hazard of ``query`` (the work queue's query), in its order."""
    en = lang == "en"
    sites = {s.id: s.name for s in session.exec(select(Site)).all()}
    districts = {
        d.id: (d.name_en or d.name) if en else d.name for d in session.exec(select(District))
    }
    matters = {m.id: (m.name_en or m.name) if en else m.name for m in session.exec(select(Matter))}
    links = {
        k.id: (k.name_en or k.name) if en else k.name for k in session.exec(select(MatterLink))
    }
    # 检查记录编号 of the inspections the hazards came from (a person cannot look up a UUID)
    inspection_numbers = dict(session.exec(select(Inspection.id, Inspection.number)).all())
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("隐患清单" if not en else "Hazards")
    for i, (_zh, _en, width) in enumerate(HAZARD_COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "C2"
    ws.append(_header(ws, [c[1] if en else c[0] for c in HAZARD_COLUMNS]))
    for h in session.exec(query.execution_options(yield_per=2000)):
        h: Hazard
        ws.append(
            [
                shown_number(h.number, h.id),
                h.title,
                sites.get(h.site_id, h.site_id),
                districts.get(h.district_id, h.district_id),
                i18n.vocab(h.industry, lang),
                i18n.vocab(h.severity, lang),
                i18n.state_name(h.state, lang),
                h.responsible_unit or "",
                h.responsible_person or "",
                i18n.local_time(h.deadline, tz),
                days_overdue(h, now),
                i18n.escalation_words(h.escalation_level, lang),
                i18n.local_time(h.reported_at, tz),
                i18n.local_time(h.closed_at, tz),
                matters.get(h.matter_id or "", ""),
                links.get(h.link_id or "", ""),
                shown_number(inspection_numbers.get(h.inspection_id), h.inspection_id)
                if h.inspection_id
                else "",
            ]
        )
    return _save(wb)


KPI_ROWS = (
    ("新增隐患", "new"),
    ("销号隐患", "closed"),
    ("在办隐患总数", "open"),
    ("逾期未改", "overdue"),
    ("重大隐患在办", "major_open"),
    ("挂牌督办中", "escalated"),
    ("升级督办次数", "escalations"),
)


def kpis(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The KPI tiles of the dashboard, also the first sheet of the export and the print."""
    totals = figures.get("totals", {})
    rates = figures.get("rates", {})
    rect = rates.get("rectification", {})
    on_time = rates.get("on_time_closure", {})
    tiles = [{"label": zh, "key": key, "value": totals.get(key, 0), "rate": False}
             for zh, key in KPI_ROWS]  # fmt: skip
    tiles.append(
        {
            "label": "按期销号率",
            "key": "on_time",
            "value": on_time.get("rate"),
            "rate": True,
            "detail": f"{on_time.get('on_time', 0)}/{on_time.get('closed', 0)}",
        }
    )
    tasks = figures.get("inspection_tasks") or {}
    tiles.append(
        {
            "label": "检查任务按时完成率",
            "key": "tasks_on_time",
            "value": tasks.get("rate"),
            "rate": True,
            "detail": f"{tasks.get('done_on_time', 0)}/{tasks.get('due', 0) - tasks.get('skipped', 0)}",
            "day": True,  # the day's own figure, not year to date
        }
    )
    checked = figures.get("inspection_completion") or {}
    tiles.append(
        {
            "label": "检查项完成率",
            "key": "inspection_completion",
            "value": checked.get("rate"),
            "rate": True,
            "detail": f"{checked.get('done', 0)}/{checked.get('items', 0)}",
            "day": True,  # the day's inspections: answered or 不适用 over the items that applied
        }
    )
    for sev, label in (("general", "一般隐患整改率"), ("major", "重大隐患整改率")):
        r = rect.get(sev, {})
        tiles.append(
            {
                "label": label,
                "key": f"rect_{sev}",
                "value": r.get("rate"),
                "rate": True,
                "detail": f"{r.get('closed', 0)}/{r.get('found', 0)}",
            }
        )
    return tiles + self_inspection_tiles(figures)


# 自查成效 (server/summaries/self_inspection.py): label, key in its totals; over 30 days
SELF_TILES = (
    ("企业自查发现隐患", "self_found"),
    ("监管发现隐患", "regulator_found"),
    ("从未自报的场所", "silent_sites"),
    ("监管常查出而企业不自报", "flagged_sites"),
)
# its per-district and per-site columns (the dashboard's table and the Excel sheet)
SELF_COLUMNS = (
    ("应自查", "due"),
    ("已自查", "done"),
    ("企业自查发现隐患", "self_found"),
    ("监管发现隐患", "regulator_found"),
    ("自查自改销号", "self_closed"),
)


def self_inspection_tiles(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The self-inspection tiles; none for a day stored before the figures existed."""
    own = figures.get("self_inspection")
    if not own:
        return []
    t = own["totals"]
    tiles = [
        {
            "label": "企业自查完成率",
            "key": "self_inspection_rate",
            "value": t.get("rate"),
            "rate": True,
            "detail": f"{t.get('done', 0)}/{t.get('due', 0)}",
            "recent": True,
        }
    ]
    for label, key in SELF_TILES:
        tile = {"label": label, "key": key, "value": t.get(key, 0), "rate": False}
        tile["detail"] = f"{t.get(key, 0)}/{t.get('sites', 0)}" if key.endswith("_sites") else ""
        tile["recent"] = True
        tile["alert"] = key == "flagged_sites" and bool(t.get(key))
        tiles.append(tile)
    return tiles


def _rate_text(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def daily_workbook(
    figures: dict[str, Any], acks: list[Any], lang: str, tz: str, stored: bool
) -> bytes:
    """The day's summary: overview (with sign-offs), district × industry, longest overdue,
    30-day trend."""
    t = i18n.translator(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = t("风险日报")[:31]
    ws.append([t("安全生产隐患排查治理日报")])
    ws["A1"].font = Font(bold=True, size=14)
    scope = figures.get("scope", {})
    ws.append([t("范围"), scope.get("name", "")])
    ws.append([t("日期"), figures.get("date", "")])
    ws.append([t("日报数据来源"), t("07:00 定时生成的存档") if stored else t("按当日数据即时计算")])
    ws.append([])
    for tile in kpis(figures):
        value = _rate_text(tile["value"]) if tile["rate"] else tile["value"]
        ws.append([t(tile["label"]), value, tile.get("detail", "")])
    ws.append([])
    ws.append([t("签阅人"), t("签阅时间")])
    for a in acks:
        ws.append([a.user_name, i18n.local_time(a.acknowledged_at, tz)])
    if not acks:
        ws.append([t("尚未签阅")])
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 22

    cross = wb.create_sheet(t("辖区 × 行业")[:31].replace("×", "x"))
    cols = ("new", "closed", "open", "overdue", "major_open", "escalated", "escalations")
    labels = dict((k, zh) for zh, k in KPI_ROWS)
    cross.append([t("辖区"), t("行业")] + [t(labels[c]) for c in cols])
    for r in figures.get("by_district_industry", []):
        cross.append([r["district_name"], i18n.vocab(r["industry"], lang)] + [r[c] for c in cols])
    totals = figures.get("totals", {})
    cross.append([t("合计"), ""] + [totals.get(c, 0) for c in cols])

    longest = wb.create_sheet(t("逾期最久的隐患")[:31])
    longest.append(
        [
            t("隐患"),
            t("场所"),
            t("辖区"),
            t("等级"),
            t("整改期限"),
            t("逾期天数"),
            t("督办级别"),
            t("隐患编号"),
        ]
    )
    for r in figures.get("longest_overdue", []):
        longest.append(
            [
                r["title"],
                r["site_name"],
                r["district_name"],
                i18n.vocab(r["severity"], lang),
                i18n.local_time(r["deadline"], tz),
                r["days_overdue"],
                i18n.escalation_words(r["escalation_level"], lang),
                shown_number(r.get("number"), r["hazard_id"]),
            ]
        )

    trend = wb.create_sheet(t("近30日趋势")[:31])
    trend.append([t("日期"), t("新增"), t("销号隐患"), t("在办")])
    for r in figures.get("trend", []):
        trend.append([r["date"], r["new"], r["closed"], r["open"]])
    # last, after the sheets older exports had
    own = figures.get("self_inspection")
    if own:
        sheet = wb.create_sheet(t("企业自查成效")[:31])
        head = [t(zh) for zh, _ in SELF_COLUMNS] + [t("企业自查完成率")]
        sheet.append([t("辖区"), t("自查场所数")] + head + [t("从未自报的场所")]
                     + [t("监管常查出而企业不自报")])  # fmt: skip
        for r in own.get("by_district", []):
            sheet.append([r["district_name"], r["sites"]] + [r[k] for _, k in SELF_COLUMNS]
                         + [_rate_text(r["rate"]), r["silent_sites"], r["flagged_sites"]])  # fmt: skip
        sheet.append([])
        sheet.append([t("场所"), t("辖区")] + head + [t("从未自报"), t("监管常查出而企业不自报")])
        for r in own.get("sites", []):
            sheet.append(
                [r["site_name"], r["district_name"]] + [r[k] for _, k in SELF_COLUMNS]
                + [_rate_text(r["rate"]), t("是") if r["silent"] else "",
                   t("是") if r["flagged"] else ""]
            )  # fmt: skip

    return _save(wb)
