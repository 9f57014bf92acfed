"""/readyz: can this replica do its work now? Each check is named with its reason when it
fails, so the operator reads the cause, not just a 503."""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.migrate import head_revisions
from server.monitoring.models import Heartbeat

SCHEDULER = "scheduler"


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


def beat(engine: Engine, now: datetime) -> None:
    """The scheduler says it is alive; a separate scheduler process says so to every replica.
    An upsert: several replicas' schedulers may beat at the same moment."""
    table = Heartbeat.__table__
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(
        name=SCHEDULER, at=now, host=socket.gethostname()[:128], pid=os.getpid()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name],
        set_={k: stmt.excluded[k] for k in ("at", "host", "pid")},
    )
    with engine.begin() as conn:
        conn.execute(stmt)


def readiness(engine: Engine, blob_dir: Path, now: datetime, stale_after: timedelta) -> list[Check]:
    checks = [_database(engine)]
    if checks[0].ok:
        checks += [_migrations(engine), _scheduler(engine, now, stale_after)]
    checks.append(_blobs(blob_dir))
    return checks


def _database(engine: Engine) -> Check:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means the same thing here: not reachable
        return Check("database", False, f"unreachable: {type(exc).__name__}: {exc}"[:300])
    return Check("database", True, engine.dialect.name)


def _migrations(engine: Engine) -> Check:
    try:
        with engine.connect() as conn:
            applied = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    except Exception as exc:
        return Check("migrations", False, f"no alembic_version: {type(exc).__name__}"[:300])
    wanted = head_revisions()
    if applied != wanted:
        missing = ", ".join(sorted(wanted - applied)) or "-"
        return Check("migrations", False, f"not at head: run hazardchain db upgrade ({missing})")
    return Check("migrations", True, ",".join(sorted(applied)))


def _scheduler(engine: Engine, now: datetime, stale_after: timedelta) -> Check:
    try:
        with Session(engine) as session:
            row = session.exec(select(Heartbeat).where(Heartbeat.name == SCHEDULER)).first()
    except Exception as exc:
        return Check(SCHEDULER, False, f"heartbeat unreadable: {type(exc).__name__}")
    row = row[0] if row is not None and not isinstance(row, Heartbeat) else row
    if row is None:
        return Check(
            SCHEDULER,
            False,
            "no scheduler has run: start serve with the scheduler on, or hazardchain scheduler",
        )
    age = now - row.at
    if age > stale_after:
        return Check(
            SCHEDULER,
            False,
            f"last heartbeat {int(age.total_seconds())} s ago from {row.host} pid {row.pid}",
        )
    return Check(SCHEDULER, True, f"{int(age.total_seconds())} s ago from {row.host}")


def _blobs(blob_dir: Path) -> Check:
    try:
        blob_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=blob_dir, prefix=".readyz-") as fh:
            fh.write(b"ok")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return Check("blobs", False, f"not writable: {exc.strerror or exc}"[:300])
    return Check("blobs", True, str(blob_dir))
