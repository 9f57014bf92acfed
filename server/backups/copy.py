"""Move a whole installation to another database (a SQLite pilot into production PostgreSQL):
every row as it is, sequences moved past the copied ids, the feed's positions and epoch kept,
so tablets carry on with the cursors they hold and never notice the move."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Integer, func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import server.models  # noqa: F401  (every table in the metadata)
from server.backups.manifest import refused
from server.migrate import head_revisions, upgrade

log = logging.getLogger("hazardchain.backups")
BATCH = 5000


@dataclass
class CopyReport:
    counts: dict[str, int]
    chains: int
    broken: list[str]


def copy_installation(
    source: Engine,
    target: Engine,
    target_url: str,
    *,
    verify: Callable[[Session], list] | None = None,
) -> CopyReport:
    """Refuses a source not at the code's head and a target holding any data."""
    heads = head_revisions()
    with source.connect() as conn:
        applied = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    if applied != heads:
        raise refused(
            "source_not_at_head",
            "源数据库不是最新版本：请先运行 hazardchain db upgrade",
            f"the source database is at {sorted(applied)}, not {sorted(heads)}: upgrade it first",
        )
    _refuse_non_empty(target)
    upgrade(target_url)
    tables = SQLModel.metadata.sorted_tables
    with target.begin() as dst:
        for table in reversed(tables):  # rows the migrations seeded (the feed clock) go first
            dst.execute(table.delete())
        counts = {}
        with source.connect() as src:
            for table in tables:
                counts[table.name] = _copy_table(src, dst, table)
        if target.dialect.name == "postgresql":
            _advance_sequences(dst, tables)
    target_counts = _counts(target, tables)
    differ = {t: (n, target_counts[t]) for t, n in counts.items() if target_counts[t] != n}
    if differ:
        raise refused(
            "copy_incomplete", "复制后行数不一致", f"row counts differ after copy: {differ}"
        )
    broken: list = []
    if verify is not None:
        with Session(target) as session:
            broken = verify(session)
    log.info("installation copied", extra={"rows": sum(counts.values()), "tables": len(counts)})
    return CopyReport(counts, counts.get("hazard", 0), [str(b[0]) for b in broken])


# what ``hazardchain db upgrade`` alone writes: a target holding only these is still empty
SET_UP_ROWS = {"sync_clock", "sync_change", "checklist_template", "heartbeat"}


def _refuse_non_empty(target: Engine) -> None:
    names = set(inspect(target).get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name in names and table.name not in SET_UP_ROWS:
            with target.connect() as conn:
                if conn.execute(select(func.count()).select_from(table)).scalar_one():
                    raise refused(
                        "target_not_empty",
                        f"目标数据库已有数据（{table.name}），拒绝覆盖",
                        f"the target database already holds data ({table.name}); "
                        "copy into an empty database",
                    )


def _copy_table(src, dst, table) -> int:
    """Core rows in batches: the column types convert (times, JSON) as the models define."""
    copied = 0
    result = src.execution_options(stream_results=True).execute(select(table))
    while rows := result.fetchmany(BATCH):
        dst.execute(table.insert(), [dict(r._mapping) for r in rows])
        copied += len(rows)
    return copied


def _advance_sequences(dst, tables) -> None:
    for table in tables:
        for col in table.primary_key.columns:
            if not isinstance(col.type, Integer):
                continue
            seq = dst.execute(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": col.name}
            ).scalar()
            if seq:
                dst.execute(
                    text(
                        f'SELECT setval(:s, coalesce((SELECT max("{col.name}") FROM '
                        f'"{table.name}"), 0) + 1, false)'
                    ),
                    {"s": seq},
                )


def _counts(engine: Engine, tables) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
        }
