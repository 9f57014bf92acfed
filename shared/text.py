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
