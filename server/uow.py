"""The unit of work: the one place that commits, rolls back and retries (docs/architecture.md).

Services only add and flush; the edge that called them decides when the work is done: the
request (``server.api.deps.UnitOfWorkRoute``), each op of a sync push, the job runner, the CLI
and the demo loader. An all-or-nothing step inside a unit is a SAVEPOINT
(``session.begin_nested()``), the way ``sqlite_utils.Database.atomic()`` nests.

A unit that collides with a concurrent writer (a unique key taken meanwhile, a lock or
serialisation failure) is rolled back and run again from the start: its reads then see the
winner's rows, so the retry becomes an idempotent replay or a clean refusal.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from shared.chain import Refused
from shared.errors import DomainError

log = logging.getLogger("hazardchain.uow")

T = TypeVar("T")
# Enough for a burst of writers on one SQLite file (a stale read snapshot fails at once, not
# after the busy timeout) on a loaded machine: 6 let one report in a race of four fail now and
# then. The full-jitter backoff doubles up to a second.
RETRIES = 10


def backoff(attempt: int) -> float:
    """Seconds to wait before attempt ``attempt + 1``."""
    return random.uniform(0, min(1.0, 0.02 * 2**attempt))


class Collision(Exception):
    """A concurrent writer got there first (a chain's head moved under a compare-and-swap):
    the unit is rolled back and run again, and its reads then see the winner's write."""


RETRYABLE = (IntegrityError, OperationalError, Collision)
_KEEP = "hazardchain.keep_on_refusal"


def keep_on_refusal(session: Session) -> None:
    """What this unit has written so far stands even if it ends in a refusal: a failed login's
    audit row, a refresh token family revoked on reuse, a proof spent by a refused refresh."""
    session.info[_KEEP] = True


def end_unit(session: Session, exc: BaseException | None) -> None:
    """Commit, or roll back after an error (unless the unit keeps its refusal's trace)."""
    keep = session.info.pop(_KEEP, False)
    if exc is None or (keep and isinstance(exc, DomainError | Refused)):
        session.commit()
    else:
        session.rollback()


def run_unit(session: Session, work: Callable[[], T], *, retries: int = 1, what: str = "") -> T:
    """Run ``work`` as one unit on ``session``: commit on success, roll back on error, and run it
    again (up to ``retries`` times) when it collides with a concurrent writer.

    An edge that runs several units on one session (a push op by op, a job event by event) calls
    this for each; ``work`` must start from what it reads, since a retry starts from scratch.
    """
    for attempt in range(retries):
        try:
            result = work()
        except RETRYABLE as exc:
            session.info.pop(_KEEP, None)
            session.rollback()
            if attempt == retries - 1:
                raise
            log.info(
                "unit retry",
                extra={"what": what, "attempt": attempt + 1, "error": type(exc).__name__},
            )
            time.sleep(backoff(attempt))
            continue
        except BaseException as exc:
            end_unit(session, exc)
            raise
        try:
            end_unit(session, None)
        except RETRYABLE:
            session.rollback()
            if attempt == retries - 1:
                raise
            log.info("unit retry at commit", extra={"what": what, "attempt": attempt + 1})
            time.sleep(backoff(attempt))
            continue
        return result
    raise AssertionError("unreachable")


def retrying(engine: Engine, work: Callable[[Session], T], *, retries: int = RETRIES,
             what: str = "") -> T:  # fmt: skip
    """``work`` in a fresh session as one unit, retried on collisions (the job runner's edge)."""
    with Session(engine, expire_on_commit=False) as session:
        return run_unit(session, lambda: work(session), retries=retries, what=what)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session whose work commits when the block ends and rolls back if it raises (the CLI,
    the demo loader, tests). No retry: a ``with`` block cannot run twice; use ``retrying``."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException as exc:
            end_unit(session, exc)
            raise
        end_unit(session, None)


def checkpoint(session: Session) -> None:
    """A batch boundary inside a unit the edge owns (a long job): what is done so far is kept,
    so a crash or a retry redoes only the rest (jobs are idempotent in the data)."""
    session.commit()
