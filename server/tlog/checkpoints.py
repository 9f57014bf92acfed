"""Signing tree heads: ``log_checkpoint`` every few minutes when the log grew, and one at each
daily summary (the day's checkpoint the leader's 签阅 and the printed report carry)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from server.jobs.days import day_bounds
from server.jobs.registry import Every, job
from server.settings import Settings, get_settings
from server.tlog import log as tlog
from server.tlog.keys import signing_key
from server.tlog.models import Checkpoint
from shared import checkpoint as note
from shared.clock import to_iso

logger = logging.getLogger("hazardchain.tlog")


def day_checkpoint(session: Session, day: date, tz: str) -> Checkpoint | None:
    """The checkpoint that closes ``day``: the first signed at a daily summary after the day
    ended (else the first signed at all after it), so it holds every event of that day."""
    _, end = day_bounds(day, tz)
    after = select(Checkpoint).where(Checkpoint.at >= end).order_by(col(Checkpoint.id))
    daily = session.exec(after.where(Checkpoint.reason == "daily").limit(1)).first()
    return daily or session.exec(after.limit(1)).first()


def latest(session: Session) -> Checkpoint | None:
    return session.exec(select(Checkpoint).order_by(col(Checkpoint.id).desc()).limit(1)).first()


def sign_checkpoint(
    session: Session, now: datetime, settings: Settings, reason: str = "manual"
) -> Checkpoint:
    """Sign the log as it stands in this transaction (its size read under no lock: a leaf
    committed later is simply in the next checkpoint)."""
    conn = session.connection()
    size = tlog.log_size(conn)
    root = tlog.root_at(conn, size)
    cp = note.Checkpoint(settings.log_origin, size, root, to_iso(now))
    row = Checkpoint(
        size=size, root=root.hex(), at=now, reason=reason, note=note.sign(cp, signing_key(settings))
    )
    session.add(row)
    session.flush()
    logger.info("checkpoint signed", extra={"size": size, "root": root.hex(), "reason": reason})
    if settings.log_checkpoint_dir is not None:
        drop(Path(settings.log_checkpoint_dir), row)
    return row


def drop(folder: Path, row: Checkpoint) -> Path:
    """An external witness by file: the note lands in a folder someone else keeps (another
    host's share, a WORM bucket's mount). Written whole then renamed, so a reader never sees
    half a note; a folder that cannot be written is logged, never fails the signing."""
    stamp = row.at.strftime("%Y%m%dT%H%M%S%fZ")
    path = folder / f"checkpoint-{row.size:012d}-{stamp}.txt"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(row.note, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        logger.error("checkpoint not dropped", extra={"folder": str(folder), "error": str(exc)})
    return path


@job("log_checkpoint", Every("log_checkpoint_minutes"))
def log_checkpoint(
    session: Session, now: datetime, settings: Settings | None = None
) -> dict[str, Any]:
    """The scheduled job: a new checkpoint only when the log grew since the last one."""
    settings = settings or get_settings()
    last = latest(session)
    size = tlog.log_size(session.connection())
    if last is not None and last.size == size:
        return {"signed": False, "size": size}
    row = sign_checkpoint(session, now, settings, reason="interval")
    return {"signed": True, "size": row.size, "root": row.root}


def checkpoint_qr(note_text: str) -> str | None:
    """An inline SVG QR code of the signed note for the printed report: an auditor scans it
    and checks the database with ``hazardchain log verify --checkpoint``. None without
    ``segno``."""
    try:
        import segno
    except ImportError:  # pragma: no cover - segno is a dependency; the report stays usable
        return None
    return segno.make(note_text, error="m").svg_inline(scale=2, omitsize=False)
