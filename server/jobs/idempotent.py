"""Insert a row once: ``INSERT … ON CONFLICT DO NOTHING`` on both databases, so a job that runs
twice, or on two replicas at once, adds each row exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def insert_once(
    session: Session, model: type[SQLModel], values: dict[str, Any], keys: Sequence[str]
) -> bool:
    """True when the row was inserted, False when a row with the same ``keys`` exists."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__
    stmt = (
        dialect.insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(table.c[keys[0]])  # rowcount is not reliable here on every driver
    )
    return session.execute(stmt).first() is not None


def insert_many_once(
    session: Session, model: type[SQLModel], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> set[Any]:
    """``insert_once`` for many rows in one statement: the ``keys[0]`` values of the rows that
    were inserted (the others existed already)."""
    if not rows:
        return set()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = model.__table__
    stmt = (
        dialect.insert(table)
        .values(list(rows))
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(table.c[keys[0]])
    )
    return set(session.execute(stmt).scalars())
