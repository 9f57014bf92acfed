"""Find every msgid the app uses: ``t("…")`` / ``app.t('…')`` calls in ``.py`` and ``.kv``
files, plus ``N_("…")`` markers for texts translated later from a table (a small xgettext)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

APP_ROOT = Path(__file__).resolve().parent.parent
CALL = re.compile(r"""(?<![A-Za-z0-9_])(?:t|N_)\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    """Marks a msgid for extraction; returns it untranslated."""
    return msgid


def used_msgids(root: Path = APP_ROOT) -> dict[str, list[str]]:
    """msgid → files that use it."""
    found: dict[str, list[str]] = {}
    for path in sorted([*root.rglob("*.py"), *root.rglob("*.kv")]):
        if {"core", "i18n"} & set(path.relative_to(root).parts):
            continue
        for m in CALL.finditer(path.read_text(encoding="utf-8")):
            msgid = ast.literal_eval(m.group(1))
            found.setdefault(msgid, []).append(str(path.relative_to(root)))
    return found
