"""Blob upload and download rules: hash, size and type checked; downloads scoped.

A hash grants nothing. A user may see and cite a blob when they sent its bytes (they are an
owner, ``BlobOwner``) or can already see it through a record in their scope: a hazard whose
link to it grants (``HazardPhoto.waiting_for`` null) or an inspection whose inspector owns it.
Citing anything else (an unknown hash or someone else's, told apart by nobody) links it
waiting for the citer's own bytes; where the bytes are required at once (evidence,
signatures) it is refused as ``photo_pending``, exactly as for a file not yet uploaded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, cast, or_, update
from sqlmodel import Session, col, select

from server.blobs.store import MAX_BLOB_BYTES, BlobStore, digest, sniff_mime
from server.context import Caller
from server.hazards.models import Attachment, BlobOwner, Hazard, HazardPhoto
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
            fields={"sha256": "must be 64 lowercase hex characters"},
        )


def put_blob(
    session: Session, store: BlobStore, caller: Caller, sha256: str, data: bytes, now: datetime
) -> Attachment:
    _check_name(sha256)
    if len(data) > MAX_BLOB_BYTES:
        raise DomainError.of("too_large", "文件过大（最大20MB）", "file too large (max 20 MB)")
    if digest(data) != sha256:
        raise DomainError.of(
            "hash_mismatch",
            "文件内容与编号不符，请重新上传",
            "content does not match its SHA-256; upload again",
            fields={"sha256": "content hash differs"},
        )
    mime = sniff_mime(data[:16])
    if mime is None:
        raise DomainError.of(
            "unsupported_type",
            "只接受PNG、JPEG或WebP图片",
            "only PNG, JPEG or WebP images are accepted",
        )
    if not store.has(sha256):
        store.put(sha256, data)
    att = _received(session, caller, sha256, mime, len(data), now)
    log.info("blob stored", extra={"sha256": sha256, "bytes": len(data), "user_id": caller.user.id})
    return att


def _received(
    session: Session, caller: Caller, sha256: str, mime: str, size: int, now: datetime
) -> Attachment:
    """The bytes are on disk under their name: record the file complete and its sender as an
    owner (which grants the links waiting for them), in one unit."""
    att = session.get(Attachment, sha256)
    if att is None:
        att = Attachment(sha256=sha256, created_at=now, uploaded_by=caller.user.id)
    att.mime, att.size, att.received, att.complete = mime, size, size, True
    session.add(att)
    add_owner(session, sha256, caller.user.id, now)
    session.flush()
    return att


def add_owner(session: Session, sha256: str, user_id: str, now: datetime) -> None:
    """``user_id`` sent the bytes: they own the blob, and their links waiting for it grant.
    The edge commits."""
    if session.get(BlobOwner, (sha256, user_id)) is None:
        session.add(BlobOwner(sha256=sha256, user_id=user_id, created_at=now))
    session.execute(
        update(HazardPhoto)
        .where(col(HazardPhoto.sha256) == sha256, col(HazardPhoto.waiting_for) == user_id)
        .values(waiting_for=None)
    )


def _owns(session: Session, user_id: str, sha256: str) -> bool:
    return session.get(BlobOwner, (sha256, user_id)) is not None


def _cited_by_hazard(session: Session, caller: Caller, sha256: str) -> bool:
    return (
        session.exec(
            select(HazardPhoto.hazard_id)
            .join(Hazard, col(Hazard.id) == HazardPhoto.hazard_id)
            .where(HazardPhoto.sha256 == sha256, col(HazardPhoto.waiting_for).is_(None))
            .where(scope_filter(caller.scope, Hazard.district_id, Hazard.site_id))
            .limit(1)
        ).first()
        is not None
    )


def _cited_by_inspection(session: Session, caller: Caller, sha256: str) -> bool:
    """Photos and signatures of an inspection in scope whose inspector owns them (an
    inspection's citation proves nothing by itself). The JSON text match only narrows the
    rows (both databases can do it); ``inspection_blobs`` decides."""
    owners = select(BlobOwner.user_id).where(BlobOwner.sha256 == sha256)
    rows = session.exec(
        select(Inspection.photos, Inspection.signatures)
        .where(scope_filter(caller.scope, Inspection.district_id, Inspection.site_id))
        .where(col(Inspection.inspector_id).in_(owners))
        .where(
            or_(
                cast(Inspection.photos, Text).contains(sha256),
                cast(Inspection.signatures, Text).contains(sha256),
            )
        )
    )
    return any(sha256 in inspection_blobs(photos, sigs) for photos, sigs in rows)


def held_for(session: Session, caller: Caller, sha256: str) -> Attachment | None:
    """The finished file if ``caller`` may see and cite it, else None: whether it is unknown,
    unfinished or someone else's is nobody's business but its owners'."""
    att = session.get(Attachment, sha256)
    if att is None or not att.complete:
        return None
    if caller.scope.everything or _owns(session, caller.user.id, sha256):
        return att
    if _cited_by_hazard(session, caller, sha256) or _cited_by_inspection(session, caller, sha256):
        return att
    return None


def not_held_for(session: Session, caller: Caller | None, wanted: Sequence[str]) -> list[str]:
    """The files of ``wanted`` the caller cannot use yet (in order): what they must upload.
    Without a caller (the system, the demo loader) only unfinished files count."""
    if caller is None:
        held = set(
            session.exec(
                select(Attachment.sha256).where(
                    col(Attachment.sha256).in_(list(wanted)), Attachment.complete.is_(True)
                )
            ).all()
        )
        return [h for h in wanted if h not in held]
    return [h for h in wanted if held_for(session, caller, h) is None]


def require_held(
    session: Session, caller: Caller | None, wanted: Sequence[str], field: str, zh: str, en: str
) -> None:
    """Refuse (``photo_pending``) until every file in ``wanted`` is fully on the server and
    the caller's to use, so no record is accepted with an image nobody can open, nor with one
    the caller only named; the sync push answers ``missing_blob`` and the device retries after
    uploading. An unknown hash and someone else's get the same answer. ``zh`` / ``en`` name
    the files."""
    if not wanted:
        return
    missing = not_held_for(session, caller, wanted)
    if missing:
        raise Refused(
            Refusal(
                "photo_pending",
                f"{zh}尚未上传完成（{len(missing)}张），上传后再提交",
                f"{len(missing)} {en} not yet uploaded; submit once they are",
                {field: "not yet uploaded: " + ", ".join(m[:12] for m in missing)},
            )
        )


def link_to_hazard(
    session: Session, caller: Caller | None, hazard_id: str, shas: Sequence[str]
) -> None:
    """Link the photos an event cites to its hazard. A photo the caller may use is linked
    (granting it to the hazard's scope, not copying it); any other link waits for the caller
    to send the bytes (``add_owner``). No caller: the system's own event, trusted."""
    for sha in dict.fromkeys(shas):
        usable = caller is None or held_for(session, caller, sha) is not None
        link = session.get(HazardPhoto, (hazard_id, sha))
        if link is None:
            waiting = None if usable else caller.user.id
            session.add(HazardPhoto(hazard_id=hazard_id, sha256=sha, waiting_for=waiting))
        elif usable and link.waiting_for is not None:
            link.waiting_for = None
            session.add(link)


def blob_visible(session: Session, caller: Caller, sha256: str) -> Attachment:
    _check_name(sha256)
    att = held_for(session, caller, sha256)
    if att is None:
        raise not_found("文件", "blob")
    return att


# ------------------------------------------------------------------ resumable upload


@dataclass(frozen=True)
class UploadState:
    """What the server holds of a file: ``offset`` bytes, of ``length`` if known."""

    offset: int
    length: int | None
    complete: bool


def upload_state(session: Session, store: BlobStore, caller: Caller, sha256: str) -> UploadState:
    """What the caller holds: a finished file they may use, or their own unfinished upload
    (with the size their op announced). Anything else is 404, so nobody learns of others'
    photos or uploads; they send the bytes themselves."""
    _check_name(sha256)
    att = held_for(session, caller, sha256)
    if att is not None:
        return UploadState(att.size, att.size, True)
    att = session.get(Attachment, sha256)
    announced = att is not None and not att.complete and att.uploaded_by == caller.user.id
    offset = store.partial_size(sha256, caller.user.id)
    if offset == 0 and not announced:
        raise not_found("文件", "blob")
    return UploadState(offset, att.size if announced and att.size else None, False)


def check_upload_length(length: int) -> None:
    if length <= 0 or length > MAX_BLOB_BYTES:
        raise DomainError.of(
            "too_large" if length > 0 else "invalid_input",
            "文件大小无效（最大20MB）",
            "invalid file size (1 byte to 20 MB)",
            fields={"Upload-Length": "1 to 20971520"},
        )


def finish_upload(
    session: Session, store: BlobStore, caller: Caller, sha256: str, now: datetime
) -> Attachment:
    """All bytes are in: check hash and type by content, then publish the file at once. A
    mismatch discards the partial file so the next attempt starts again from byte 0."""
    got, head = store.hash_partial(sha256, caller.user.id)
    if got != sha256:
        store.drop_partial(sha256, caller.user.id)
        log.warning("blob hash mismatch", extra={"sha256": sha256, "got": got})
        raise DomainError.of(
            "hash_mismatch",
            "文件内容与编号不符，请重新上传",
            "content does not match its SHA-256; upload again from the start",
            fields={"sha256": "content hash differs"},
        )
    mime = sniff_mime(head)
    if mime is None:
        store.drop_partial(sha256, caller.user.id)
        raise DomainError.of(
            "unsupported_type",
            "只接受PNG、JPEG或WebP图片",
            "only PNG, JPEG or WebP images are accepted",
        )
    size = store.partial_size(sha256, caller.user.id)
    store.promote(sha256, caller.user.id)
    att = _received(session, caller, sha256, mime, size, now)
    log.info("blob stored", extra={"sha256": sha256, "bytes": size, "user_id": caller.user.id})
    return att
