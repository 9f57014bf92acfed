"""Input types shared by every API schema: bounded, clean text and client UUIDs."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from shared.text import clean, text_problem


def _safe(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"text {problem}")
    return clean(value)


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a UUID") from None


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - reads as a type
    return Annotated[
        str, StringConstraints(max_length=max_length, min_length=min_length), AfterValidator(_safe)
    ]


Name = Text(200, 1)
ShortText = Text(200)
LongText = Text(4000)
UUIDStr = Annotated[str, StringConstraints(max_length=36), AfterValidator(_uuid)]
