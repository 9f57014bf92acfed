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
