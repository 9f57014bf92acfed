"""Every word a template asks for has its English, and the English pages say so."""

from __future__ import annotations

import re
from pathlib import Path

from server.console import i18n, queue
from server.console.exports import KPI_ROWS

TEMPLATES = Path(i18n.__file__).parent / "templates"
CALL = re.compile(r"""\bt\((["'])(.+?)\1\)""")


def test_every_template_word_has_english():
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= {m.group(2) for m in CALL.finditer(path.read_text(encoding="utf-8"))}
    used |= set(queue.TAB_NAMES.values()) | {zh for zh, _ in KPI_ROWS}
    used |= {"按期销号率", "一般隐患整改率", "重大隐患整改率", "工作台", "风险日报", "一件事",
             "检查记录", "检查计划", "用户", "场所管理", "检查项完成率"}  # fmt: skip
    missing = sorted(w for w in used if w not in i18n.EN)
    assert not missing, f"add English for: {missing}"


def test_english_pages_have_no_untranslated_words(console):
    i18n.EN_MISSING.clear()
    en = console("officer", lang="en")
    for path in ("/console/queue", "/console/dashboard", "/console/matters/lpg", "/console/plans"):
        assert en.get(path).status_code == 200
    assert not i18n.EN_MISSING
