"""The on-site inspection record (检查记录) as a printable page: the site, every failed item
with its legal basis and the inspector's notes, the hazards raised with their deadlines, and
the signatures (the signed images when the tablet collected them, else lines to sign on paper).

Findings are re-derived with ``shared.checklist.evaluate`` from the stored answers and the
pinned template version, the same function that raised the hazards, so the record cannot
disagree with them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from server.checklists.service import get_row, template_of
from server.context import Caller
from server.inspections import service as inspections
from server.sites.models import District, Site
from server.users.models import User
from shared.checklist import evaluate
from shared.completion import MARKS, completion


def _answer_text(item, answer: Any, lang: str = "zh") -> str:
    if answer is None:
        return ""
    if isinstance(answer, str) and answer in ("yes", "no", "na"):
        return {"yes": ("是", "Yes"), "no": ("否", "No"), "na": ("不适用", "N/A")}[answer][
            lang == "en"
        ]
    for choice in getattr(item, "choices", ()) or ():
        if choice.value == answer:
            return choice.en if lang == "en" else choice.zh
    unit = getattr(item, "unit", None) or ""
    return f"{answer}{(' ' + unit) if unit else ''}"


def inspection_record(session: Session, caller: Caller, inspection_id: str) -> dict[str, Any]:
    inspection = inspections.get_in_scope(session, caller, inspection_id)
    row = get_row(session, inspection.template_id, inspection.template_version)
    template = template_of(row)
    findings = evaluate(template, inspection.answers, inspection.profile)
    hazard_of = {f["item_id"]: f["hazard_id"] for f in inspection.findings}
    hazards = {h.id: h for h in inspections.hazards_of(session, inspection)}
    lines = []
    for f in findings:
        item = template.items_by_id.get(f.item_id) if f.kind == "item" else None
        if item is not None:
            text = (item.text.zh, item.text.en)
        else:
            rule = next(r for r in template.count_rules if r.id == f.item_id)
            text = (rule.title.zh, rule.title.en)
        hazard = hazards.get(hazard_of.get(f.item_id, ""))
        lines.append(
            {
                "item_id": f.item_id,
                "kind": f.kind,
                "text": text,
                "answer": (
                    _answer_text(item, inspection.answers.get(f.item_id)),
                    _answer_text(item, inspection.answers.get(f.item_id), "en"),
                )
                if item is not None
                else ("", ""),
                "description": (f.description_zh, f.description_en),
                "written": inspection.descriptions.get(f.item_id, ""),
                "note": inspection.item_notes.get(f.item_id, ""),
                "basis": (f.basis, f.basis_en),
                "severity": f.severity,
                "deadline_days": f.deadline_days,
                "hazard": hazard,
            }
        )
    failed = {f.item_id for f in findings}
    marks = {"na": ("不适用", "N/A"), "unchecked": ("未检查", "Not checked")}
    other_notes = [
        (
            (item.text.zh, item.text.en),
            inspection.item_notes.get(item.id, ""),
            marks.get(str(inspection.answers.get(item.id))),
        )
        for item in template.items()
        if item.id not in failed
        and (item.id in inspection.item_notes or inspection.answers.get(item.id) in MARKS)
    ]
    return {
        "inspection": inspection,
        "template": template,
        "site": session.get(Site, inspection.site_id),
        "district": session.get(District, inspection.district_id),
        "inspector": session.get(User, inspection.inspector_id),
        "lines": lines,
        "other_notes": other_notes,
        "completion": completion(
            template, inspection.answers, inspection.item_notes or {}, inspection.profile
        ),
    }
