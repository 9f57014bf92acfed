"""Translations: gettext ``.po`` files compiled in memory at start-up (no system msgfmt).

msgids are English sentences; ``zh_CN`` is the default language and ``en`` is switchable. The
``.po`` files are the source of truth; ``compile_mo`` is a small msgfmt so a fresh tablet
needs nothing but Python to load them.
"""

from __future__ import annotations

import ast
import gettext
import io
import struct
from functools import cache
from pathlib import Path

DOMAIN = "hazardchain"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
HERE = Path(__file__).resolve().parent


def po_path(lang: str) -> Path:
    return HERE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def parse_po(text: str) -> dict[str, str]:
    """msgid → msgstr for one ``.po`` file (no plurals or contexts: the app uses neither)."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    target: list[str] | None = None

    def flush() -> None:
        if msgid is not None and msgstr is not None:
            entries["".join(msgid)] = "".join(msgstr)

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr = [ast.literal_eval(line[6:])], None
            target = msgid
        elif line.startswith("msgstr "):
            msgstr = [ast.literal_eval(line[7:])]
            target = msgstr
        elif line.startswith('"') and target is not None:
            target.append(ast.literal_eval(line))
    flush()
    return entries


def compile_mo(entries: dict[str, str]) -> bytes:
    """GNU ``.mo`` bytes for ``entries`` (what ``msgfmt`` writes), readable by ``gettext``."""
    keys = sorted(entries)
    ids = b""
    strs = b""
    offsets = []
    for k in keys:
        kb, vb = k.encode("utf-8"), entries[k].encode("utf-8")
        offsets.append((len(ids), len(kb), len(strs), len(vb)))
        ids += kb + b"\0"
        strs += vb + b"\0"
    n = len(keys)
    key_table = 7 * 4
    value_table = key_table + n * 8
    ids_start = value_table + n * 8
    strs_start = ids_start + len(ids)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + ids_start]
        voffsets += [l2, o2 + strs_start]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, key_table, value_table, 0, 0)
    return header + struct.pack(f"{4 * n}i", *koffsets, *voffsets) + ids + strs


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``lang`` (cached); unknown languages fall back to msgids."""
    path = po_path(lang)
    if not path.exists():
        return gettext.NullTranslations()
    entries = parse_po(path.read_text(encoding="utf-8"))
    # untranslated entries fall back to the msgid; the "" header carries the charset
    entries = {k: v for k, v in entries.items() if v}
    return gettext.GNUTranslations(io.BytesIO(compile_mo(entries)))


class Translator:
    """``t("Sites")`` in the current language; ``lang`` switches at run time."""

    def __init__(self, lang: str = DEFAULT_LANGUAGE) -> None:
        self.lang = lang

    @property
    def short(self) -> str:
        """``zh`` or ``en``: the key the shared vocabularies (``shared/``) use."""
        return "en" if self.lang.startswith("en") else "zh"

    def __call__(self, msgid: str) -> str:
        return translations(self.lang).gettext(msgid)

    def pick(self, pair: tuple[str, str] | list[str]) -> str:
        """Choose from a ``(zh, en)`` pair as ``shared/`` stores names."""
        return pair[1] if self.short == "en" else pair[0]
