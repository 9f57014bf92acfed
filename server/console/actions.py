"""From an action form to the hazard service's event payload.

The forms name the same fields the chain's events do; this module only converts what a form
can carry (a local date, a file) into the payload, and adds the one check that belongs to the
console: before a verification the officer confirms having looked at every rectification
photo, and every photo must be held by the server (the evidence check). The rules themselves
(who may, in which state, what is required) stay in ``shared.chain.decide``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select
from starlette.datastructures import FormData, UploadFile

from server.blobs import service as blobs
from server.blobs.store import MAX_BLOB_BYTES, BlobStore, digest
from server.context import Caller
from server.hazards.models import Attachment, HazardPhoto
from server.jobs.days import day_start
from shared.chain import HazardView
from shared.clock import to_iso
from shared.errors import DomainError
from shared.events import TRANSITIONS, USER_EVENTS, spec_of

# Every event a user appends has its form; its fields come from the event's spec.
CONSOLE_ACTIONS = tuple(et for et in TRANSITIONS if et in USER_EVENTS)


def file_field(event_type: str) -> str | None:
    """The form's photo upload field for this action, if it has one."""
    spec = spec_of(event_type)
    return spec.photo_field if spec else None


def _invalid(field: str, zh: str, en: str) -> DomainError:
    return DomainError.of("invalid_input", zh, en, fields={field: en})


def end_of_local_day(value: str, tz: str, field: str) -> str:
    """A date picked in the form means the end of that local day (23:59)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _invalid(field, "日期格式无效", "not a valid date") from None
    return to_iso(day_start(day + timedelta(days=1), tz) - timedelta(minutes=1))


def _text(form: FormData, key: str) -> str | None:
    value = form.get(key)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


async def read_upload(upload: UploadFile) -> bytes:
    data = await upload.read(MAX_BLOB_BYTES + 1)
    if len(data) > MAX_BLOB_BYTES:
        raise DomainError.of("too_large", "文件过大（最大20MB）", "file too large (max 20 MB)")
    return data


def store_photos(
    session: Session, store: BlobStore, caller: Caller, files: list[bytes], now: datetime
) -> list[str]:
    """Put each photo through the blob service (type, size and hash checked there)."""
    out = []
    for data in files:
        sha = digest(data)
        blobs.put_blob(session, store, caller, sha, data, now)
        out.append(sha)
    return out


def payload_from_form(
    event_type: str, form: FormData, tz: str, photos: list[str] | None = None
) -> dict[str, Any]:
    """The payload the spec's form fields carry: text as typed (trimmed), a day as the end of
    that local day, a level as a number, uploaded photos as their digests."""
    spec = spec_of(event_type)
    payload: dict[str, Any] = {}
    for f in spec.form_fields if spec else ():
        if f.kind == "photos":
            payload[f.key] = photos or []
            continue
        value = _text(form, f.key)
        if value is None:
            continue
        if f.kind == "date":
            payload[f.key] = end_of_local_day(value, tz, f.key)
        elif f.kind == "level":
            try:
                payload[f.key] = int(value)
            except ValueError:
                raise _invalid(f.key, "督办级别无效", "invalid level") from None
        else:
            payload[f.key] = value
    return payload


def evidence_receipts(
    session: Session, shas: list[str], hazard_id: str | None = None
) -> dict[str, Attachment]:
    """The server's receipt (size, time, complete) for each photo it knows. With a hazard:
    none for a photo whose link still waits for its citer's bytes (someone else's file must
    not show as this hazard's, nor reveal that it exists)."""
    if not shas:
        return {}
    rows = session.exec(select(Attachment).where(col(Attachment.sha256).in_(shas))).all()
    waiting: set[str] = set()
    if hazard_id is not None:
        waiting = set(
            session.exec(
                select(HazardPhoto.sha256).where(
                    HazardPhoto.hazard_id == hazard_id, col(HazardPhoto.waiting_for).is_not(None)
                )
            ).all()
        )
    return {a.sha256: a for a in rows if a.sha256 not in waiting}


def check_evidence(session: Session, view: HazardView, form: FormData) -> None:
    """Before verifying: every rectification photo is on the server, and the officer says they
    looked at them."""
    receipts = evidence_receipts(session, view.evidence)
    missing = [s for s in view.evidence if s not in receipts or not receipts[s].complete]
    if missing:
        raise DomainError.of(
            "photo_pending",
            "有整改照片尚未上传到服务器，不能复查通过",
            "some rectification photos are not on the server yet; the hazard cannot be verified",
            fields={"evidence": ", ".join(m[:12] for m in missing)},
        )
    if form.get("evidence_checked") != "yes":
        raise DomainError.of(
            "evidence_unchecked",
            "请先核对整改照片并勾选确认",
            "check the rectification photos and tick the confirmation first",
            fields={"evidence_checked": "tick to confirm the photos were checked"},
        )
