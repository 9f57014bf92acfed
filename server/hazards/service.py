"""Hazard chains on the server: report, append events, list and verify.

Every write goes through ``append``: load the chain under a row lock, let
``shared.chain.decide`` judge the event, seal it into the chain and rewrite the projection,
all in one transaction. Nothing else writes ``hazard`` or ``hazard_event``.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, update
from sqlmodel import Session, col, select

from server import paging
from server.auth.scope import descendants
from server.blobs import service as blobs
from server.context import SYSTEM_ACTOR, Caller
from server.hazards.models import Hazard, HazardEvent
from server.hazards.numbers import NumberBook, next_number
from server.hazards.overdue import overdue_clause
from server.matters.models import HazardMatter, MatterLink
from server.scoping import scope_filter
from server.sites.models import District, Site
from server.sync.feed import record_change, record_changes
from server.uow import Collision
from shared.chain import (
    REGULATOR_FOUND,
    Actor,
    ChainBreak,
    ChainEvent,
    EventType,
    HazardView,
    Refused,
    State,
    allowed_event_types,
    decide,
    fold,
    fold_one,
    seal_event,
    verify_chain,
)
from shared.clock import parse_iso, to_iso
from shared.deadlines import DEFAULT_POLICY, DeadlinePolicy
from shared.errors import DomainError, Refusal, not_found
from shared.events import NAMES_ACCOUNT, acts_next
from shared.responsibility import not_responsible
from shared.roles import Role
from shared.supervision import MAJOR_LISTED_REASON
from shared.taxonomy import Severity

log = logging.getLogger("hazardchain.hazards")
# a system event whose dedupe key is taken: one append and a batch answer it alike
DUPLICATE = Refusal("duplicate", "该事件已记录", "this event was already recorded")


def to_chain_event(row: HazardEvent) -> ChainEvent:
    return ChainEvent(
        id=row.id,
        hazard_id=row.hazard_id,
        seq=row.seq,
        type=row.type,
        actor_id=row.actor_id,
        actor_role=row.actor_role,
        at=row.at,
        payload=row.payload,
        prev_hash=row.prev_hash,
        hash=row.hash,
        device_time=row.device_time,
        next_owner=row.next_owner,
        next_deadline=row.next_deadline,
    )


def load_events(session: Session, hazard_id: str) -> list[ChainEvent]:
    """The chain in order, read as plain rows (no ORM identity tracking on the hot path)."""
    cols = [getattr(HazardEvent, f) for f in ChainEvent.__dataclass_fields__]
    rows = session.execute(
        select(*cols).where(HazardEvent.hazard_id == hazard_id).order_by(HazardEvent.seq)
    ).all()
    return [ChainEvent(*row) for row in rows]


# Bump when a fold step changes what it computes: stored heads of another version are refolded.
FOLD_VERSION = 1
_VIEW_FIELDS = tuple(HazardView.__dataclass_fields__)
_HEAD_KEY = f"v{FOLD_VERSION}:" + ",".join(_VIEW_FIELDS)


def head_of(view: HazardView) -> dict[str, Any]:
    """The fold at a chain's head as the projection stores it (``hazard.head``): the view's
    values are JSON already (payload values and strings); copied, as folds change views."""
    data = {name: copy.deepcopy(getattr(view, name)) for name in _VIEW_FIELDS}
    data["state"] = view.state.value
    data["_key"] = _HEAD_KEY
    return data


def view_at_head(hazard: Hazard, session: Session) -> HazardView:
    """The fold at the hazard's head: from the stored head when it is this fold's and at the
    projection's ``last_hash``, else from the whole chain (older rows, another fold version)."""
    view = _stored_view(hazard)
    return view if view is not None else fold(load_events(session, hazard.id))


def _stored_view(hazard: Hazard) -> HazardView | None:
    """The stored head as a view of our own (a copy: ``fold_one`` changes a view in place)."""
    head = hazard.head
    if not head or head.get("_key") != _HEAD_KEY or head.get("last_hash") != hazard.last_hash:
        return None
    data = {name: copy.deepcopy(head[name]) for name in _VIEW_FIELDS}
    data["state"] = State(data["state"])
    return HazardView(**data)


def roles_text(roles: set[Role] | frozenset[Role]) -> str:
    """Roles as the projection stores them: sorted, space-separated."""
    return " ".join(sorted(r.value for r in roles))


def projection_of(view: HazardView, site: Site) -> dict[str, Any]:
    """Every projected column as the fold and the site make it: what ``_project`` writes and
    what ``server.tlog.verify`` compares a stored projection with, field by field."""
    return {
        "site_id": site.id,
        "district_id": site.district_id,
        "industry": view.industry or site.industry,
        "severity": view.severity,
        "state": view.state.value,
        "title": view.title,
        "description": view.description,
        "responsible_unit": view.responsible_unit,
        "responsible_person": view.responsible_person,
        "responsible_user_id": view.responsible_user_id,
        "deadline": parse_iso(view.deadline) if view.deadline else None,
        "overdue": view.overdue,
        "escalation_level": view.escalation_level,
        "next_roles": roles_text(acts_next(view)),
        "instruction_for": roles_text({Role(i["to_role"]) for i in view.instructions}),
        "plan_complete": view.plan_complete,
        "origin": view.origin,
        "self_closed": view.self_closed,
        "spot_check": view.spot_check,
        "matter_id": view.matter_id,
        "link_id": view.link_id,
        "inspection_id": view.inspection_id,
        "event_count": view.event_count,
        "last_hash": view.last_hash,
        "updated_at": parse_iso(view.updated_at),
        "closed_at": parse_iso(view.closed_at) if view.closed_at else None,
        "reported_by": view.reported_by,
        "reported_at": parse_iso(view.reported_at),
    }


def _project(
    session: Session,
    hazard: Hazard | None,
    view: HazardView,
    site: Site,
    numbers: NumberBook | None = None,
) -> Hazard:
    """Rewrite the read model from the fold; the fold is the only source of truth."""
    if hazard is None:
        at = parse_iso(view.reported_at)
        hazard = Hazard(
            id=view.hazard_id,
            last_hash=view.last_hash,
            reported_by=view.reported_by,
            number=(
                numbers.next(site.district_id, at)
                if numbers is not None
                else next_number(session, site.district_id, at)
            ),  # fmt: skip
            site_id=site.id,
            district_id=site.district_id,
            industry=site.industry,
            severity=view.severity,
            state=view.state,
            title=view.title,
            reported_at=parse_iso(view.reported_at),
            updated_at=parse_iso(view.updated_at),
        )
    for name, value in projection_of(view, site).items():
        if getattr(hazard, name) != value:  # a model's setattr is dear; most columns stay
            setattr(hazard, name, value)
    hazard.head = head_of(view)  # a cache of the fold, not part of the verified projection
    session.add(hazard)
    return hazard


def _check_evidence_held(
    session: Session, citer: Caller | None, decision_payload: dict[str, Any]
) -> None:
    """Evidence must be on the server, and the citer's to use, before a hazard can move
    towards closure."""
    blobs.require_held(
        session,
        citer,
        decision_payload.get("evidence") or [],
        "evidence",
        "整改照片",
        "evidence photo(s)",
    )


@dataclass(frozen=True)
class Appended:
    event: ChainEvent
    view: HazardView
    duplicate: bool = False


def _existing_event(session: Session, event_id: str, hazard_id: str, etype: str, actor: Actor):
    row = session.get(HazardEvent, event_id)
    if row is None:
        return None
    if row.hazard_id != hazard_id or row.type != etype or row.actor_id != actor.id:
        raise DomainError.of(
            "id_reuse",
            "该事件编号已被另一条记录使用",
            "this event id was already used for a different event",
            fields={"id": "already used for a different event"},
        )
    return row


def append(
    session: Session,
    *,
    actor: Actor,
    hazard_id: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    event_id: str | None = None,
    device_time: str | None = None,
    device_id: str | None = None,
    dedupe_key: str | None = None,
    site: Site | None = None,
    citer: Caller | None = None,
) -> Appended:
    """Append one event under the chain's lock; flushed, the edge commits (``server.uow``).

    A write race (another writer took the chain's next ``seq`` or the event's ``dedupe_key``)
    raises ``IntegrityError``: the edge rolls the unit back and runs it again, and the retry
    reads the winner's event (an idempotent replay, or ``duplicate`` for a ``dedupe_key``).
    ``citer`` is the user whose right to cite the event's photos is checked
    (``blobs.link_to_hazard``); None only for the system's own events.
    """
    # An id we mint cannot exist yet: skip the idempotency lookup on the hot path.
    intent = _Intent(
        actor=actor,
        hazard_id=hazard_id,
        event_type=event_type,
        payload=payload,
        now=now,
        policy=policy,
        event_id=event_id or str(uuid.uuid4()),
        minted=event_id is None,
        device_time=device_time,
        device_id=device_id,
        dedupe_key=dedupe_key,
        site=site,
        citer=citer,
    )
    return _append_once(session, intent)


@dataclass(frozen=True)
class _Intent:
    """One event to append, as ``append`` was asked for it (its id minted if none was given)."""

    actor: Actor
    hazard_id: str
    event_type: str
    payload: dict[str, Any]
    now: datetime
    policy: DeadlinePolicy
    event_id: str
    minted: bool
    device_time: str | None
    device_id: str | None
    dedupe_key: str | None
    site: Site | None
    citer: Caller | None


def _swap_head(session: Session, hazard_id: str, old: str, new: str) -> None:
    """Compare-and-swap of the chain's head: the one statement that claims the next link. It
    takes the row's write lock until commit, so a concurrent appender waits here, then finds
    the head moved and its unit is run again from the new head (``server.uow.Collision``).
    The session's copy of the row may be stale (read in an earlier unit): then the swap
    fails the same way, and the retry reads it afresh."""
    swapped = session.connection().execute(
        update(Hazard.__table__)
        .where(Hazard.__table__.c.id == hazard_id, Hazard.__table__.c.last_hash == old)
        .values(last_hash=new)
    )
    if swapped.rowcount != 1:
        raise Collision(f"chain {hazard_id} moved on from {old[:12]}")


def _recorded(session: Session, dedupe_key: str) -> bool:
    """Read under the chain's lock, so a system event a concurrent writer already recorded (a
    second replica's job, or the edge's retry after the race) is refused as a duplicate."""
    return (
        session.exec(select(HazardEvent.id).where(HazardEvent.dedupe_key == dedupe_key)).first()
        is not None
    )


def _append_once(session: Session, it: _Intent) -> Appended:
    actor, hazard_id, event_id, now, site = it.actor, it.hazard_id, it.event_id, it.now, it.site
    existing = (
        None if it.minted else _existing_event(session, event_id, hazard_id, it.event_type, actor)
    )
    if existing is not None:
        return Appended(to_chain_event(existing), fold(load_events(session, hazard_id)), True)
    hazard = session.get(Hazard, hazard_id)
    if it.event_type == EventType.reported:
        if hazard is not None:
            raise DomainError.of(
                "already_exists",
                "该隐患编号已存在",
                "a hazard with this id exists",
                fields={"id": "already exists"},
            )
        view = None
    else:
        if hazard is None:
            raise not_found("隐患", "hazard")
        view = view_at_head(hazard, session)  # one step on from the head, not the whole chain
    decision = decide(view, it.event_type, actor, it.payload, now, it.policy)
    if it.dedupe_key and _recorded(session, it.dedupe_key):
        raise Refused(DUPLICATE)
    if decision.type in (EventType.rectification_submitted, EventType.self_closed):
        _check_evidence_held(session, it.citer, decision.payload)
    ev = seal_event(
        event_id=event_id,
        hazard_id=hazard_id,
        decision=decision,
        actor=actor,
        at=now,
        prev=view,
        device_time=it.device_time,
    )
    if hazard is not None:
        _swap_head(session, hazard_id, view.last_hash, ev.hash)
    new_view = fold_one(view, ev)  # one step on, not the whole chain again (view is ours)
    if site is None:
        site = session.get(Site, new_view.site_id)
    # The event row is inserted after the projection row exists (FK order).
    projected = _project(session, hazard, new_view, site)
    session.flush()
    session.add(_event_row(ev, it.dedupe_key, it.device_id))
    blobs.link_to_hazard(
        session,
        it.citer,
        hazard_id,
        [*(ev.payload.get("photos") or []), *(ev.payload.get("evidence") or [])],
    )
    # the change feed entry commits with the event, at a position that follows commit order
    record_change(
        session,
        kind="event",
        entity_id=ev.id,
        at=now,
        hazard_id=hazard_id,
        district_id=projected.district_id,
        site_id=projected.site_id,
    )
    session.flush()
    log.info(
        "event appended",
        extra={
            "hazard_id": hazard_id,
            "type": ev.type,
            "seq": ev.seq,
            "actor_id": actor.id,
            "state": new_view.state.value,
        },
    )
    return Appended(ev, new_view)


@dataclass(frozen=True)
class SystemEvent:
    """An event the system appends on its own (a job's ``overdue`` or ``escalated``); its
    ``dedupe_key`` makes it happen once whoever runs the job."""

    hazard_id: str
    event_type: EventType
    payload: dict[str, Any]
    dedupe_key: str


def load_chains(session: Session, hazard_ids: Sequence[str]) -> dict[str, list[ChainEvent]]:
    """Several chains in one query, each in order."""
    cols = [getattr(HazardEvent, f) for f in ChainEvent.__dataclass_fields__]
    chains: dict[str, list[ChainEvent]] = {hid: [] for hid in hazard_ids}
    for row in session.execute(
        select(*cols)
        .where(col(HazardEvent.hazard_id).in_(list(hazard_ids)))
        .order_by(HazardEvent.hazard_id, HazardEvent.seq)
    ).all():
        chains[row.hazard_id].append(ChainEvent(*row))
    return chains


def append_many(
    session: Session,
    events: Sequence[SystemEvent],
    *,
    now: datetime,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> list[Appended | Refused]:
    """System events on many hazards as one set: the hazards locked in id order (their heads
    with them; a chain only for a hazard without one), sites and the events' dedupe keys read in one query each, every event decided, sealed and
    folded in memory (a refused one is dropped alone and answered by its ``Refused``), the
    feed positions taken once, last, and everything written at one flush (one multi-row
    statement per table; the event rows through the ORM like every other chain write).
    Flushed, not committed: the job commits each batch (``server.uow``); a race with another
    writer (a dedupe key or ``seq`` taken meanwhile) raises ``IntegrityError`` and the whole
    batch is retried, its events then refused as duplicates."""
    if not events:
        return []
    ids = sorted({e.hazard_id for e in events})
    hazards = {
        h.id: h
        for h in session.exec(
            select(Hazard).where(col(Hazard.id).in_(ids)).order_by(Hazard.id).with_for_update()
        ).all()
    }
    views = {hid: v for hid, h in hazards.items() if (v := _stored_view(h)) is not None}
    chains = load_chains(session, [hid for hid in hazards if hid not in views])
    views |= {hid: fold(chain) for hid, chain in chains.items() if chain}
    keys = [e.dedupe_key for e in events]
    taken = set(
        session.exec(select(HazardEvent.dedupe_key).where(col(HazardEvent.dedupe_key).in_(keys)))
    )
    site_ids = {h.site_id for h in hazards.values()}
    sites = {s.id: s for s in session.exec(select(Site).where(col(Site.id).in_(site_ids)))}
    out: list[Appended | Refused] = []
    changes: list[dict[str, Any]] = []
    for e in events:
        hazard, view = hazards.get(e.hazard_id), views.get(e.hazard_id)
        try:
            if hazard is None or view is None:
                raise Refused(Refusal("not_found", "隐患不存在", "hazard not found"))
            decision = decide(view, e.event_type, SYSTEM_ACTOR, e.payload, now, policy)
            if e.dedupe_key in taken:
                raise Refused(DUPLICATE)
        except Refused as refused:
            out.append(refused)
            continue
        ev = seal_event(
            event_id=str(uuid.uuid4()),
            hazard_id=e.hazard_id,
            decision=decision,
            actor=SYSTEM_ACTOR,
            at=now,
            prev=view,
        )
        new_view = views[e.hazard_id] = fold_one(view, ev)
        projected = _project(session, hazard, new_view, sites[new_view.site_id])
        session.add(_event_row(ev, e.dedupe_key, None))
        taken.add(e.dedupe_key)
        changes.append(
            {
                "kind": "event",
                "entity_id": ev.id,
                "at": now,
                "hazard_id": e.hazard_id,
                "district_id": projected.district_id,
                "site_id": projected.site_id,
            }
        )
        out.append(Appended(ev, new_view))
    record_changes(session, changes)
    session.flush()
    for done in out:
        if isinstance(done, Appended):
            log.info(
                "event appended",
                extra={
                    "hazard_id": done.event.hazard_id,
                    "type": done.event.type,
                    "seq": done.event.seq,
                    "actor_id": SYSTEM_ACTOR.id,
                    "state": done.view.state.value,
                },
            )
    return out


BATCH_KEY = "hazardchain.chain_batch"
_HT = Hazard.__table__


class ChainBatch:
    """Chain events of many users' ops staged in memory and written at one flush (the sync
    push's set-based path, issue 13): each op is judged against the fold its hazard has
    reached in this batch, sealed and folded one step on, its projection, event row, photo
    links and feed entry staged; a refused op raises before it stages anything, so it is
    dropped alone. Just before any flush of the session (``server.db``'s hook calls
    ``before_flush``), each hazard's head moves by one compare-and-swap from the ``last_hash``
    it had when this batch first touched it (a concurrent writer makes the whole unit retry,
    ``server.uow.Collision``), and the staged feed entries take their positions at once, in
    staging order, so the log's leaves follow them. Nothing is committed here.

    Ops it does not take (``can_take`` says no: an event id the database already holds, an
    inspection) go through the services after a flush; ``forget`` then drops what it cached."""

    def __init__(self, session: Session, *, now: datetime, policy: DeadlinePolicy) -> None:
        self.session, self.now, self.policy = session, now, policy
        self.views: dict[str, HazardView] = {}
        self.heads: dict[str, str] = {}  # hazard id -> its stored last_hash, for the swap
        self.staged: list[dict[str, Any]] = []  # feed entries not yet given a position
        self.staged_ids: set[str] = set()
        self.held_ids: set[str] = set()  # event ids the database holds (prefetched)
        self.absent: set[str] = set()  # hazard ids the database does not hold
        self.hazards: dict[str, Hazard] = {}  # read or staged by this batch
        self.created: set[str] = set()  # staged as new since the last flush (no swap)
        self.sites: dict[str, Site] = {}
        self.numbers = NumberBook(session)
        self.recheck = False  # a service wrote events this batch did not stage
        session.info[BATCH_KEY] = self

    def close(self) -> None:
        self.session.info.pop(BATCH_KEY, None)

    def prefetch(self, hazard_ids: set[str], event_ids: set[str], site_ids: set[str]) -> None:
        """The batch's hazards, their sites and those its reports name (held here: the
        session's identity map keeps only what something references), and which event ids
        are taken, in one query each."""
        s = self.session
        found = s.exec(select(Hazard).where(col(Hazard.id).in_(list(hazard_ids)))).all()
        self.hazards = {h.id: h for h in found}
        self.absent = hazard_ids - set(self.hazards)
        site_ids = site_ids | {h.site_id for h in found}
        self.sites = {
            x.id: x for x in s.exec(select(Site).where(col(Site.id).in_(list(site_ids)))).all()
        }
        self.held_ids = set(
            s.exec(select(HazardEvent.id).where(col(HazardEvent.id).in_(list(event_ids)))).all()
        )

    def can_take(self, event_id: str) -> bool:
        """False for an id an event already holds: its replay, ``id_reuse`` or not-found
        answer is the services' (after a flush, so they see this batch's events too)."""
        if event_id in self.held_ids or event_id in self.staged_ids:
            return False
        return not self.recheck or self.session.get(HazardEvent, event_id) is None

    def forget(self) -> None:
        """After a service wrote through the session: read heads and numbers afresh."""
        self.recheck = True
        self.views.clear()
        self.numbers.forget()
        self.absent.clear()
        self.hazards.clear()

    def _hazard(self, hazard_id: str) -> Hazard | None:
        if hazard_id in self.absent:
            return None
        hazard = self.hazards.get(hazard_id)
        if hazard is None:
            hazard = self.hazards[hazard_id] = self.session.get(Hazard, hazard_id)
        return hazard

    def _view(self, hazard: Hazard) -> HazardView:
        view = self.views.get(hazard.id)
        if view is None:
            view = view_at_head(hazard, self.session)
        return view

    def report(
        self,
        caller: Caller,
        *,
        payload: dict[str, Any],
        hazard_id: str,
        device_time: str | None,
        device_id: str | None,
    ) -> list[dict[str, Any]]:
        """``report``'s checks and events (a major hazard's escalation too), staged; returns
        the feed entries staged for it."""
        site = _site_in_scope(self.session, caller, str(payload.get("site_id")))
        _check_matter_link(self.session, payload.get("matter_id"), payload.get("link_id"))
        if self._hazard(hazard_id) is not None:
            raise DomainError.of(
                "already_exists",
                "该隐患编号已存在",
                "a hazard with this id exists",
                fields={"id": "already exists"},
            )
        payload = {**payload, "industry": site.industry}
        decision = decide(None, EventType.reported, caller.actor, payload, self.now, self.policy)
        _check_evidence_needed(self.session, caller, decision)
        mark = len(self.staged)
        view = self._stage(caller.actor, caller, hazard_id, hazard_id, None, None, decision,
                           site, device_time, device_id, None)  # fmt: skip
        self.absent.discard(hazard_id)
        if view.matter_id:
            self.session.add(
                HazardMatter(hazard_id=hazard_id, matter_id=view.matter_id, link_id=view.link_id)
            )
        if view.severity == Severity.major:
            payload = {"level": 1, "reason": MAJOR_LISTED_REASON}
            decision = decide(view, EventType.escalated, SYSTEM_ACTOR, payload, self.now,
                              self.policy)  # fmt: skip
            hazard = self.hazards[hazard_id]
            self._stage(SYSTEM_ACTOR, None, hazard_id, str(uuid.uuid4()), hazard, view,
                        decision, site, None, None, f"escalated:{hazard_id}:1")  # fmt: skip
        return self.staged[mark:]

    def append_by_caller(
        self,
        caller: Caller,
        *,
        hazard_id: str,
        event_type: str,
        payload: dict[str, Any],
        event_id: str,
        device_time: str | None,
        device_id: str | None,
        before_write: Any = None,
    ) -> list[dict[str, Any]]:
        """``append_by_caller``'s checks and event, staged; ``before_write`` (no arguments)
        runs once the event is accepted, before it is staged (an op's own extra rows)."""
        hazard = self._hazard(hazard_id)
        if not sees(caller, hazard):
            raise not_found("隐患", "hazard")
        if event_type in NAMES_ACCOUNT:
            _check_assignee(self.session, hazard, payload)
        refusal = not_responsible(
            caller.role, caller.user.id, event_type, hazard.responsible_user_id
        )
        if refusal is not None:
            raise DomainError(refusal)
        view = self._view(hazard)
        decision = decide(view, event_type, caller.actor, payload, self.now, self.policy)
        _check_evidence_needed(self.session, caller, decision)
        if before_write is not None:
            before_write()
        mark = len(self.staged)
        site = self.sites.get(hazard.site_id) or self.session.get(Site, hazard.site_id)
        self._stage(caller.actor, caller, hazard_id, event_id, hazard, view, decision, site,
                    device_time, device_id, None)  # fmt: skip
        return self.staged[mark:]

    def _stage(
        self,
        actor: Actor,
        citer: Caller | None,
        hazard_id: str,
        event_id: str,
        hazard: Hazard | None,
        view: HazardView | None,
        decision: Any,
        site: Site,
        device_time: str | None,
        device_id: str | None,
        dedupe_key: str | None,
    ) -> HazardView:
        ev = seal_event(event_id=event_id, hazard_id=hazard_id, decision=decision, actor=actor,
                        at=self.now, prev=view, device_time=device_time)  # fmt: skip
        if hazard is None:
            self.created.add(hazard_id)
        elif hazard_id not in self.created:
            self.heads.setdefault(hazard_id, hazard.last_hash)
        new_view = self.views[hazard_id] = fold_one(view, ev)  # the view is ours (a copy)
        projected = self.hazards[hazard_id] = _project(
            self.session, hazard, new_view, site, self.numbers
        )
        self.session.add(_event_row(ev, dedupe_key, device_id))
        self.staged_ids.add(ev.id)
        blobs.link_to_hazard(self.session, citer, hazard_id,
                             [*(ev.payload.get("photos") or []),
                              *(ev.payload.get("evidence") or [])])  # fmt: skip
        self.staged.append(
            {
                "kind": "event",
                "entity_id": ev.id,
                "at": self.now,
                "hazard_id": hazard_id,
                "district_id": projected.district_id,
                "site_id": projected.site_id,
            }
        )
        log.info(
            "event appended",
            extra={"hazard_id": hazard_id, "type": ev.type, "seq": ev.seq,
                   "actor_id": actor.id, "state": new_view.state.value},
        )  # fmt: skip
        return new_view

    def before_flush(self) -> None:
        """Claim every touched chain's next link (one compare-and-swap each, in one
        statement) and give the staged feed entries their positions (one take of the
        clock), just before the rows they guard are written."""
        conn = self.session.connection()
        self.created.clear()
        if self.heads:
            params = [
                {"hid": hid, "old": old, "new": self.hazards[hid].last_hash}
                for hid, old in sorted(self.heads.items())
            ]
            swapped = conn.execute(
                update(_HT)
                .where(_HT.c.id == bindparam("hid"), _HT.c.last_hash == bindparam("old"))
                .values(last_hash=bindparam("new")),
                params,
            )
            self.heads.clear()
            if swapped.rowcount != len(params):
                raise Collision(f"{len(params) - swapped.rowcount} chain(s) moved on")
        if self.staged:
            entries, self.staged = self.staged, []
            seqs = record_changes(self.session, [dict(e) for e in entries])
            for entry, seq in zip(entries, seqs, strict=True):
                entry["seq"] = seq


def _check_evidence_needed(session: Session, citer: Caller | None, decision: Any) -> None:
    if decision.type in (EventType.rectification_submitted, EventType.self_closed):
        _check_evidence_held(session, citer, decision.payload)


def _event_row(ev: ChainEvent, dedupe_key: str | None, device_id: str | None) -> HazardEvent:
    return HazardEvent(
        id=ev.id,
        hazard_id=ev.hazard_id,
        seq=ev.seq,
        type=ev.type,
        actor_id=ev.actor_id,
        actor_role=ev.actor_role,
        at=ev.at,
        device_time=ev.device_time,
        payload=ev.payload,
        next_owner=ev.next_owner,
        next_deadline=ev.next_deadline,
        prev_hash=ev.prev_hash,
        hash=ev.hash,
        dedupe_key=dedupe_key,
        device_id=device_id,
    )


# ------------------------------------------------------------------ use cases


def _site_in_scope(session: Session, caller: Caller, site_id: str) -> Site:
    site = session.get(Site, site_id)
    if site is None or not caller.scope.covers(district_id=site.district_id, site_id=site.id):
        raise DomainError.of(
            "site_not_found",
            "场所不存在或不在您的辖区",
            "site not found",
            fields={"site_id": "site not found"},
        )
    return site


def _check_matter_link(session: Session, matter_id: str | None, link_id: str | None) -> None:
    if link_id and not matter_id:
        raise DomainError.of(
            "invalid_input",
            "请同时指定事项",
            "link_id needs matter_id",
            fields={"matter_id": "required with link_id"},
        )
    if matter_id:
        from server.matters.models import Matter

        if session.get(Matter, matter_id) is None:
            raise DomainError.of(
                "invalid_input",
                "事项不存在",
                "unknown matter",
                fields={"matter_id": "unknown matter"},
            )
    if link_id:
        link = session.get(MatterLink, link_id)
        if link is None or link.matter_id != matter_id:
            raise DomainError.of(
                "invalid_input",
                "环节不存在",
                "unknown link of this matter",
                fields={"link_id": "unknown link of this matter"},
            )


def report(
    session: Session,
    caller: Caller | None,
    *,
    payload: dict[str, Any],
    now: datetime,
    hazard_id: str | None = None,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    device_time: str | None = None,
    device_id: str | None = None,
    actor: Actor | None = None,
) -> Appended:
    """Report a hazard; a major one is escalated (挂牌督办) at once by the system."""
    actor = actor or caller.actor
    site_id = payload.get("site_id")
    if caller is not None:
        check_id_unseen(session, caller, hazard_id)
        site = _site_in_scope(session, caller, str(site_id))
    else:
        site = session.get(Site, str(site_id))
        if site is None:
            raise DomainError.of(
                "site_not_found",
                "场所不存在",
                "site not found",
                fields={"site_id": "site not found"},
            )
    _check_matter_link(session, payload.get("matter_id"), payload.get("link_id"))
    payload = {**payload, "industry": site.industry}
    hazard_id = hazard_id or str(uuid.uuid4())
    done = append(
        session,
        actor=actor,
        hazard_id=hazard_id,
        event_type=EventType.reported,
        payload=payload,
        now=now,
        policy=policy,
        event_id=hazard_id,
        device_time=device_time,
        device_id=device_id,
        site=site,
        citer=caller,
    )
    if not done.duplicate and done.view.matter_id:
        session.add(
            HazardMatter(
                hazard_id=hazard_id, matter_id=done.view.matter_id, link_id=done.view.link_id
            )
        )
        session.flush()
    if not done.duplicate and done.view.severity == Severity.major:
        done = append(
            session,
            actor=SYSTEM_ACTOR,
            hazard_id=hazard_id,
            event_type=EventType.escalated,
            payload={"level": 1, "reason": MAJOR_LISTED_REASON},
            now=now,
            policy=policy,
            dedupe_key=f"escalated:{hazard_id}:1",
            site=site,
        )
    return done


def check_id_unseen(session: Session, caller: Caller, event_id: str | None) -> None:
    """A client-chosen event id that a record out of the caller's scope already holds is
    answered as not found, like any id out of scope: a refusal must not tell that the id
    exists in another district. (In scope, ``append`` says ``id_reuse`` or replays it.)"""
    row = session.get(HazardEvent, event_id) if event_id else None
    if row is not None and not sees(caller, session.get(Hazard, row.hazard_id)):
        raise not_found("隐患", "hazard")


def sees(caller: Caller, hazard: Hazard | None) -> bool:
    return hazard is not None and caller.scope.covers(
        district_id=hazard.district_id, site_id=hazard.site_id
    )


def get_in_scope(session: Session, caller: Caller, hazard_id: str) -> Hazard:
    hazard = session.get(Hazard, hazard_id)
    if not sees(caller, hazard):
        raise not_found("隐患", "hazard")
    return hazard


def _check_assignee(session: Session, hazard: Hazard, payload: dict[str, Any]) -> None:
    from server.users.models import User, UserSite

    uid = payload.get("responsible_user_id")
    if not uid:
        return
    user = session.get(User, str(uid)) if isinstance(uid, str) else None
    bound = user is not None and (
        user.role != Role.enterprise or session.get(UserSite, (user.id, hazard.site_id)) is not None
    )
    if not bound:
        raise DomainError.of(
            "invalid_assignee",
            "责任人账号不存在或不属于该场所",
            "responsible user not found or not bound to this site",
            fields={"responsible_user_id": "unknown user or not bound to this site"},
        )


def append_by_caller(
    session: Session,
    caller: Caller,
    *,
    hazard_id: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    event_id: str | None = None,
    device_time: str | None = None,
    device_id: str | None = None,
) -> Appended:
    """A user's event on a hazard in their scope; ``reported`` goes through ``report``."""
    hazard = get_in_scope(session, caller, hazard_id)
    check_id_unseen(session, caller, event_id)
    if event_type in NAMES_ACCOUNT:
        _check_assignee(session, hazard, payload)
    refusal = not_responsible(caller.role, caller.user.id, event_type, hazard.responsible_user_id)
    if refusal is not None:
        raise DomainError(refusal)
    return append(
        session,
        actor=caller.actor,
        hazard_id=hazard_id,
        event_type=event_type,
        payload=payload,
        now=now,
        policy=policy,
        event_id=event_id,
        device_time=device_time,
        device_id=device_id,
        citer=caller,
    )


@dataclass(frozen=True)
class HazardFilter:
    state: Sequence[str] = ()
    severity: str | None = None
    industry: str | None = None
    district_id: str | None = None
    site_id: str | None = None
    matter_id: str | None = None
    link_id: str | None = None
    overdue: bool | None = None
    escalated: bool | None = None
    responsible_user_id: str | None = None
    text: str | None = None
    origin: str | None = None  # "self" (the enterprise found it), or one of ORIGINS
    spot_check: str | None = None
    awaiting: Caller | None = None  # only what this caller acts on next ("待我处理")
    reported_from: datetime | None = None  # [from, to): reported in this window
    reported_to: datetime | None = None
    updated_since: datetime | None = None  # changed after this instant


def awaiting_clause(role: Role, user_id: str | None):
    """``shared.events.awaits`` over the projection: the hazards whose next step is this
    user's (an admin does an officer's work)."""
    role = Role.officer if role is Role.admin else role
    clause = col(Hazard.next_roles).contains(role.value)
    if role is Role.enterprise:
        clause = clause & or_(
            col(Hazard.responsible_user_id).is_(None), Hazard.responsible_user_id == user_id
        )
    return clause


def filtered_query(session: Session, caller: Caller, f: HazardFilter, now: datetime):
    """The scoped, filtered hazard query; shared by the list, exports and counts."""
    q = select(Hazard).where(scope_filter(caller.scope, Hazard.district_id, Hazard.site_id))
    if f.state:
        q = q.where(col(Hazard.state).in_(list(f.state)))
    if f.severity:
        q = q.where(Hazard.severity == f.severity)
    if f.industry:
        q = q.where(Hazard.industry == f.industry)
    if f.district_id:
        q = q.where(col(Hazard.district_id).in_(descendants(session, {f.district_id})))
    if f.site_id:
        q = q.where(Hazard.site_id == f.site_id)
    if f.matter_id:
        tagged = select(HazardMatter.hazard_id).where(HazardMatter.matter_id == f.matter_id)
        if f.link_id:
            tagged = tagged.where(HazardMatter.link_id == f.link_id)
        q = q.where(col(Hazard.id).in_(tagged))
    if f.overdue is not None:
        past = overdue_clause(now)
        q = q.where(past if f.overdue else ~past)
    if f.escalated is not None:
        q = q.where(
            (Hazard.escalation_level > 0) if f.escalated else (Hazard.escalation_level == 0)
        )
    if f.responsible_user_id:
        q = q.where(Hazard.responsible_user_id == f.responsible_user_id)
    if f.origin == "self":
        q = q.where(Hazard.origin != REGULATOR_FOUND)
    elif f.origin:
        q = q.where(Hazard.origin == f.origin)
    if f.spot_check:
        q = q.where(Hazard.spot_check == f.spot_check)
    if f.awaiting is not None:
        q = q.where(awaiting_clause(f.awaiting.role, f.awaiting.user.id))
    q = paging.in_window(q, Hazard.reported_at, f.reported_from, f.reported_to)
    q = paging.in_window(q, Hazard.updated_at, since=f.updated_since)
    if f.text:
        escaped = f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{escaped}%"
        q = q.where(
            or_(
                col(Hazard.title).ilike(like, escape="\\"),
                col(Hazard.description).ilike(like, escape="\\"),
                col(Hazard.responsible_unit).ilike(like, escape="\\"),
                col(Hazard.number).ilike(like, escape="\\"),  # 隐患编号, read out on the phone
            )
        )
    return q


HAZARD_SORTS = {
    "reported_at": Hazard.reported_at,
    "updated_at": Hazard.updated_at,
    "severity": Hazard.severity,
    "title": Hazard.title,
}


def list_page(
    session: Session,
    caller: Caller,
    f: HazardFilter,
    now: datetime,
    *,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
) -> tuple[list[Hazard], str | None, int]:
    """Newest first unless ``sort`` says, keyset-paged (``server.paging``) so pages stay
    stable under inserts."""
    order = paging.parse_sort(sort, HAZARD_SORTS, "-reported_at")
    q = filtered_query(session, caller, f, now)
    return paging.page(session, q, order, Hazard.id, limit=limit, cursor=cursor)


def chain_of(session: Session, caller: Caller, hazard_id: str) -> tuple[Hazard, list[ChainEvent]]:
    hazard = get_in_scope(session, caller, hazard_id)
    return hazard, load_events(session, hazard_id)


@dataclass(frozen=True)
class CheckedChain:
    """A hazard as every reader shows it (API detail, console page, ``/chain/verify``): its
    events, what they fold to and the one integrity verdict."""

    hazard: Hazard
    events: list[ChainEvent]
    view: HazardView
    broken: ChainBreak | None
    folded: bool  # False: the chain could not be replayed; ``view`` is the stored projection


def check_chain(hazard: Hazard | None, events: Sequence[ChainEvent]) -> ChainBreak | None:
    """The one integrity check: every hash and link, a chain that exists at all, and the stored
    projection at the chain's end (a projection rewritten by hand is caught too)."""
    if not events:
        return None if hazard is None else ChainBreak(1, "", "missing_events")
    brk = verify_chain(events)
    if brk is None and hazard is not None and hazard.last_hash != events[-1].hash:
        return ChainBreak(events[-1].seq, events[-1].id, "projection_mismatch")
    return brk


def projection_view(hazard: Hazard) -> HazardView:
    """What the stored projection says, for a chain that can no longer be folded."""
    return HazardView(
        hazard_id=hazard.id,
        state=State(hazard.state),
        severity=hazard.severity,
        site_id=hazard.site_id,
        industry=hazard.industry,
        title=hazard.title,
        description=hazard.description,
        reported_by=hazard.reported_by,
        reported_at=to_iso(hazard.reported_at),
        responsible_unit=hazard.responsible_unit,
        responsible_person=hazard.responsible_person,
        responsible_user_id=hazard.responsible_user_id,
        deadline=to_iso(hazard.deadline) if hazard.deadline else None,
        overdue=hazard.overdue,
        escalation_level=hazard.escalation_level,
        matter_id=hazard.matter_id,
        link_id=hazard.link_id,
        inspection_id=hazard.inspection_id,
        origin=hazard.origin,
        self_closed=hazard.self_closed,
        spot_check=hazard.spot_check,
        event_count=hazard.event_count,
        last_hash=hazard.last_hash,
        updated_at=to_iso(hazard.updated_at),
        closed_at=to_iso(hazard.closed_at) if hazard.closed_at else None,
    )


def checked_chain(session: Session, caller: Caller, hazard_id: str) -> CheckedChain:
    """The hazard in the caller's scope with its chain checked; a damaged chain is shown from
    its projection (flagged broken), never a 500."""
    hazard, events = chain_of(session, caller, hazard_id)
    broken = check_chain(hazard, events)
    try:
        view, folded = fold(events), True
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # edited or missing events
        log.warning("chain does not fold", extra={"hazard_id": hazard_id, "error": str(exc)})
        view, folded = projection_view(hazard), False
        broken = broken or ChainBreak(1, events[0].id, "unfoldable")
    return CheckedChain(hazard, events, view, broken, folded)


def allowed_for(view: HazardView, role: Role) -> list[str]:
    return [et.value for et in allowed_event_types(view, role) if et is not EventType.reported]


def verify_one(session: Session, hazard_id: str) -> ChainBreak | None:
    return check_chain(session.get(Hazard, hazard_id), load_events(session, hazard_id))


def verify_all(session: Session) -> list[tuple[str, ChainBreak]]:
    """Every chain in the database, streamed per hazard; the CLI's ``chains verify``."""
    broken = []
    ids = session.exec(select(Hazard.id).order_by(Hazard.id)).all()
    for hid in ids:
        brk = verify_one(session, hid)
        if brk is not None:
            broken.append((hid, brk))
    return broken


def district_name(session: Session, district_id: str) -> str:
    d = session.get(District, district_id)
    return d.name if d else district_id
