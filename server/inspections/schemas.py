"""The inspection payload, shared by ``POST /api/v1/inspections`` and (later) the sync op
``inspection.submit``, which carries exactly this JSON.

Example::

    {
      "id": "6f1c…",                       # client UUID, the idempotency key
      "site_id": "…",
      "template_id": "coal_mine", "template_version": 1,
      "profile": null,                     # a template profile id (e.g. "school"), if any
      "answers": {"coal.gas.face_ch4": 0.8, "coal.vent.main_fan": "yes", "x.y": "na"},
      "photos": {"coal.vent.main_fan": ["<sha256>", …]},
      "item_notes": {"coal.vent.main_fan": "…"},   # the inspector's note per item
      "descriptions": {"coal.vent.main_fan": "…"}, # written over a finding's generated text
      "notes": "…",
      "started_at": "2026-03-02T01:00:00Z", "ended_at": "2026-03-02T02:10:00Z",
      "location": {"lat": 39.65, "lon": 106.83, "accuracy": 12},
      "signatures": {"inspector": "<sha256>", "representative": "<sha256>",
                     "representative_name": "…"},  # 签字确认, PNG blobs; optional
      "checklist_override": "…"           # why a checklist that does not fit the site is used
    }

Each finding becomes a hazard whose id is ``shared.findings.finding_hazard_id(inspection id,
item id)``, so a device can name the hazards of an inspection before the server has seen it, and
a retry can never create them twice.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from server.hazards.schemas import HazardPublic
from server.schemas import LongText, Text, UUIDStr
from shared.chain import MAX_TEXT, canonical_json
from shared.geo import GpsStamp

MAX_ANSWERS = 2000
MAX_PHOTOS_PER_ITEM = 20
MAX_PHOTOS = 500

ItemId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.]+$", max_length=100)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# yes / no / na, a choice value or text; a number; null = not answered.
Answer = Text(4000) | StrictInt | StrictFloat | None


def _utc(value: datetime) -> datetime:
    """One spelling per instant, so a retry from another time zone hashes the same."""
    return value.astimezone(UTC)


UTCTime = Annotated[AwareDatetime, AfterValidator(_utc)]


class Location(BaseModel):
    """Where the inspection was done (WGS 84, as the device reports it)."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy: float | None = Field(None, ge=0, le=100_000, allow_inf_nan=False)

    def label(self) -> str:
        """Short text for a hazard's ``location`` field, e.g. ``39.65000,106.83000 ±12m``."""
        text = f"{self.lat:.5f},{self.lon:.5f}"
        return text + (f" ±{self.accuracy:.0f}m" if self.accuracy is not None else "")


class SignRefusal(BaseModel):
    """拒签: the site's representative refused to sign. Recorded with a witness who saw it and
    a photo of the scene (the representative present, the record offered), as regulators
    require when a 现场检查记录 stands without the inspected unit's signature."""

    model_config = ConfigDict(extra="forbid")

    witness: Text(100, 1) = Field(description="见证人 who saw the refusal")
    photo: Sha256 = Field(description="a photo of the refusal on site (a blob, like photos)")
    reason: Text(400) = ""


class Signatures(BaseModel):
    """签字确认: the inspector's and the site representative's signatures, PNG images uploaded
    as blobs like photos (the server holds both before it accepts the inspection)."""

    model_config = ConfigDict(extra="forbid")

    inspector: Sha256
    # A self-inspection (自查) is signed by the patroller alone: the enterprise is the site, so
    # no one else countersigns; a regulator's inspection needs the representative too.
    representative: Sha256 | None = None
    representative_name: Text(100) = ""
    refusal: SignRefusal | None = None  # 拒签, instead of the representative's signature


# Fields added after inspections were first stored. Left out of the hash while unset, so a
# payload sent before they existed still hashes as stored and its retry replays.
_LATER_FIELDS = (
    "item_notes", "descriptions", "signatures", "checklist_override", "gps", "photo_gps",
)  # fmt: skip


class InspectionSubmit(BaseModel):
    """One finished inspection as the device sends it."""

    model_config = ConfigDict(extra="forbid")

    id: UUIDStr = Field(description="client-generated UUID (idempotency key)")
    site_id: Text(36, 1)
    template_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$", max_length=64)]
    template_version: int = Field(ge=1, le=1_000_000)
    profile: Text(64) | None = None
    answers: dict[ItemId, Answer] = Field(max_length=MAX_ANSWERS)
    photos: dict[ItemId, Annotated[list[Sha256], Field(max_length=MAX_PHOTOS_PER_ITEM)]] = Field(
        default_factory=dict
    )
    item_notes: dict[ItemId, Text(2000)] = Field(default_factory=dict, max_length=MAX_ANSWERS)
    descriptions: dict[ItemId, Text(MAX_TEXT)] = Field(default_factory=dict, max_length=MAX_ANSWERS)
    notes: LongText = ""
    started_at: UTCTime
    ended_at: UTCTime
    location: Location | None = None
    # GPS stamps (shared.geo), where the device had a fix: per item when it was answered, and
    # per photo when it was taken; each finding's hazard carries its own
    gps: dict[ItemId, GpsStamp] = Field(default_factory=dict, max_length=MAX_ANSWERS)
    photo_gps: dict[Sha256, GpsStamp] = Field(default_factory=dict, max_length=MAX_PHOTOS)
    signatures: Signatures | None = None
    checklist_override: Text(500) | None = Field(
        None,
        description="why a checklist or profile that does not fit the site's type is used "
        "(shared.site_checklists); recorded on the inspection",
    )

    @field_validator("profile", "checklist_override")
    @classmethod
    def _blank_profile(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @field_validator("photos")
    @classmethod
    def _photos(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if sum(len(v) for v in value.values()) > MAX_PHOTOS:
            raise ValueError(f"too many photos (max {MAX_PHOTOS})")
        # the same photo twice under one item is one photo; empty lists say nothing
        return {k: list(dict.fromkeys(v)) for k, v in value.items() if v}

    @field_validator("item_notes", "descriptions")
    @classmethod
    def _blank_texts(cls, value: dict[str, str]) -> dict[str, str]:
        # a blank text says nothing (a blank description means the generated one)
        return {k: v for k, v in value.items() if v}

    @field_validator("ended_at")
    @classmethod
    def _ended_after_start(cls, value: datetime, info: ValidationInfo) -> datetime:
        started = info.data.get("started_at")
        if started is not None and value < started:
            raise ValueError("ended_at is before started_at")
        return value

    def canonical(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        for name in _LATER_FIELDS:
            if not data[name]:
                del data[name]
        if data.get("signatures") and data["signatures"].get("refusal") is None:
            del data["signatures"]["refusal"]  # added later: unset, it hashes as before
        return data

    def sha256(self) -> str:
        """SHA-256 of the canonical JSON: equal for a retry, different for a reused id."""
        return hashlib.sha256(canonical_json(self.canonical())).hexdigest()


class InspectionSummary(BaseModel):
    id: str
    number: str | None = Field(
        None, description="检查记录编号 (JC-<district>-<year>-<seq>), what paper and lists show"
    )
    site_id: str
    site_name: str = ""
    district_id: str
    district_name: str = ""
    template_id: str
    template_version: int
    template_digest: str
    profile: str | None
    inspector_id: str
    notes: str
    started_at: datetime
    ended_at: datetime
    location: dict[str, Any] | None
    submitted_at: datetime
    finding_count: int


class InspectionPage(BaseModel):
    items: list[InspectionSummary]
    next_cursor: str | None
    total: int


class CompletionPublic(BaseModel):
    """完成率: (answered + 不适用) / items that apply; 未检查 lowers it (shared.completion)."""

    applicable: int
    answered: int
    not_applicable: int
    unchecked: int
    unanswered: list[str]
    rate: float | None


class InspectionDetail(InspectionSummary):
    answers: dict[str, Any]
    photos: dict[str, list[str]]
    item_notes: dict[str, str]
    descriptions: dict[str, str]
    signatures: Signatures | None
    findings: list[dict[str, Any]]
    payload_sha256: str
    checklist_override: str | None
    completion: CompletionPublic | None
    hazards: list[HazardPublic]
