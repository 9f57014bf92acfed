"""Keyset (cursor) pages and sort keys, one style for every list: ``?limit=&cursor=&sort=``
answered with ``{items, next_cursor, total}``. A page continues after the last row's sort value
and id, so rows inserted meanwhile neither repeat nor vanish (an offset shifts under them).

A cursor names the sort it was made for; shown with another sort it is refused (422) rather
than silently starting somewhere else. A sort key the list does not offer is refused too, with
the keys it does."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from shared.clock import parse_iso
from shared.errors import DomainError


@dataclass(frozen=True)
class Sort:
    """One sort of a list: its public name (``-reported_at``: newest first) and column."""

    name: str
    column: Any
    desc: bool


def parse_sort(sort: str | None, keys: Mapping[str, Any], default: str) -> Sort:
    """``sort`` (``name`` ascending, ``-name`` descending) among ``keys`` (name → column); an
    unknown key is a field-level 422 listing the keys there are."""
    raw = (sort or default).strip()
    name = raw.removeprefix("-")
    if name not in keys:
        offered = ", ".join(sorted(keys))
        raise DomainError.of(
            "invalid_sort",
            f"不支持按“{name}”排序，可用：{offered}（加 - 为倒序）",
            f"unknown sort key {name!r}; use one of: {offered} (prefix - for descending)",
            fields={"sort": f"unknown sort key {name!r}; use one of: {offered}"},
        )
    return Sort(raw, keys[name], raw.startswith("-"))


def _invalid_cursor(exc: Exception | None = None) -> DomainError:
    return DomainError.of(
        "invalid_cursor",
        "分页游标无效",
        "invalid cursor",
        fields={"cursor": "invalid cursor"},
    )


def _encode_value(v: Any) -> list[Any]:
    if isinstance(v, datetime):
        return ["t", v.isoformat()]
    if isinstance(v, date):
        return ["d", v.isoformat()]
    return ["v", v]


def _decode_value(tagged: Sequence[Any]) -> Any:
    tag, v = tagged
    if tag == "t":
        return parse_iso(v)
    if tag == "d":
        return date.fromisoformat(v)
    if tag == "v" and (v is None or isinstance(v, str | int | float | bool)):
        return v
    raise ValueError("bad cursor value")


def encode_cursor(sort: Sort, value: Any, row_id: str) -> str:
    raw = json.dumps([sort.name, _encode_value(value), row_id], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, tagged, row_id = json.loads(raw)
        if name != sort.name or not isinstance(row_id, str):
            raise ValueError("cursor of another sort")
        return _decode_value(tagged), row_id
    except (ValueError, TypeError) as exc:
        raise _invalid_cursor(exc) from exc


def day_window(
    date_from: date | None, date_to: date | None, tz: str
) -> tuple[datetime | None, datetime | None]:
    """Local days ``date_from``..``date_to`` (both included, in the deployment's zone, as
    people name days) as a UTC ``[start, end)``."""
    from server.jobs.days import day_start

    return (
        day_start(date_from, tz) if date_from else None,
        day_start(date_to + timedelta(days=1), tz) if date_to else None,
    )


def in_window(
    q: Any,
    column: Any,
    start: datetime | None = None,
    end: datetime | None = None,
    since: datetime | None = None,
) -> Any:
    """``q`` narrowed to ``start <= column < end`` and, with ``since``, to after that instant
    (``updated_since``: what changed since a client last looked)."""
    c = col(column)
    if start:
        q = q.where(c >= start)
    if end:
        q = q.where(c < end)
    if since:
        q = q.where(c > since)
    return q


def check_window(date_from: date | None, date_to: date | None) -> None:
    """A range that ends before it starts is a mistake worth naming, not an empty list."""
    if date_from and date_to and date_to < date_from:
        raise DomainError.of(
            "invalid_input",
            "结束日期不能早于开始日期",
            "date_to is before date_from",
            fields={"date_to": "before date_from"},
        )


def like_pattern(text: str) -> str:
    """``text`` anywhere, its ``%``/``_`` literal (with ``escape="\\"``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def page(
    session: Session,
    q: Any,
    sort: Sort,
    id_column: Any,
    *,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
) -> tuple[list[Any], str | None, int]:
    """One page of ``q`` (a select of one entity) in ``sort`` order, ties broken by id: the
    rows, the cursor of the next page (None on the last) and the total. ``offset`` is the old
    paging, kept for a release for callers that still send it; a cursor wins."""
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    key, ident = col(sort.column), col(id_column)
    if cursor:
        value, last_id = decode_cursor(cursor, sort)
        if sort.desc:
            q = q.where(or_(key < value, (key == value) & (ident < last_id)))
        else:
            q = q.where(or_(key > value, (key == value) & (ident > last_id)))
        offset = 0
    order = (key.desc(), ident.desc()) if sort.desc else (key.asc(), ident.asc())
    rows = list(session.exec(q.order_by(*order).offset(offset).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = None
    if more and rows:
        last = rows[-1]
        nxt = encode_cursor(sort, getattr(last, sort.column.key), getattr(last, id_column.key))
    return rows, nxt, total
