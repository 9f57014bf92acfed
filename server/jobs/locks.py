"""One replica at a time per job: ``pg_try_advisory_xact_lock`` on PostgreSQL, nothing on SQLite.

The lock lives in a transaction on its *own* connection, held open while the job runs. The job's
session cannot hold it itself: jobs commit as they go (each chain event its own unit, batches at
checkpoints; ``server.uow``), and a transaction-scoped lock is released at the first commit. A held transaction still works under
PgBouncer transaction pooling (a session-level lock would not).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import Engine


def lock_key(name: str) -> int:
    """A stable signed 64-bit key per job name (advisory keys are bigint)."""
    digest = hashlib.sha256(f"hazardchain.job:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class JobLock(Protocol):
    def hold(self, name: str):
        """Context manager yielding True when this process may run the job now."""
        ...


class NoLock:
    """SQLite: one host, one writer; the data's dedupe keys are the only guard needed."""

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        yield True


class PgAdvisoryLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def hold(self, name: str) -> Iterator[bool]:
        with self.engine.connect() as conn, conn.begin():
            got = conn.execute(select(func.pg_try_advisory_xact_lock(lock_key(name)))).scalar()
            yield bool(got)
            # leaving the block commits, which releases the lock


def lock_for(engine: Engine) -> JobLock:
    return PgAdvisoryLock(engine) if engine.dialect.name == "postgresql" else NoLock()
