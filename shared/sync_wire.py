"""The sync wire format, shared by the server and the tablet (docs/sync.md).

A device numbers every change it makes as an **op** (``device_seq``, gap-free per device) and
pushes them in order; the server answers each op with one result. Pulls return the changes
the user may see, in commit order, behind an opaque cursor.

Versions: ``schema_version`` is the wire format an app speaks (sent on every request; an app
older than ``MIN_SCHEMA_VERSION`` gets ``426 upgrade_required`` and keeps its outbox). Each op
also carries its own payload version ``v``, recorded when it was queued, so ops an old app
queued are still accepted after the app is upgraded, as long as ``v`` is in ``OP_VERSIONS``.
An op type's meaning is never changed in place: a new meaning gets a new type or a new ``v``.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.chain import USER_EVENTS, EventType, canonical_json
from shared.geo import GpsStamp

SCHEMA_VERSION = 1
MIN_SCHEMA_VERSION = 1
MAX_OPS_PER_PUSH = 500
MAX_PUSH_BYTES = 16 * 1024 * 1024  # decompressed
DEFAULT_PULL_LIMIT = 500
MAX_PULL_LIMIT = 1000
MAX_BLOB_BYTES = 20 * 1024 * 1024
PHOTO_MIMES = ("image/png", "image/jpeg", "image/webp")
# no op payload nests anywhere near this; deeper bodies are refused before Python's parser or
# anything that walks them recurses into a RecursionError
MAX_JSON_DEPTH = 32
# a header number longer than this is no byte offset (and int() of a huge one is slow)
MAX_HEADER_DIGITS = 19


def header_number(value: str | None) -> int | None:
    """A resumable upload's ``Upload-Offset``/``Upload-Length`` (server and tablet read them
    alike): ASCII digits only, since ``str.isdigit`` also passes ``²``, which ``int`` refuses.
    None when absent or malformed."""
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > MAX_HEADER_DIGITS:
        return None
    return int(value)


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when lists/objects nest deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children)
    return False


def sniff_mime(head: bytes) -> str | None:
    """The image type the bytes really are, or None (names and headers are not trusted)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class OpType(StrEnum):
    inspection_submit = "inspection.submit"
    hazard_report = "hazard.report"
    hazard_event = "hazard.event"
    photo_add = "photo.add"


# payload versions the server accepts per op type (current and previous)
OP_VERSIONS: dict[OpType, frozenset[int]] = {t: frozenset({1}) for t in OpType}
CURRENT_OP_VERSION = 1


class OpStatus(StrEnum):
    applied = "applied"  # applied now
    duplicate = "duplicate"  # seen before with the same payload: the stored result again
    id_reuse = "id_reuse"  # seen before with another payload: refused, nothing changed
    rejected = "rejected"  # a business rule refused it; final, shown to the user
    missing_blob = "missing_blob"  # needs photos the server does not hold yet; retry after upload


class StopReason(StrEnum):
    seq_gap = "seq_gap"  # device_seq ahead of the next one expected (the server lost ops?)
    seq_behind = "seq_behind"  # a new op under a used number (device restored from a backup?)
    missing_blob = "missing_blob"  # upload the photos, then push again from this op


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError("must be a UUID") from None


UUIDStr = Annotated[str, StringConstraints(max_length=36), AfterValidator(_uuid)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.:\-]{8,64}$"
DeviceId = Annotated[str, StringConstraints(pattern=DEVICE_ID_PATTERN)]


def Bounded(max_length: int, min_length: int = 0):  # noqa: N802 - reads as a type
    """A string of bounded length, kept as the device sent it: the service the op is applied
    through judges its content (``server.schemas.Text`` is the API's cleaned kind)."""
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length)]


class Op(BaseModel):
    """One change made on a device, as queued in its outbox."""

    model_config = ConfigDict(extra="forbid")

    op_id: UUIDStr = Field(description="client UUID; the idempotency key (and the event id)")
    device_seq: int = Field(ge=1, description="gap-free per device, starting at 1")
    type: OpType
    v: int = Field(CURRENT_OP_VERSION, ge=1, le=1000, description="payload version")
    payload: dict[str, Any]
    device_time: Bounded(40) | None = Field(None, description="device clock; display only")

    def digest(self) -> str:
        return op_digest(self.type, self.v, self.payload)


def op_digest(op_type: str, v: int, payload: dict[str, Any]) -> str:
    """SHA-256 of what an op asks for: equal for a retry, different for a reused op id."""
    body = {"type": str(op_type), "v": v, "payload": payload}
    return hashlib.sha256(canonical_json(body)).hexdigest()


class PushRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: DeviceId
    schema_version: int
    app_version: Bounded(32) = ""
    device_now: Bounded(40) | None = Field(None, description="device clock, to log skew")
    ops: list[Op] = Field(max_length=MAX_OPS_PER_PUSH)


class OpResult(BaseModel):
    op_id: str
    device_seq: int
    status: OpStatus
    outcome: Literal["applied", "rejected"] | None = Field(
        None, description="what finally happened to the op (also for duplicate)"
    )
    code: str | None = None
    message_zh: str | None = None
    message_en: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    server_seq: int | None = Field(None, description="position of its last change in the feed")
    received_at: str | None = Field(None, description="server time the op was first applied")
    data: dict[str, Any] = Field(default_factory=dict)

    @property
    def final(self) -> bool:
        """The device may stop holding this op: the server has recorded its outcome."""
        return self.status is not OpStatus.missing_blob

    def message(self, lang: str = "zh") -> str | None:
        return self.message_en if lang.startswith("en") else self.message_zh


class PushStop(BaseModel):
    reason: StopReason
    at_seq: int
    expected_seq: int = Field(description="push again from this device_seq")


class PushResponse(BaseModel):
    results: list[OpResult]
    stopped: PushStop | None = None
    last_seq: int = Field(description="the highest device_seq the server has recorded")
    server_time: str


ChangeKind = Literal["event", "site", "district", "template"]


class Change(BaseModel):
    seq: int
    kind: ChangeKind
    id: str
    op: Literal["put", "delete"] = "put"
    data: dict[str, Any] | None = None


class PullResponse(BaseModel):
    changes: list[Change]
    next_cursor: str
    has_more: bool
    server_time: str
    device_last_seq: int = Field(
        0,
        description="the highest device_seq the server holds for this device: lower than "
        "what the device saw acknowledged means the server lost ops (restored from a backup)",
    )


# ------------------------------------------------------------------ op payloads


class HazardReportPayload(BaseModel):
    """``hazard.report``: a new hazard; its ``reported`` event has the hazard's id."""

    model_config = ConfigDict(extra="forbid")

    hazard_id: UUIDStr
    site_id: Bounded(36, 1)
    title: Bounded(200, 1)
    description: Bounded(4000) = ""
    severity: Literal["general", "major"]
    photos: list[Sha256] = Field(default_factory=list, max_length=50)
    location: Bounded(200) | None = None
    matter_id: Bounded(64) | None = None
    link_id: Bounded(64) | None = None
    # where the device was (shared.geo); optional: tablets without GPS, and older apps, omit it
    gps: GpsStamp | None = None
    photo_gps: dict[Sha256, GpsStamp] | None = Field(None, description="where each was taken")

    def chain_payload(self) -> dict[str, Any]:
        return self.model_dump(exclude={"hazard_id"}, exclude_none=True)


class HazardEventPayload(BaseModel):
    """``hazard.event``: any event the user's role may append; the event id is the op id."""

    model_config = ConfigDict(extra="forbid")

    hazard_id: UUIDStr
    type: Literal[tuple(sorted(e.value for e in USER_EVENTS))]  # type: ignore[valid-type]
    payload: dict[str, Any] = Field(default_factory=dict)


class PhotoRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: Sha256
    size: int = Field(ge=1, le=MAX_BLOB_BYTES)
    mime: Literal[PHOTO_MIMES]  # type: ignore[valid-type]
    gps: GpsStamp | None = None  # where it was taken, when the device knew


class PhotoAddPayload(BaseModel):
    """``photo.add``: photos for a hazard. The op may arrive before the bytes: it is applied
    and the photos are reported as pending until their uploads complete."""

    model_config = ConfigDict(extra="forbid")

    hazard_id: UUIDStr
    photos: list[PhotoRef] = Field(min_length=1, max_length=50)
    caption: Bounded(4000) | None = None

    def chain_payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"photos": [p.sha256 for p in self.photos]}
        if self.caption:
            out["caption"] = self.caption
        stamps = {p.sha256: p.gps.wire() for p in self.photos if p.gps is not None}
        if stamps:
            out["photo_gps"] = stamps
        return out


@dataclass(frozen=True)
class ChainOp:
    """The chain event a hazard op stands for."""

    hazard_id: str
    event_type: str
    payload: dict[str, Any]
    announced: list[PhotoRef]  # photos a ``photo.add`` announces (size, type) before upload


def chain_op(op_type: str, payload: dict[str, Any]) -> ChainOp:
    """The one mapping from a hazard op to its chain event: the server applies it, the tablet
    checks and shows pending ops with it. Raises ``ValidationError`` for a payload its op type
    does not allow."""
    if op_type == OpType.hazard_report:
        report = HazardReportPayload.model_validate(payload)
        return ChainOp(report.hazard_id, EventType.reported.value, report.chain_payload(), [])
    if op_type == OpType.photo_add:
        add = PhotoAddPayload.model_validate(payload)
        return ChainOp(add.hazard_id, EventType.photo_added.value, add.chain_payload(), add.photos)
    if op_type == OpType.hazard_event:
        body = HazardEventPayload.model_validate(payload)
        return ChainOp(body.hazard_id, body.type, body.payload, [])
    raise ValueError(f"{op_type} is not a chain op")


def referenced_photos(op_type: str, payload: dict[str, Any]) -> list[str]:
    """Every SHA-256 an op's payload cites (what must be uploaded for it)."""
    found: list[str] = []

    def add(values: Any) -> None:
        if isinstance(values, list):
            for v in values:
                sha = v.get("sha256") if isinstance(v, dict) else v
                if isinstance(sha, str) and SHA256_RE.match(sha):
                    found.append(sha)

    if op_type in (OpType.hazard_report, OpType.photo_add):
        add(payload.get("photos"))
    elif op_type == OpType.hazard_event:
        inner = payload.get("payload") or {}
        if isinstance(inner, dict):
            add(inner.get("photos"))
            add(inner.get("evidence"))
    elif op_type == OpType.inspection_submit:
        photos = payload.get("photos") or {}
        if isinstance(photos, dict):
            for v in photos.values():
                add(v)
        signatures = payload.get("signatures") or {}
        if isinstance(signatures, dict):
            add([signatures.get("inspector"), signatures.get("representative")])
            refusal = signatures.get("refusal")  # 拒签: the photo of the refusal on site
            if isinstance(refusal, dict):
                add([refusal.get("photo")])
    return list(dict.fromkeys(found))
