"""Input types shared by every API schema: bounded, clean text, client UUIDs, page offsets and
partial updates."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from shared.sync_wire import UUIDStr  # noqa: F401 - one definition, the API re-exports it
from shared.text import clean, text_problem


def _safe(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"text {problem}")
    return clean(value)


def Text(max_length: int, min_length: int = 0):  # noqa: N802 - reads as a type
    return Annotated[
        str, StringConstraints(max_length=max_length, min_length=min_length), AfterValidator(_safe)
    ]


Name = Text(200, 1)
ShortText = Text(200)
LongText = Text(4000)


# deeper pages are found by filtering; PostgreSQL's OFFSET is a bigint, and an unbounded one
# overflowed it into a 500
MAX_OFFSET = 1_000_000
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]


def _null_only_where_allowed(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """The documented schema says what ``Patch`` accepts: no ``null`` outside ``nullable``."""
    nullable = getattr(model, "nullable", frozenset())
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf")
        if name in nullable or not options:
            continue
        kept = [o for o in options if o.get("type") != "null"]
        del prop["anyOf"]
        prop.pop("default", None)
        if len(kept) == 1:
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept


class Patch(BaseModel):
    """A partial update: a field left out stays as it is. ``null`` is refused (422 naming the
    field) except where it means "clear it" (``nullable``): elsewhere it would write NULL into
    a required column or a role of ``"None"``."""

    model_config = ConfigDict(json_schema_extra=_null_only_where_allowed)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable:
            raise ValueError("may be left out, but not null")
        return value
