"""Blob upload and download rules: hash, size and type checked; downloads scoped."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, or_
from sqlmodel import Session, col, select

from server.blobs.store import MAX_BLOB_BYTES, BlobStore, digest, sniff_mime
from server.context import Caller
from server.hazards.models import Attachment, Hazard, HazardPhoto
from server.inspections.models import Inspection, inspection_blobs
from server.scoping import scope_filter
from shared.chain import SHA256_RE, Refused
from shared.errors import DomainError, Refusal, not_found

log = logging.getLogger("hazardchain.blobs")


def _check_name(sha256: str) -> None:
    if not SHA256_RE.match(sha256):
        raise DomainError.of(
            "invalid_input",
            "文件编号必须是SHA-256",
            "blob id must be a SHA-256 hex digest",
            status=422,
            fields={"sha256": "must be 64 lowercase hex characters"},
        )


def put_blob(
    session: Session, store: BlobStore, caller: Caller, sha256: str, data: bytes, now: datetime
) -> Attachment:
    _check_name(sha256)
    if len(data) > MAX_BLOB_BYTES:
        raise DomainError.of(
            "too_large", "文件过大（最大20MB）", "file too large (max 20 MB)", status=413
        )
    if digest(data) != sha256:
        raise DomainError.of(
            "hash_mismatch",
            "文件内容与编号不符，请重新上传",
            "content does not match its SHA-256; upload again",
            status=422,
            fields={"sha256": "content hash differs"},
        )
    mime = sniff_mime(data[:16])
    if mime is None:
        raise DomainError.of(
            "unsupported_type",
            "只接受PNG、JPEG或WebP图片",
            "only PNG, JPEG or WebP images are accepted",
            status=415,
        )
    att = session.get(Attachment, sha256)
    if att is None:
        att = Attachment(sha256=sha256, created_at=now, uploaded_by=caller.user.id)
    if not store.has(sha256):
        store.put(sha256, data)
    att.mime, att.size, att.received, att.complete = mime, len(data), len(data), True
    session.add(att)
    session.commit()
    log.info("blob stored", extra={"sha256": sha256, "bytes": len(data), "user_id": caller.user.id})
    return att


def require_held(session: Session, wanted: Sequence[str], field: str, zh: str, en: str) -> None:
    """Refuse (``photo_pending``) until every file in ``wanted`` is fully on the server, so no
    record is accepted with an image nobody can open; the sync push answers ``missing_blob``
    and the device retries after uploading. ``zh`` / ``en`` name the files."""
    if not wanted:
        return
    held = set(
        session.exec(
            select(Attachment.sha256).where(
                col(Attachment.sha256).in_(wanted), Attachment.complete.is_(True)
            )
        ).all()
    )
    missing = [h for h in wanted if h not in held]
    if missing:
        raise Refused(
            Refusal(
                "photo_pending",
                f"{zh}尚未上传完成（{len(missing)}张），上传后再提交",
                f"{len(missing)} {en} not yet uploaded; submit once they are",
                {field: "not yet uploaded: " + ", ".join(m[:12] for m in missing)},
            )
        )


def _cited_by_hazard(session: Session, caller: Caller, sha256: str) -> bool:
    return (
        session.exec(
            select(HazardPhoto.hazard_id)
            .join(Hazard, col(Hazard.id) == HazardPhoto.hazard_id)
            .where(HazardPhoto.sha256 == sha256)
            .where(scope_filter(caller.scope, Hazard.district_id, Hazard.site_id))
            .limit(1)
        ).first()
        is not None
    )


def _cited_by_inspection(session: Session, caller: Caller, sha256: str) -> bool:
    """Photos and signatures of an inspection in scope. The JSON text match only narrows the
    rows (both databases can do it); ``inspection_blobs`` decides."""
    rows = session.exec(
        select(Inspection.photos, Inspection.signatures)
        .where(scope_filter(caller.scope, Inspection.district_id, Inspection.site_id))
        .where(
            or_(
                cast(Inspection.photos, Text).contains(sha256),
                cast(Inspection.signatures, Text).contains(sha256),
            )
        )
    )
    return any(sha256 in inspection_blobs(photos, sigs) for photos, sigs in rows)


def blob_visible(session: Session, caller: Caller, sha256: str) -> Attachment:
    _check_name(sha256)
    att = session.get(Attachment, sha256)
    if att is None or not att.complete:
        raise not_found("文件", "blob")
    if att.uploaded_by == caller.user.id or caller.scope.everything:
        return att
    if _cited_by_hazard(session, caller, sha256) or _cited_by_inspection(session, caller, sha256):
        return att
    raise not_found("文件", "blob")


# ------------------------------------------------------------------ resumable upload


@dataclass(frozen=True)
class UploadState:
    """What the server holds of a file: ``offset`` bytes, of ``length`` if known."""

    offset: int
    length: int | None
    complete: bool


def upload_state(session: Session, store: BlobStore, caller: Caller, sha256: str) -> UploadState:
    """A finished file counts as held only for callers who may see it (so nobody learns of
    others' photos); anyone may resume an unfinished upload, which must still hash right."""
    _check_name(sha256)
    att = session.get(Attachment, sha256)
    if att is not None and att.complete:
        blob_visible(session, caller, sha256)
        return UploadState(att.size, att.size, True)
    offset = store.partial_size(sha256)
    if att is None and offset == 0:
        raise not_found("文件", "blob")
    return UploadState(offset, att.size if att is not None and att.size else None, False)


def check_upload_length(length: int) -> None:
    if length <= 0 or length > MAX_BLOB_BYTES:
        raise DomainError.of(
            "too_large" if length > 0 else "invalid_input",
            "文件大小无效（最大20MB）",
            "invalid file size (1 byte to 20 MB)",
            status=413 if length > 0 else 422,
            fields={"Upload-Length": "1 to 20971520"},
        )


def finish_upload(
    session: Session, store: BlobStore, caller: Caller, sha256: str, now: datetime
) -> Attachment:
    """All bytes are in: check hash and type by content, then publish the file at once. A
    mismatch discards the partial file so the next attempt starts again from byte 0."""
    got, head = store.hash_partial(sha256)
    if got != sha256:
        store.drop_partial(sha256)
        log.warning("blob hash mismatch", extra={"sha256": sha256, "got": got})
        raise DomainError.of(
            "hash_mismatch",
            "文件内容与编号不符，请重新上传",
            "content does not match its SHA-256; upload again from the start",
            status=422,
            fields={"sha256": "content hash differs"},
        )
    mime = sniff_mime(head)
    if mime is None:
        store.drop_partial(sha256)
        raise DomainError.of(
            "unsupported_type",
            "只接受PNG、JPEG或WebP图片",
            "only PNG, JPEG or WebP images are accepted",
            status=415,
        )
    size = store.partial_size(sha256)
    store.promote(sha256)
    att = session.get(Attachment, sha256)
    if att is None:
        att = Attachment(sha256=sha256, created_at=now, uploaded_by=caller.user.id)
    att.mime, att.size, att.received, att.complete = mime, size, size, True
    session.add(att)
    session.commit()
    log.info("blob stored", extra={"sha256": sha256, "bytes": size, "user_id": caller.user.id})
    return att
