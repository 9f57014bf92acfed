"""The rows a checklist shows, built from a template and a draft's answers (no Kivy, so the
benchmark and tests can use it alone).

A 1,000-item checklist becomes 1,000 small dicts handed to a RecycleView, which builds only
the widgets on screen; row heights are estimated from the text length instead of measured,
because measuring every label would cost as much as building them.
"""

from __future__ import annotations

import math
from typing import Any

from shared.checklist import NA, Item, Template

VIEW_FOR = {"yes_no": "YesNoRow", "number": "NumberRow", "choice": "ChoiceRow", "text": "TextRow"}
SECTION_HEIGHT = 52  # dp
ROW_MIN_HEIGHT = 128  # dp: two rows of 48 dp controls plus padding
LINE_HEIGHT = 1.45  # × font size


def pick(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def rule_text(item: Item, lang: str) -> str:
    """The pass rule as the inspector reads it, e.g. ``要求 < 1.0 %``."""
    if item.answer == "number" and item.pass_rule is not None:
        return pick(lang, "合格：", "Pass: ") + item.pass_rule.describe(item.unit or "")
    if item.answer == "yes_no" and item.pass_when:
        ok = {"yes": ("是", "Yes"), "no": ("否", "No")}[item.pass_when]
        return pick(lang, "合格：", "Pass: ") + pick(lang, *ok)
    if item.answer == "choice":
        ok = [pick(lang, c.zh, c.en) for c in item.choices if c.passes]
        return pick(lang, "合格：", "Pass: ") + " / ".join(ok)
    return pick(lang, "仅记录", "Record only")


def is_failed(item: Item, value: Any) -> bool:
    """Whether this answer fails the item (``na`` and unanswered never fail)."""
    if value is None or value == "" or value == NA:
        return False
    if item.answer == "yes_no":
        return value in ("yes", "no") and value != item.pass_when
    if item.answer == "number":
        try:
            x = float(value)
        except (TypeError, ValueError):
            return False
        return item.pass_rule is not None and not item.pass_rule.passes(x)
    if item.answer == "choice":
        chosen = next((c for c in item.choices if c.value == value), None)
        return chosen is not None and not chosen.passes
    return False


def text_lines(text: str, width_px: float, font_px: float) -> int:
    """Estimated wrapped line count: CJK glyphs are one em wide, Latin about half."""
    if width_px <= 0:
        return 1
    units = sum(1.0 if ord(ch) > 0x2E80 else 0.55 for ch in text)
    return max(1, math.ceil(units * font_px / width_px))


def row_height(
    text: str, width_px: float, font_px: float, density: float, stacked_px: float = 0
) -> float:
    """Pixels: the text block (number line + wrapped text + meta line) or the controls beside
    it; on a phone (``stacked_px``, the controls' height) the text block and the controls."""
    lines = text_lines(text, width_px, font_px)
    text_block = lines * font_px * LINE_HEIGHT + (28 + 24) * density
    if stacked_px:
        return text_block + stacked_px
    return max(ROW_MIN_HEIGHT * density, text_block)


def build_rows(
    template: Template,
    answers: dict[str, dict[str, Any]],
    profile: str | None,
    lang: str,
    text_width_px: float,
    font_px: float,
    density: float = 1.0,
    locked: bool = False,
    stacked_px: float = 0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows for the RecycleView, sections for the side panel with their first row index);
    ``stacked_px``: a phone's answer controls below each item's text (``row_height``)."""
    rows: list[dict[str, Any]] = []
    sections: list[dict[str, Any]] = []
    for s_no, section in enumerate(template.sections, start=1):
        items = [i for i in section.items if i.applies_to(profile)]
        if not items:
            continue
        title = pick(lang, section.title.zh, section.title.en)
        sections.append(
            {"id": section.id, "title": title, "row": len(rows), "item_ids": [i.id for i in items]}
        )
        rows.append(
            {
                "viewclass": "SectionRow",
                "title": title,
                "section_id": section.id,
                "height": SECTION_HEIGHT * density,
            }
        )
        for i_no, item in enumerate(items, start=1):
            a = answers.get(item.id) or {}
            value = a.get("value")
            text = pick(lang, item.text.zh, item.text.en)
            rows.append(
                {
                    "viewclass": VIEW_FOR[item.answer],
                    "item_id": item.id,
                    "number": f"{s_no}.{i_no}",
                    "text": text,
                    "severity": item.severity,
                    "rule": rule_text(item, lang),
                    "unit": item.unit or "",
                    "choices": [(c.value, pick(lang, c.zh, c.en)) for c in item.choices],
                    "value": "" if value is None else str(value),
                    "note": a.get("note") or "",
                    "photos": len(a.get("photos") or []),
                    "photo_required": item.photo_required,
                    "failed": is_failed(item, value),
                    "locked": locked,
                    "height": row_height(text, text_width_px, font_px, density, stacked_px),
                }
            )
    return rows, sections


def progress(
    template: Template, answers: dict[str, dict[str, Any]], item_ids: list[str]
) -> tuple[int, int, int]:
    """(answered, total, failed) over ``item_ids``; ``na`` counts as answered."""
    answered = failed = 0
    for item_id in item_ids:
        value = (answers.get(item_id) or {}).get("value")
        if value not in (None, ""):
            answered += 1
            if is_failed(template.item(item_id), value):
                failed += 1
    return answered, len(item_ids), failed
