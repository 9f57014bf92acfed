"""Text that is safe to store on both databases and show on every screen."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls except tab and newlines; PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_problem(value: str) -> str | None:
    """Why this text cannot be stored, in English, or None when it is fine."""
    if _CONTROL.search(value):
        return "contains control characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (lone surrogate)"
    return None


def clean(value: str) -> str:
    """NFC-normalise and strip, so the same words compare and hash the same everywhere."""
    return unicodedata.normalize("NFC", value).strip()


# Latin tokens a Chinese text may carry: standard codes, units and chemical formulas are written
# so in Chinese too; anything else is English left inside Chinese text.
LATIN_ALLOWED: frozenset[str] = frozenset(
    {
        *("GB", "GB/T", "GBZ", "AQ", "AQ/T", "GA", "GA/T", "TSG", "JGJ", "CJJ", "SH", "HG", "NB"),
        *("mm", "cm", "m", "km", "m2", "m3", "m/s", "s", "min", "h", "kg", "t", "L"),
        *("Pa", "kPa", "MPa", "V", "kV", "kW", "A", "mA", "ppm", "LEL", "mg/m3", "mg/m", "mg"),
        *("CO", "CO2", "NO2", "SO2", "H2S", "NH3", "O2", "CH4", "N2"),
        # grades: fire performance (A, B1, B2), dangerous-building rating (C, D)
        *("B1", "B2", "C", "D"),
    }
)
_LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9/]*")


def latin_words(text: str) -> list[str]:
    """Latin tokens in Chinese text outside LATIN_ALLOWED (empty list = none left in)."""
    return [w for w in _LATIN_TOKEN.findall(text) if w not in LATIN_ALLOWED]


# Notes the checklist authors left for themselves ("条号待原文核对": the clause number still to be
# checked against the standard's text; "条号待核对" likewise; "依据记忆": cited from memory). They stay in the YAML for
# the maintainers (and checklists/COVERAGE.md); an inspector on site is shown the text without
# them: a parenthesis holding one goes, a clause (between commas) or sentence holding one goes.
_NOTE_MARKS = (
    "原文核对",
    "待核对",
    "依据记忆",
    "to be confirmed against the text",
    "confirm against the",
    "from memory",
)
_NOTE_PAREN = re.compile(r"[（(][^（）()]*(?:原文核对|待核对|依据记忆)[^（）()]*[）)]")


def _has_note(text: str) -> bool:
    return any(m in text for m in _NOTE_MARKS)


def _sentences(text: str) -> list[str]:
    if re.search(r"[\u4e00-\u9fff]", text):
        return [x for x in re.findall(r"[^。；]*[。；]?", text) if x]
    return [x for x in re.split(r"(?<=[.;])\s+(?=[A-Z])", text) if x]


def _without_notes(sentence: str) -> str:
    if not _has_note(sentence):
        return sentence
    end = sentence[-1] if sentence[-1:] in "。；.;" else ""
    body = sentence[: -1 if end else None]
    sep = "，" if "，" in body else "; " if "; " in body else ", " if "，" not in body else "，"
    kept = [part for part in body.split(sep) if part.strip() and not _has_note(part)]
    if not kept:
        return ""
    return sep.join(kept) + ("。" if end == "；" else "." if end == ";" else end)


def for_inspectors(text: str) -> str:
    """``text`` without the authors' editorial notes (what an inspector is shown)."""
    if not _has_note(text):
        return text
    text = _NOTE_PAREN.sub("", text)
    parts = [_without_notes(x) for x in _sentences(text)]
    joiner = "" if re.search(r"[\u4e00-\u9fff]", text) else " "
    return joiner.join(p.strip() for p in parts if p.strip()).strip()


def json_text_problem(value: object) -> str | None:
    """``text_problem`` for every key and string inside a JSON value (a free-form detail)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None
