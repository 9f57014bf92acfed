"""Blob housekeeping: bytes that no record cites, and uploads abandoned half-way, are removed
after ``blob_orphan_days`` (a device may upload a photo well before its op arrives)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from server.blobs.store import BlobStore
from server.blobs.thumbs import drop_thumbnail
from server.hazards.models import Attachment, BlobOwner, HazardPhoto
from server.inspections.models import Inspection, inspection_blobs
from server.jobs.registry import DailyAt, job
from server.settings import Settings
from server.uow import checkpoint

log = logging.getLogger("hazardchain.jobs")


def _cited_by_inspections(session: Session, candidates: set[str]) -> set[str]:
    cited: set[str] = set()
    rows = session.exec(select(Inspection.photos, Inspection.signatures)).yield_per(500)
    for photos, signatures in rows:
        cited.update(s for s in inspection_blobs(photos, signatures) if s in candidates)
    return cited


def gc_orphan_blobs(session: Session, store: BlobStore, now: datetime, *, days: int = 7) -> int:
    """Remove files older than ``days`` that no hazard or inspection cites; returns how many
    (finished files and abandoned partial uploads together)."""
    cutoff = now - timedelta(days=days)
    cited_by_hazard = select(HazardPhoto.sha256).where(HazardPhoto.sha256 == Attachment.sha256)
    orphans = session.exec(
        select(Attachment)
        .where(col(Attachment.created_at) < cutoff, ~cited_by_hazard.exists())
        .order_by(Attachment.sha256)
    ).all()
    by_sha = {a.sha256: a for a in orphans}
    cited = _cited_by_inspections(session, set(by_sha)) if by_sha else set()
    removed = 0
    for sha, att in by_sha.items():
        if sha in cited:
            continue
        store.remove(sha)
        store.drop_partials(sha)
        drop_thumbnail(store, sha)
        for owner in session.exec(select(BlobOwner).where(BlobOwner.sha256 == sha)).all():
            session.delete(owner)
        session.delete(att)
        removed += 1
    checkpoint(session)
    for path, sha, mtime in list(store.partials()):
        if mtime >= cutoff.timestamp():
            continue
        att = session.get(Attachment, sha)
        # unannounced, or finished by others meanwhile: nobody resumes it after so long
        if att is None or att.complete:
            path.unlink(missing_ok=True)
            removed += 1
    if removed:
        log.info("orphan blobs removed", extra={"count": removed, "days": days})
    return removed


@job("gc_blobs", DailyAt(at="03:30"))  # files no record cites: quiet hours
def gc_blobs(session: Session, now: datetime, settings: Settings | None = None) -> int:
    """The scheduled job: the server's own blob folder and orphan age."""
    settings = settings or Settings()
    store = BlobStore(settings.blob_dir)
    return gc_orphan_blobs(session, store, now, days=settings.blob_orphan_days)
