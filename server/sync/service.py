"""Push and pull for devices (docs/sync.md).

Push: the batch is one transaction, which starts by updating the device's row, so one
device's pushes are serialised (a row lock on PostgreSQL, the write lock on SQLite) and its
``last_seq`` read after that is current. A known op id returns its stored result; a new op must
carry ``last_seq + 1`` (else the batch stops and says where to resume). Chain ops are judged,
sealed and folded in memory (``server.hazards.service.ChainBatch``: each chain checked against
the state the batch has brought it to, claimed by a compare-and-swap of its head at the flush),
other ops go through their services in a SAVEPOINT; each op is recorded with its result. A
business rejection is recorded too, so the device's outbox keeps draining; only photos the
server does not hold yet leave the op unrecorded (``missing_blob``) for a retry after the
upload. A collision with a concurrent writer runs the whole batch again (``server.uow``).

Pull: the visible changes after the cursor, in feed order, up to a position read first.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, insert, update
from sqlalchemy import select as select_core
from sqlmodel import Session, col, select

from server.blobs import service as blobs
from server.checklists.models import ChecklistTemplate
from server.context import Caller
from server.hazards import service as hazards
from server.hazards.models import Attachment, Hazard, HazardEvent
from server.inspections.models import Inspection
from server.sites.models import District, Site
from server.sync import feed
from server.sync.models import SyncChange, SyncDevice, SyncOp
from server.uow import RETRIES, run_unit
from server.users.models import Device
from server.users.service import register_device
from shared.chain import BODY_FIELDS, Refused
from shared.clock import DEFAULT_TIMEZONE, Clock, parse_iso, to_iso
from shared.deadlines import DEFAULT_POLICY, DeadlinePolicy
from shared.errors import DomainError, Refusal, not_found
from shared.roles import Role
from shared.sync_wire import (
    MIN_SCHEMA_VERSION,
    OP_VERSIONS,
    SCHEMA_VERSION,
    ChainOp,
    Op,
    OpResult,
    OpStatus,
    OpType,
    PushRequest,
    PushResponse,
    PushStop,
    StopReason,
    chain_op,
    referenced_photos,
)

log = logging.getLogger("hazardchain.sync")
SKEW_LOG_SECONDS = 300
BOOKKEEPING_SECONDS = 60  # device rows are refreshed by pulls at most this often
INSPECTOR_ROLES = (Role.inspector, Role.officer, Role.admin, Role.enterprise)  # enterprise: 自查


def check_schema(schema_version: Any) -> None:
    """``426`` for an app too old to talk to this server; its outbox stays on the device."""
    if not isinstance(schema_version, int) or isinstance(schema_version, bool):
        raise DomainError.of(
            "invalid_input",
            "缺少同步协议版本",
            "schema_version is required",
            fields={"schema_version": "required integer"},
        )
    if schema_version < MIN_SCHEMA_VERSION:
        raise DomainError.of(
            "upgrade_required",
            "应用版本过旧，请升级后再同步；未上传的记录仍保存在本机",
            "this app is too old to sync; update it — unsent records stay on the device",
            fields={"schema_version": f"minimum {MIN_SCHEMA_VERSION}"},
        )
    if schema_version > SCHEMA_VERSION:
        raise DomainError.of(
            "server_too_old",
            "服务器版本低于应用，请联系管理员升级服务器",
            "the server is older than this app; ask the administrator to update it",
            fields={"schema_version": f"maximum {SCHEMA_VERSION}"},
        )


# ------------------------------------------------------------------ devices


def _skew(device_now: str | None, now: datetime) -> float | None:
    if not device_now:
        return None
    try:
        return (parse_iso(device_now) - now).total_seconds()
    except ValueError:
        return None


def ensure_device(
    session: Session,
    caller: Caller,
    device_id: str,
    *,
    schema_version: int,
    app_version: str,
    device_now: str | None,
    now: datetime,
) -> SyncDevice:
    """The caller's device (registered on first sight), refused if revoked or someone else's."""
    skew = _skew(device_now, now)
    if skew is not None and abs(skew) > SKEW_LOG_SECONDS:
        log.warning(
            "device clock skew",
            extra={"device_id": device_id, "user_id": caller.user.id, "skew_seconds": skew},
        )

    def record() -> SyncDevice:
        device = session.get(Device, device_id)
        if device is None or device.user_id != caller.user.id or device.revoked_at is not None:
            # registers, or raises device_taken (409) / device_revoked (403)
            register_device(
                session, caller.user, {"id": device_id, "app_version": app_version}, now
            )
        state = session.get(SyncDevice, device_id, populate_existing=True)
        if state is not None and _unchanged(state, schema_version, app_version, skew, now):
            return state  # a pull need not write (on SQLite it would wait for every writer)
        if state is None:
            state = SyncDevice(device_id=device_id, user_id=caller.user.id, last_seen=now)
        state.schema_version = schema_version
        state.app_version = app_version[:32]
        state.skew_seconds = skew if skew is not None else state.skew_seconds
        state.last_seen = now
        session.add(state)
        return state

    # its own unit, ahead of the ops; two first contacts at once collide and retry
    return run_unit(session, record, retries=RETRIES, what="sync device")


def _unchanged(
    state: SyncDevice, schema_version: int, app_version: str, skew: float | None, now: datetime
) -> bool:
    return (
        state.schema_version == schema_version
        and state.app_version == app_version[:32]
        and abs((now - state.last_seen).total_seconds()) < BOOKKEEPING_SECONDS
        and (skew is None or abs(skew - (state.skew_seconds or 0)) < BOOKKEEPING_SECONDS)
    )


def _lock_device(session: Session, device_id: str, now: datetime) -> SyncDevice:
    """Start the op's transaction with a write to the device row: it serialises this device's
    pushes, and on SQLite it takes the write lock before anything is read."""
    session.connection().execute(
        update(SyncDevice.__table__)
        .where(SyncDevice.__table__.c.device_id == device_id)
        .values(last_seen=now)
    )
    state = session.get(SyncDevice, device_id, populate_existing=True)
    if state is None:
        raise RuntimeError("device row vanished")
    return state


# ------------------------------------------------------------------ push


@dataclass
class Applied:
    data: dict[str, Any] = field(default_factory=dict)
    hazard_ids: list[str] = field(default_factory=list)
    server_seq: int | None = None  # the feed position of its last change
    staged: list[dict[str, Any]] = field(default_factory=list)  # its feed entries, if staged


def _pending_photos(session: Session, caller: Caller, shas: list[str]) -> list[str]:
    """What the caller must still upload: files not on the server, and files they may not use
    (someone else's looks exactly like an unknown one; a hash grants nothing)."""
    return blobs.not_held_for(session, caller, shas) if shas else []


def _expect_photos(session: Session, photos: list[Any], caller: Caller, now: datetime) -> None:
    """Note the photos an op announces, so an upload can be checked against them."""
    for p in photos:
        att = session.get(Attachment, p.sha256)
        if att is None:
            session.add(
                Attachment(
                    sha256=p.sha256,
                    mime=p.mime,
                    size=p.size,
                    uploaded_by=caller.user.id,
                    created_at=now,
                )
            )


def _append(
    session: Session,
    caller: Caller,
    device_id: str,
    op: Op,
    now: datetime,
    policy: DeadlinePolicy,
    hazard_id: str,
    event_type: str,
    payload: dict[str, Any],
) -> Applied:
    """One chain event under the op's id (so a retry can never make a second one)."""
    done = hazards.append_by_caller(
        session,
        caller,
        hazard_id=hazard_id,
        event_type=event_type,
        payload=payload,
        now=now,
        policy=policy,
        event_id=op.op_id,
        device_time=op.device_time,
        device_id=device_id,
    )
    return Applied({"hazard_id": hazard_id, "event_id": done.event.id}, [hazard_id])


def _apply(
    session: Session,
    caller: Caller,
    device_id: str,
    op: Op,
    now: datetime,
    policy: DeadlinePolicy,
    tz: str,
) -> Applied:
    """Apply one op with the domain services; raises Refused/DomainError/ValidationError."""
    if op.type is not OpType.inspection_submit:
        c = chain_op(op.type, op.payload)
        if op.type is OpType.hazard_report:
            hazards.report(
                session,
                caller,
                payload=c.payload,
                now=now,
                hazard_id=c.hazard_id,
                policy=policy,
                device_time=op.device_time,
                device_id=device_id,
            )
            # the reported event has the hazard's id (a major hazard's escalation follows it)
            return Applied({"hazard_id": c.hazard_id, "event_id": c.hazard_id}, [c.hazard_id])
        if c.announced:
            hazards.get_in_scope(session, caller, c.hazard_id)
            _expect_photos(session, c.announced, caller, now)
        return _append(session, caller, device_id, op, now, policy, c.hazard_id, c.event_type,
                       c.payload)  # fmt: skip
    if op.type is OpType.inspection_submit:
        from server.inspections import service as inspections
        from server.inspections.schemas import InspectionSubmit

        if caller.role not in INSPECTOR_ROLES:
            raise DomainError.of(
                "forbidden", "您的角色无权提交检查", "your role may not submit inspections"
            )
        body = InspectionSubmit.model_validate(op.payload)
        done = inspections.submit(session, caller, body, now=now, policy=policy, tz=tz)
        ids = [h.id for h in done.hazards]
        return Applied({"inspection_id": body.id, "hazard_ids": ids}, ids)
    raise AssertionError(op.type)


def _apply_op(
    session: Session,
    batch: hazards.ChainBatch,
    caller: Caller,
    device_id: str,
    op: Op,
    parsed: ChainOp | None,
    now: datetime,
    policy: DeadlinePolicy,
    tz: str,
) -> Applied:
    """A chain op whose event id is free is staged in the batch (it raises before staging
    anything when refused); any other op goes through the services in a SAVEPOINT, after a
    flush of what is staged, so it sees the batch's chains as they now are."""
    if op.v not in OP_VERSIONS[op.type]:
        raise DomainError.of(
            "unsupported_op_version",
            f"该记录的格式版本（{op.v}）已不再支持",
            f"this record's format version ({op.v}) is no longer supported",
        )
    if op.type is not OpType.inspection_submit:
        c = parsed or chain_op(op.type, op.payload)  # raises the payload's ValidationError
        report = op.type is OpType.hazard_report
        if batch.can_take(c.hazard_id if report else op.op_id):
            with session.no_autoflush:
                return _stage(session, batch, caller, device_id, op, c, now)
    session.flush()  # the staged chains first, so the services see them
    session.info[feed.SEQS_TAKEN] = []
    try:
        # a SAVEPOINT: a refused op's writes go, the batch's and its device row lock stay
        with session.begin_nested():
            applied = _apply(session, caller, device_id, op, now, policy, tz)
    finally:
        batch.forget()
    # one transaction: the feed positions it took are its own
    applied.server_seq = max(session.info[feed.SEQS_TAKEN], default=None)
    return applied


def _stage(
    session: Session,
    batch: hazards.ChainBatch,
    caller: Caller,
    device_id: str,
    op: Op,
    c: ChainOp,
    now: datetime,
) -> Applied:
    if op.type is OpType.hazard_report:
        staged = batch.report(caller, payload=c.payload, hazard_id=c.hazard_id,
                              device_time=op.device_time, device_id=device_id)  # fmt: skip
        return Applied({"hazard_id": c.hazard_id, "event_id": c.hazard_id}, [c.hazard_id],
                       staged=staged)  # fmt: skip

    def expect() -> None:
        _expect_photos(session, c.announced, caller, now)

    staged = batch.append_by_caller(
        caller,
        hazard_id=c.hazard_id,
        event_type=c.event_type,
        payload=c.payload,
        event_id=op.op_id,
        device_time=op.device_time,
        device_id=device_id,
        before_write=expect if c.announced else None,
    )
    return Applied({"hazard_id": c.hazard_id, "event_id": op.op_id}, [c.hazard_id],
                   staged=staged)  # fmt: skip


def _refusal_of(exc: Exception) -> Refusal:
    if isinstance(exc, Refused | DomainError):
        return exc.refusal
    assert isinstance(exc, ValidationError)
    fields = {".".join(str(x) for x in e["loc"]) or "payload": e["msg"] for e in exc.errors()}
    en = "invalid record: " + "; ".join(f"{k}: {v}" for k, v in fields.items())
    return Refusal("invalid_input", "记录内容有误：" + "；".join(fields), en[:1900], fields)


def _result(row: SyncOp | SimpleNamespace, status: OpStatus) -> OpResult:
    return OpResult(
        op_id=row.op_id,
        device_seq=row.device_seq,
        status=status,
        outcome=row.status,
        code=row.code,
        message_zh=row.message_zh,
        message_en=row.message_en,
        fields=row.fields or {},
        server_seq=row.server_seq,
        received_at=to_iso(row.received_at),
        data=row.data,
    )


def _id_reuse(op: Op) -> OpResult:
    return OpResult(
        op_id=op.op_id,
        device_seq=op.device_seq,
        status=OpStatus.id_reuse,
        outcome="rejected",
        code="id_reuse",
        message_zh="该记录编号已用于另一条内容不同的记录，本条未被接受",
        message_en="this record id was already used for a different record; not accepted",
    )


def _unseen(op: Op, at: datetime) -> OpResult:
    """The answer for an op id taken by a record the caller cannot see: the same refusal as
    for any id out of scope, so it does not tell that the id exists in another district."""
    refusal = (
        not_found("检查记录", "inspection")
        if op.type == OpType.inspection_submit
        else not_found("隐患", "hazard")
    ).refusal
    return OpResult(
        op_id=op.op_id,
        device_seq=op.device_seq,
        status=OpStatus.rejected,
        outcome="rejected",
        code=refusal.code,
        message_zh=refusal.zh,
        message_en=refusal.en,
        received_at=to_iso(at),
    )


def _sees_op(session: Session, caller: Caller, row: SyncOp | SimpleNamespace) -> bool:
    """The caller's own op, or one whose record (hazard, event or inspection) is in scope."""
    if row.user_id == caller.user.id:
        return True
    event = session.get(HazardEvent, row.op_id)
    if event is not None:
        return hazards.sees(caller, session.get(Hazard, event.hazard_id))
    from server.inspections import service as inspections

    return inspections.sees(caller, session.get(Inspection, row.op_id))


def _known(
    session: Session,
    caller: Caller,
    state: SyncDevice,
    op: Op,
    row: SyncOp | SimpleNamespace,
    digest: str,
    now: datetime,
) -> OpResult | tuple[SyncOp | SimpleNamespace, OpStatus]:
    """A retry gets the stored result (``row``, answered once the batch's results are
    final: it may be this batch's own); the same id with other content is ``id_reuse`` (or
    not found, when the caller cannot see what holds the id). Either way a number the device
    spent on it counts as used."""
    if op.device_seq == state.last_seq + 1:
        state.last_seq = op.device_seq
        session.add(state)
    if row.device_id != state.device_id and not _sees_op(session, caller, row):
        return _unseen(op, now)
    if row.device_id != state.device_id or row.payload_sha256 != digest:
        return _id_reuse(op)
    return row, OpStatus.duplicate


def _stop(state: SyncDevice, op: Op) -> PushStop | None:
    expected = state.last_seq + 1
    if op.device_seq == expected:
        return None
    reason = StopReason.seq_gap if op.device_seq > expected else StopReason.seq_behind
    return PushStop(reason=reason, at_seq=op.device_seq, expected_seq=expected)


def _server_seq(session: Session, applied: Applied) -> int | None:
    if applied.staged:
        return max(e["seq"] for e in applied.staged)
    if applied.server_seq is not None or not applied.hazard_ids:
        return applied.server_seq
    # nothing new written (an inspection already submitted over HTTP): its hazards' latest entry
    return session.exec(
        select(func.max(SyncChange.seq)).where(col(SyncChange.hazard_id).in_(applied.hazard_ids))
    ).one()


def _record(
    caller: Caller,
    state: SyncDevice,
    op: Op,
    digest: str,
    now: datetime,
    refusal: Refusal | None,
    applied: Applied | None,
) -> SimpleNamespace:
    """The op's stored result as ``sync_op``'s row values (a model per op cost more than the
    rest of its staging); an applied op's feed position and pending photos are filled in once
    the batch's rows are written."""
    return SimpleNamespace(
        op_id=op.op_id,
        device_id=state.device_id,
        user_id=caller.user.id,
        device_seq=op.device_seq,
        type=op.type.value,
        v=op.v,
        payload_sha256=digest,
        status="rejected" if refusal else "applied",
        code=refusal.code if refusal else None,
        message_zh=refusal.zh[:2000] if refusal else None,
        message_en=refusal.en[:2000] if refusal else None,
        fields=dict(refusal.fields) if refusal else None,
        server_seq=None,
        data=applied.data if applied else {},
        payload=op.payload if refusal else None,
        device_time=op.device_time,
        received_at=now,
    )


def _missing_blob(session: Session, caller: Caller, op: Op, refusal: Refusal) -> OpResult:
    """Photos the op needs are not on the server: nothing is recorded, the device uploads
    them and pushes again."""
    missing = _pending_photos(session, caller, referenced_photos(op.type, op.payload))
    return OpResult(
        op_id=op.op_id,
        device_seq=op.device_seq,
        status=OpStatus.missing_blob,
        code="missing_blob",
        message_zh=refusal.zh,
        message_en=refusal.en,
        fields=refusal.fields,
        data={"missing_blobs": missing},
    )


def push(
    session: Session,
    caller: Caller,
    req: PushRequest,
    *,
    clock: Clock,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    tz: str = DEFAULT_TIMEZONE,
) -> PushResponse:
    """One result per op, in order, until the end of the batch or a stop. The batch is one
    unit of work: it commits with its stored results, and is run again from the start when a
    concurrent write collides (each op then replays or is judged afresh)."""
    ensure_device(
        session,
        caller,
        req.device_id,
        schema_version=req.schema_version,
        app_version=req.app_version,
        device_now=req.device_now,
        now=clock.now(),
    )
    digests = [op.digest() for op in req.ops]
    results, stopped, last_seq = run_unit(
        session,
        lambda: _push_batch(session, caller, req, digests, clock.now(), policy, tz),
        retries=RETRIES,
        what="push batch",
    )
    if stopped is not None:
        log.info(
            "push stopped",
            extra={"device_id": req.device_id, "reason": stopped.reason, "at": stopped.at_seq},
        )
    return PushResponse(
        results=results, stopped=stopped, last_seq=last_seq, server_time=to_iso(clock.now())
    )


def _push_batch(
    session: Session,
    caller: Caller,
    req: PushRequest,
    digests: list[str],
    now: datetime,
    policy: DeadlinePolicy,
    tz: str,
) -> tuple[list[OpResult], PushStop | None, int]:
    """The batch's ops in order on one transaction: the device row first (it serialises the
    device's pushes), its known ops, hazards and taken event ids read in one query each, the
    chain ops staged in memory (``hazards.ChainBatch``), the rest through their services in a
    SAVEPOINT; then one flush writes everything (the feed positions taken there, once) and the
    ops' stored results follow with their positions."""
    session.expire_all()  # a retry reads everything afresh
    state = _lock_device(session, req.device_id, now)
    ids = [op.op_id for op in req.ops]
    known = {
        r.op_id: r
        for r in session.exec(
            select(SyncOp)
            .where(col(SyncOp.op_id).in_(ids))
            .execution_options(populate_existing=True)
        )
    }
    parsed: dict[int, ChainOp] = {}
    for i, op in enumerate(req.ops):
        if op.type is not OpType.inspection_submit and op.op_id not in known:
            with suppress(ValidationError):  # refused when its turn comes
                parsed[i] = chain_op(op.type, op.payload)
    batch = hazards.ChainBatch(session, now=now, policy=policy)
    try:
        hazard_ids = {c.hazard_id for c in parsed.values()}
        sites = {
            str(c.payload.get("site_id"))
            for i, c in parsed.items()
            if req.ops[i].type is OpType.hazard_report
        }
        batch.prefetch(hazard_ids, {*ids, *hazard_ids}, sites)
        answers: list[OpResult | tuple[SyncOp | SimpleNamespace, OpStatus]] = []
        recorded: list[tuple[Op, SimpleNamespace, Applied | None]] = []
        stopped: PushStop | None = None
        for i, (op, digest) in enumerate(zip(req.ops, digests, strict=True)):
            row = known.get(op.op_id)
            if row is not None:
                answers.append(_known(session, caller, state, op, row, digest, now))
                continue
            stopped = _stop(state, op)
            if stopped is not None:
                break
            refusal, applied = None, None
            try:
                applied = _apply_op(session, batch, caller, req.device_id, op, parsed.get(i),
                                    now, policy, tz)  # fmt: skip
            except (Refused, DomainError, ValidationError) as exc:
                refusal = _refusal_of(exc)
                if refusal.code == "photo_pending":
                    answers.append(_missing_blob(session, caller, op, refusal))
                    stopped = PushStop(reason=StopReason.missing_blob, at_seq=op.device_seq,
                                       expected_seq=op.device_seq)  # fmt: skip
                    break
                log.info(
                    "op rejected",
                    extra={"op_id": op.op_id, "device_id": state.device_id, "code": refusal.code},
                )
            row = known[op.op_id] = _record(caller, state, op, digest, now, refusal, applied)
            state.last_seq = op.device_seq
            recorded.append((op, row, applied))
            answers.append((row, OpStatus.rejected if refusal else OpStatus.applied))
        session.flush()  # the staged chains: swaps, feed positions (once), rows
    finally:
        batch.close()
    for op, row, applied in recorded:
        if applied is not None:
            row.server_seq = _server_seq(session, applied)
            pending = _pending_photos(session, caller, referenced_photos(op.type, op.payload))
            row.data = {**row.data, "pending_blobs": pending}
    if recorded:
        session.connection().execute(insert(SyncOp.__table__), [vars(r) for _, r, _ in recorded])
    session.add(state)
    results = [a if isinstance(a, OpResult) else _result(*a) for a in answers]
    return results, stopped, state.last_seq


# ------------------------------------------------------------------ pull


_E = HazardEvent.__table__.c
_H = Hazard.__table__.c
# a pulled event's data: what its hash covers, in ``ChainEvent.body()``'s order, its hash and
# the 隐患编号, which travels beside the hashed event, not inside it
EVENT_KEYS = (*BODY_FIELDS, "hash", "hazard_number")
_EVENT_COLUMNS = (*(getattr(_E, f) for f in BODY_FIELDS), _E.hash, _H.number)


def _event_data(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Pulled events as wire dicts, straight from Core rows in one query (a model per event
    was most of a pull's server time)."""
    rows = session.connection().execute(
        select_core(*_EVENT_COLUMNS)
        .select_from(HazardEvent.__table__.outerjoin(Hazard.__table__, _H.id == _E.hazard_id))
        .where(_E.id.in_(ids))
    )
    return {r[0]: dict(zip(EVENT_KEYS, r, strict=True)) for r in rows}


def _site_data(s: Site) -> dict[str, Any]:
    return s.model_dump(mode="json")


def _materialize(session: Session, rows: list[Any]) -> list[dict[str, Any]]:
    """What each ``(seq, kind, entity_id, op)`` row names, as the wire's ``Change`` dicts, one
    query per kind (pages are bounded). Events, nearly all of a feed, never become models."""
    by_kind: dict[str, list[str]] = {}
    for r in rows:
        by_kind.setdefault(r.kind, []).append(r.entity_id)
    loaded: dict[str, dict[str, dict[str, Any]]] = {}
    if ids := by_kind.get("event"):
        loaded["event"] = _event_data(session, ids)
    if ids := by_kind.get("site"):
        loaded["site"] = {
            s.id: _site_data(s) for s in session.exec(select(Site).where(col(Site.id).in_(ids)))
        }
    if ids := by_kind.get("district"):
        loaded["district"] = {
            d.id: d.model_dump(mode="json")
            for d in session.exec(select(District).where(col(District.id).in_(ids)))
        }
    templates = loaded["template"] = {}
    for key in by_kind.get("template", []):
        tid, _, version = key.rpartition(":")
        t = session.get(ChecklistTemplate, (tid, int(version)))
        if t is not None:
            templates[key] = t.model_dump(mode="json")
    out = []
    for seq, kind, entity_id, op in rows:
        data = loaded.get(kind, {}).get(entity_id)
        op = "put" if op == "put" and data is not None else "delete"
        out.append({"seq": seq, "kind": kind, "id": entity_id, "op": op, "data": data})
    return out


def pull(
    session: Session,
    caller: Caller,
    *,
    device_id: str,
    cursor: str | None,
    limit: int,
    schema_version: int,
    app_version: str,
    device_now: str | None,
    now: datetime,
    max_offline_days: int,
) -> dict[str, Any]:
    """One page as the wire's ``PullResponse`` dict (``views.packed_json`` writes it, with no
    model per change; tests/sync/test_pull_wire.py holds it to the model's bytes)."""
    state = ensure_device(
        session,
        caller,
        device_id,
        schema_version=schema_version,
        app_version=app_version,
        device_now=device_now,
        now=now,
    )
    if (
        cursor
        and state.last_pull_at is not None
        and (now - state.last_pull_at).total_seconds() > max_offline_days * 86400
    ):
        raise feed.reset_required(f"offline for more than {max_offline_days} days")
    top, epoch = feed.clock_state(session)
    after = feed.position_of(session, cursor, caller.scope, top=top, epoch=epoch)
    rows = feed.page(session, caller.scope, after, top, limit)
    has_more = len(rows) > limit
    rows = rows[:limit]
    # with nothing more to read, everything up to ``top`` has been seen, in scope or not
    last = rows[-1].seq if has_more else top
    changes = _materialize(session, rows)
    next_cursor = feed.cursor_at(session, epoch, last, caller.scope).encode()
    session.rollback()
    state = session.get(SyncDevice, device_id, populate_existing=True)
    if (
        state.last_pull_at is None
        or (now - state.last_pull_at).total_seconds() >= BOOKKEEPING_SECONDS
    ):
        state.last_pull_seq = after
        state.last_pull_at = now
        session.add(state)
    return {
        "changes": changes,
        "next_cursor": next_cursor,
        "has_more": has_more,
        "server_time": to_iso(now),
        "device_last_seq": state.last_seq,
    }
