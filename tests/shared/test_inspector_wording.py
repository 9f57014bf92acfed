"""What inspectors are shown of a checklist carries none of the authors' editorial notes
("条号待原文核对", "to be confirmed against the text"), while the YAML keeps them for the
maintainers; the removal leaves sentences whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.checklist import _basis_text, load_all
from shared.text import for_inspectors

ROOT = Path(__file__).resolve().parents[2] / "checklists"
MARKS = ("待原文核对", "to be confirmed against the text", "from memory", "依据记忆")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("附录C（条号待原文核对）", "附录C"),
        ("演练频次依据第三十三条，条号待原文核对。", "演练频次依据第三十三条。"),
        ("防爆标志。本项号依据记忆，待原文核对。整改期间断电。", "防爆标志。整改期间断电。"),
        ("填最大偏差。允许偏差依据记忆，待原文核对；超装瓶须立即抽残。", "填最大偏差。超装瓶须立即抽残。"),
        ("Read the tags. Clause number to be confirmed against the text.", "Read the tags."),
        ("follows the measures (Art. 33); article number to be confirmed against the text.",
         "follows the measures (Art. 33)."),
        ("没有注记的文字不变。", "没有注记的文字不变。"),
    ],
)  # fmt: skip
def test_editorial_notes_are_removed_whole(raw: str, shown: str) -> None:
    assert for_inspectors(raw) == shown


def test_no_checklist_shows_an_editorial_note_to_inspectors() -> None:
    templates = load_all(ROOT)
    raw_marked = 0
    for template in templates.values():
        for item in template.items():
            texts = [item.guidance.zh, item.guidance.en, item.basis.clause]
            raw_marked += any("待原文核对" in t for t in texts)
            shown = [for_inspectors(t) for t in texts] + list(_basis_text(template, item.basis))
            for text in shown:
                assert not any(m in text for m in MARKS), (template.id, item.id, text)
    assert raw_marked > 10, "the YAML keeps the notes for the maintainers"
