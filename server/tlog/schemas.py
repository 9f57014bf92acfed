"""The tlog API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from shared.chain import canonical_json
from shared.sync_wire import json_depth_exceeds
from shared.text import json_text_problem

MAX_DETAIL_BYTES = 8000
AUDIT_BATCH = 200  # hazards a witness asks about at once


class CheckpointOut(BaseModel):
    origin: str
    size: int
    root: str = Field(description="hex SHA-256 tree head")
    time: str
    note: str = Field(description="the signed note (C2SP signed-note), verbatim")


class ProofOut(BaseModel):
    proof: list[str] = Field(description="hex hashes, RFC 9162 order")


class ConsistencyOut(ProofOut):
    first: int
    second: int


class InclusionOut(ProofOut):
    event_id: str
    index: int
    size: int
    leaf_hash: str


class PublicKeyOut(BaseModel):
    origin: str
    public_key: str = Field(description="base64 raw Ed25519 public key")
    key_id: str
    vkey: str


class WitnessReportIn(BaseModel):
    reason: str = Field(min_length=1, max_length=64, pattern=r"^[a-z_]+$")
    detail: dict[str, Any] = Field(default_factory=dict)
    device_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:\-]{8,64}$")

    @field_validator("detail")
    @classmethod
    def _small_plain_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Stored as JSON on both databases: no NaN, no NUL or lone surrogates (PostgreSQL
        refuses them), not deep, and small."""
        if json_depth_exceeds(value):
            raise ValueError("nested too deeply")
        problem = json_text_problem(value)
        if problem:
            raise ValueError(f"text {problem}")
        try:
            size = len(canonical_json(value))
        except (TypeError, ValueError) as exc:
            raise ValueError("must be plain JSON (no NaN or Infinity)") from exc
        if size > MAX_DETAIL_BYTES:
            raise ValueError(f"too large (max {MAX_DETAIL_BYTES} bytes as JSON)")
        return value


class WitnessReportOut(BaseModel):
    id: int


class AuditIn(BaseModel):
    hazard_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:\-]{1,36}$")]] = Field(
        min_length=1, max_length=AUDIT_BATCH
    )


class AuditedEvent(BaseModel):
    id: str
    seq: int
    hash: str


class AuditedHazard(BaseModel):
    id: str
    found: bool = Field(description="false: no such hazard in the caller's scope")
    projection: dict[str, Any] | None = Field(
        default=None, description="shared.chain.witnessed_projection of the stored hazard"
    )
    events: list[AuditedEvent] = Field(default_factory=list)


class AuditOut(BaseModel):
    hazards: list[AuditedHazard]
