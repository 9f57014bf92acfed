"""An external witness by webhook: every checkpoint signed while ``HAZARDCHAIN_LOG_WEBHOOK_URL``
is set is POSTed there as JSON (the signed note verbatim, and its parts), oldest first.

A checkpoint is marked ``pending`` when it is signed and ``sent`` once the receiver answered
2xx. Each ``log_checkpoint`` run first commits what it signed, then posts outside any write
transaction (a slow receiver never holds the database's locks), one checkpoint at a time, each
outcome committed at once. The first failure ends the run's deliveries and leaves that
checkpoint and the later ones pending for the next run: nothing is lost, the order is kept,
and the job itself does not fail. Delivery is at least once (a crash between a POST and its
bookkeeping posts again); the receiver drops repeats by ``size`` and ``root``."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
from sqlmodel import Session, col, select

from server.settings import Settings
from server.tlog.models import Checkpoint
from server.uow import checkpoint as commit_batch

logger = logging.getLogger("hazardchain.tlog")
SECRET_HEADER = "X-HazardChain-Log-Secret"
TIMEOUT = 10.0
BATCH = 50  # checkpoints posted per run at most (a receiver back after days catches up)


def payload(row: Checkpoint, origin: str) -> dict[str, Any]:
    """What the receiver keeps: the note is the evidence (``hazardchain log verify
    --checkpoint``), the rest is for its convenience."""
    return {
        "origin": origin,
        "size": row.size,
        "root": row.root,
        "time": row.at.isoformat(),
        "reason": row.reason,
        "note": row.note,
    }


def push_pending(
    session: Session, now: datetime, settings: Settings, *, timeout: float = TIMEOUT
) -> dict[str, int]:
    """Post the pending checkpoints in signing order; ``{"pushed", "pending"}``."""
    url = settings.log_webhook_url
    if not url:
        return {"pushed": 0, "pending": 0}
    commit_batch(session)  # what this run signed is kept before any network call
    due = session.exec(
        select(Checkpoint)
        .where(Checkpoint.webhook_state == "pending")
        .order_by(col(Checkpoint.id))
        .limit(BATCH)
    ).all()
    headers = {"Content-Type": "application/json"}
    if settings.log_webhook_secret:
        headers[SECRET_HEADER] = settings.log_webhook_secret
    pushed = 0
    for row in due:
        row.webhook_attempts += 1
        try:
            r = httpx.post(
                url, json=payload(row, settings.log_origin), headers=headers, timeout=timeout
            )
            r.raise_for_status()
        except httpx.HTTPError as exc:
            row.webhook_error = f"{type(exc).__name__}: {exc}"[:1000]
            session.add(row)
            commit_batch(session)
            logger.warning(
                "checkpoint not delivered to the webhook; retried at the next run",
                extra={
                    "size": row.size,
                    "root": row.root,
                    "attempts": row.webhook_attempts,
                    "error": row.webhook_error,
                },
            )
            break
        row.webhook_state, row.webhook_error = "sent", None
        session.add(row)
        commit_batch(session)
        pushed += 1
        logger.info(
            "checkpoint delivered to the webhook",
            extra={"size": row.size, "root": row.root, "attempts": row.webhook_attempts},
        )
    left = len(
        session.exec(select(Checkpoint.id).where(Checkpoint.webhook_state == "pending")).all()
    )
    return {"pushed": pushed, "pending": left}
