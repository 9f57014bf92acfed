"""``/log/*``: what a witness needs to hold the server to its past (every logged-in role), the
reports witnesses send back, and the whole-record check for those who answer for it."""

from __future__ import annotations

import base64
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlmodel import col, select

from server.api.deps import CallerDep, NowDep, SessionDep, SettingsDep, UnitOfWorkRoute, require
from server.api.errors import error_responses
from server.context import Caller
from server.hazards import service as hazards
from server.hazards.models import Hazard, HazardEvent
from server.tlog import log as tlog
from server.tlog.checkpoints import latest, sign_checkpoint
from server.tlog.keys import public_key
from server.tlog.models import LogLeaf, WitnessReport
from server.tlog.schemas import (
    AuditedEvent,
    AuditedHazard,
    AuditIn,
    AuditOut,
    CheckpointOut,
    ConsistencyOut,
    InclusionOut,
    PublicKeyOut,
    WitnessReportIn,
    WitnessReportOut,
)
from server.tlog.verify import verify_record
from shared import checkpoint as note
from shared.chain import witnessed_projection
from shared.errors import DomainError, not_found
from shared.roles import Role

router = APIRouter(prefix="/log", tags=["log"], route_class=UnitOfWorkRoute)
logger = logging.getLogger("hazardchain.tlog")


def _bad(field: str, en: str, zh: str) -> DomainError:
    return DomainError.of("invalid_input", zh, en, fields={field: en})


@router.get("/checkpoint", response_model=CheckpointOut)
def checkpoint(
    caller: CallerDep, session: SessionDep, settings: SettingsDep, now: NowDep
) -> CheckpointOut:
    """The latest signed checkpoint (signed now when the log has none yet)."""
    row = latest(session) or sign_checkpoint(session, now, settings, reason="interval")
    cp = note.verify(row.note, public_key(settings))
    return CheckpointOut(
        origin=cp.origin, size=cp.size, root=cp.root_hex, time=cp.time, note=row.note
    )


@router.get("/public-key", response_model=PublicKeyOut)
def public_key_of_log(caller: CallerDep, settings: SettingsDep) -> PublicKeyOut:
    key = public_key(settings)
    return PublicKeyOut(
        origin=settings.log_origin,
        public_key=base64.b64encode(key).decode(),
        key_id=note.key_id(settings.log_origin, key).hex(),
        vkey=note.vkey(settings.log_origin, key),
    )


@router.get("/consistency", response_model=ConsistencyOut, responses=error_responses(422))
def consistency(
    caller: CallerDep,
    session: SessionDep,
    first: Annotated[int, Query(alias="from", ge=0)],
    second: Annotated[int, Query(alias="to", ge=0)],
) -> ConsistencyOut:
    conn = session.connection()
    size = tlog.log_size(conn)
    if second > size:
        raise _bad("to", f"beyond the log's size {size}", f"超出日志长度 {size}")
    if first > second:
        raise _bad("from", "must not exceed to", "from 不能大于 to")
    proof = tlog.consistency(conn, first, second)
    return ConsistencyOut(first=first, second=second, proof=[p.hex() for p in proof])


@router.get("/inclusion", response_model=InclusionOut, responses=error_responses(404, 422))
def inclusion(
    caller: CallerDep,
    session: SessionDep,
    event_id: Annotated[str, Query(min_length=1, max_length=36)],
    size: Annotated[int, Query(ge=1)],
) -> InclusionOut:
    """An event's place in the tree of ``size`` leaves; events out of the caller's scope are
    as absent as unknown ones."""
    leaf = session.get(LogLeaf, _leaf_index(session, caller, event_id))
    conn = session.connection()
    if size > tlog.log_size(conn):
        raise _bad("size", "beyond the log's size", "超出日志长度")
    if leaf.idx >= size:
        raise _bad("size", f"the event is leaf {leaf.idx}, after this size", "该事件不在此长度内")
    proof = tlog.inclusion(conn, leaf.idx, size)
    return InclusionOut(
        event_id=event_id,
        index=leaf.idx,
        size=size,
        leaf_hash=leaf.leaf_hash,
        proof=[p.hex() for p in proof],
    )


def _leaf_index(session: SessionDep, caller: Caller, event_id: str) -> int:
    found = tlog.leaf_of_event(session.connection(), event_id)
    if found is None:
        raise not_found("事件", "event")
    leaf = session.get(LogLeaf, found[0])
    if leaf is None or not hazards.sees(caller, session.get(Hazard, leaf.hazard_id)):
        raise not_found("事件", "event")
    return found[0]


@router.post("/audit", response_model=AuditOut, responses=error_responses(422))
def audit(body: AuditIn, caller: CallerDep, session: SessionDep) -> AuditOut:
    """What the server holds now of hazards a tablet holds copies of: the stored projection
    and the chain's events (id, position, hash), for the tablet to compare with its own copy
    and fold (``mobile_app.core.witness``). Out of scope is answered as absent."""
    ids = list(dict.fromkeys(body.hazard_ids))
    found = {
        h.id: h
        for h in session.exec(select(Hazard).where(col(Hazard.id).in_(ids))).all()
        if hazards.sees(caller, h)
    }
    events: dict[str, list[AuditedEvent]] = {}
    rows = session.exec(
        select(HazardEvent.hazard_id, HazardEvent.id, HazardEvent.seq, HazardEvent.hash)
        .where(col(HazardEvent.hazard_id).in_(list(found)))
        .order_by(HazardEvent.hazard_id, HazardEvent.seq)
    ).all()
    for hazard_id, event_id, seq, digest in rows:
        events.setdefault(hazard_id, []).append(AuditedEvent(id=event_id, seq=seq, hash=digest))
    return AuditOut(
        hazards=[
            AuditedHazard(
                id=i,
                found=True,
                projection=witnessed_projection(found[i]),
                events=events.get(i, []),
            )
            if i in found
            else AuditedHazard(id=i, found=False)
            for i in ids
        ]
    )


@router.post("/witness-report", response_model=WitnessReportOut, status_code=201)
def witness_report(
    body: WitnessReportIn, caller: CallerDep, session: SessionDep, now: NowDep
) -> WitnessReportOut:
    """A tablet found the log inconsistent with a checkpoint it held: kept, and logged loudly."""
    row = WitnessReport(
        user_id=caller.user.id,
        device_id=body.device_id,
        reason=body.reason,
        detail=body.detail,
        at=now,
    )
    session.add(row)
    session.flush()
    logger.error(
        "witness reports the log inconsistent",
        extra={"user_id": caller.user.id, "device_id": body.device_id, "reason": body.reason},
    )
    return WitnessReportOut(id=int(row.id or 0))


VerifierDep = Annotated[Caller, Depends(require(Role.admin, Role.leader, Role.officer))]


@router.get("/verify")
def verify(caller: VerifierDep, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """The whole record (``hazardchain chains verify`` over HTTP)."""
    report = verify_record(session, settings)
    return {
        "ok": report.ok,
        "hazards": report.hazards,
        "log_size": report.log_size,
        "checkpoint_size": report.checkpoint_size,
        "findings": [f.as_dict() for f in report.findings],
    }
