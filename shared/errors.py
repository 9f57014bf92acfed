"""Errors a user can read: a stable code plus Chinese and English text.

The server maps these to 4xx in one place; the app shows ``message(lang)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Refusal:
    """Why an action is not allowed; a value, so domain checks can return it without raising."""

    code: str
    zh: str
    en: str
    fields: dict[str, str] = field(default_factory=dict)

    def message(self, lang: str = "zh") -> str:
        return self.en if lang.startswith("en") else self.zh


class DomainError(Exception):
    """A refused action, raised from services; carries the refusal and an HTTP status hint."""

    def __init__(self, refusal: Refusal, status: int = 409) -> None:
        super().__init__(f"{refusal.code}: {refusal.en}")
        self.refusal = refusal
        self.status = status

    @classmethod
    def of(
        cls, code: str, zh: str, en: str, status: int = 409, fields: dict[str, str] | None = None
    ) -> DomainError:
        return cls(Refusal(code, zh, en, fields or {}), status)


def not_found(what_zh: str = "记录", what_en: str = "record") -> DomainError:
    """Out of scope and absent look the same, so a caller learns nothing about others' data."""
    return DomainError.of("not_found", f"{what_zh}不存在", f"{what_en} not found", status=404)
