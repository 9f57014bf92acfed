"""一件事一条链: a hazard is an append-only, hash-linked list of events.

Everything about a hazard's present (state, owner, deadline, overdue, escalation, 五落实 plan)
is a fold over its events, and which event may come next is decided by one table. The tablet
runs these functions offline and the server runs them to decide, so both always agree.

This module is the chain itself: links, hashing, verification, the view a fold builds. Each
event type (who, when, what it carries, its check, its fold step, its form) is one spec in
``shared.events``, which also holds ``decide`` and ``fold``; their names are importable from
here as well (``__getattr__`` below), so ``shared.chain`` stays the one place to import from.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from shared.clock import parse_iso, to_iso
from shared.errors import Refusal
from shared.roles import Role

if TYPE_CHECKING:
    from shared.events import EventType

GENESIS_HASH = "0" * 64
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TEXT = 4000


class State(StrEnum):
    reported = "reported"
    assigned = "assigned"
    rectifying = "rectifying"
    in_review = "in_review"
    verified = "verified"
    closed = "closed"
    cancelled = "cancelled"


OPEN_STATES = frozenset(s for s in State if s not in (State.closed, State.cancelled))
# While these states last, the responsible unit owes work against the deadline.
DEADLINE_STATES = frozenset({State.assigned, State.rectifying})


def overdue_now(state: str, deadline: datetime | None, flagged: bool, now: datetime) -> bool:
    """Overdue now: the one definition every list, count, metric, notice and screen uses
    (``server.hazards.overdue.overdue_clause`` is the same rule in SQL). Past a deadline that
    still binds counts before the job has flagged it, so a tablet shows it offline; while
    unassigned only the job's flag counts, as the officer's own step deadline is a setting the
    tablet does not hold. A flag on a hazard that has moved on (rectified, awaiting 复查) no
    longer counts: the late party has acted, and the next step has its own clock."""
    if state in DEADLINE_STATES:
        return deadline is not None and deadline < now
    return flagged and state == State.reported


# 五落实: responsibility, measures, funds, time limit, contingency plan.
PLAN_PARTS: tuple[str, ...] = ("responsibility", "measures", "funds", "deadline", "contingency")
PLAN_PART_NAMES = {
    "responsibility": ("责任落实", "Responsibility"),
    "measures": ("措施落实", "Measures"),
    "funds": ("资金落实", "Funds"),
    "deadline": ("时限落实", "Time limit"),
    "contingency": ("预案落实", "Contingency plan"),
}

# Who found a hazard: the enterprise on a self-inspection (自查), the enterprise reporting it
# otherwise (自报), or the regulator (an inspector's or officer's report).
REGULATOR_FOUND = "regulator"
ORIGINS: dict[str, tuple[str, str]] = {
    "self_inspection": ("企业自查发现", "Found by the enterprise's self-inspection"),
    "self_report": ("企业自报", "Reported by the enterprise"),
    REGULATOR_FOUND: ("监管发现", "Found by the regulator"),
}

ESCALATION_LEVELS = {0: "none", 1: "district", 2: "city"}
STATE_NAMES: dict[State, tuple[str, str]] = {
    State.reported: ("已上报", "Reported"),
    State.assigned: ("已交办", "Assigned"),
    State.rectifying: ("整改中", "Rectifying"),
    State.in_review: ("待复查", "In review"),
    State.verified: ("已验收", "Verified"),
    State.closed: ("已销号", "Closed"),
    State.cancelled: ("已撤销", "Cancelled"),
}


@dataclass(frozen=True)
class Actor:
    id: str
    role: Role
    name: str = ""


@dataclass(frozen=True)
class ChainEvent:
    """One stored link of a chain. ``hash`` covers every other field, ``prev_hash`` included."""

    id: str
    hazard_id: str
    seq: int
    type: str
    actor_id: str
    actor_role: str
    at: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str = ""
    device_time: str | None = None
    next_owner: dict[str, Any] | None = None
    next_deadline: str | None = None

    def body(self) -> dict[str, Any]:
        """Every field but ``hash``: what the hash covers. Shallow (the payload is shared, not
        copied): ``dataclasses.asdict`` deep-copies it and was most of a pull's time; the
        hashed bytes are the same (tests/shared/test_chain_body.py). Copy before mutating."""
        return {name: getattr(self, name) for name in _BODY_FIELDS}

    def sealed(self) -> ChainEvent:
        return replace(self, hash=event_hash(self.body()))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ChainEvent:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: data[k] for k in names if k in data})


_BODY_FIELDS = tuple(name for name in ChainEvent.__dataclass_fields__ if name != "hash")
BODY_FIELDS = _BODY_FIELDS  # what an event's hash covers, in ``body()``'s order


def canonical_json(value: Any) -> bytes:
    """Sorted keys, UTF-8, no whitespace: the one byte form that is hashed."""
    return json.dumps(
        value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def event_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(body))).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first event that fails: its position in the chain (1-based), id and why."""

    seq: int
    event_id: str
    reason: str


def verify_chain(events: Iterable[ChainEvent]) -> ChainBreak | None:
    """Recompute every hash and link; name the first event that does not match."""
    prev = GENESIS_HASH
    hazard_id: str | None = None
    for expected_seq, ev in enumerate(events, start=1):
        hazard_id = hazard_id or ev.hazard_id
        if ev.hash != event_hash(ev.body()):
            return ChainBreak(expected_seq, ev.id, "hash_mismatch")
        if ev.prev_hash != prev:
            return ChainBreak(expected_seq, ev.id, "prev_hash_mismatch")
        if ev.seq != expected_seq or ev.hazard_id != hazard_id:
            return ChainBreak(expected_seq, ev.id, "sequence_mismatch")
        prev = ev.hash
    return None


@dataclass
class HazardView:
    """The current state of a hazard, derived only from its events."""

    hazard_id: str
    state: State
    severity: str
    site_id: str
    industry: str | None
    title: str
    description: str
    reported_by: str
    reported_at: str
    responsible_unit: str | None = None
    responsible_person: str | None = None
    responsible_user_id: str | None = None
    link_owner: dict[str, Any] | None = None
    deadline: str | None = None
    link_deadline: str | None = None
    overdue: bool = False
    overdue_deadlines: list[str] = field(default_factory=list)
    escalation_level: int = 0
    # a leader's 挂牌督办 (level, reason, by, at) and the 批示 still awaiting their owner's 签收
    supervision: dict[str, Any] | None = None
    instructions: list[dict[str, Any]] = field(default_factory=list)
    plan: dict[str, str] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    last_rectifier: str | None = None
    last_verifier: str | None = None  # who did 复查 (separation of duties at 销号)
    pending_extension: dict[str, Any] | None = None
    rejections: int = 0
    closed_at: str | None = None
    cancel_reason: str | None = None
    matter_id: str | None = None
    link_id: str | None = None
    inspection_id: str | None = None
    item_id: str | None = None
    suggested_days: int | None = None  # the checklist item's default rectification time
    # 自查自改: who found it (``ORIGINS``, from the first event), whether the enterprise closed
    # it itself, and its 抽查 (spot-check): None, "drawn" (chosen, awaiting), "passed", "reopened"
    origin: str = "regulator"
    self_closed: bool = False
    spot_check: str | None = None
    event_count: int = 0
    last_hash: str = GENESIS_HASH
    updated_at: str = ""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def self_found(self) -> bool:
        return self.origin != REGULATOR_FOUND

    @property
    def plan_missing(self) -> list[str]:
        return [p for p in PLAN_PARTS if not self.plan.get(p)]

    @property
    def plan_complete(self) -> bool:
        return not self.plan_missing

    @property
    def supervising_level(self) -> str:
        return ESCALATION_LEVELS.get(self.escalation_level, "city")

    def is_overdue(self, now: datetime) -> bool:
        deadline = parse_iso(self.deadline) if self.deadline else None
        return overdue_now(self.state, deadline, self.overdue, now)


# ---------------------------------------------------------------- the transition table


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    states: frozenset[State] | None  # None: only as the first event


@dataclass(frozen=True)
class Decision:
    """An accepted event: its normalised payload and who must act next, by when."""

    type: EventType
    payload: dict[str, Any]
    next_owner: dict[str, Any] | None
    next_deadline: str | None


class Refused(Exception):
    """A transition the rules do not allow; ``refusal`` says why in both languages."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.en)
        self.refusal = refusal


def _refuse(code: str, zh: str, en: str, field_name: str | None = None) -> Refused:
    return Refused(Refusal(code, zh, en, {field_name: en} if field_name else {}))


def seal_event(
    *,
    event_id: str,
    hazard_id: str,
    decision: Decision,
    actor: Actor,
    at: datetime,
    prev: HazardView | None,
    device_time: str | None = None,
) -> ChainEvent:
    """Turn an accepted decision into the next hashed link of the chain."""
    return ChainEvent(
        id=event_id,
        hazard_id=hazard_id,
        seq=(prev.event_count if prev else 0) + 1,
        type=decision.type.value,
        actor_id=actor.id,
        actor_role=actor.role.value,
        at=to_iso(at),
        payload=decision.payload,
        prev_hash=prev.last_hash if prev else GENESIS_HASH,
        device_time=device_time,
        next_owner=decision.next_owner,
        next_deadline=decision.next_deadline,
    ).sealed()


# Built from the specs in shared.events (which imports this module, hence resolved lazily).
_FROM_EVENTS = frozenset(
    {
        "EventType",
        "EVENT_NAMES",
        "TRANSITIONS",
        "USER_EVENTS",
        "allowed_event_types",
        "decide",
        "fold",
        "fold_one",
    }
)


def __getattr__(name: str) -> Any:
    if name in _FROM_EVENTS:
        from shared import events

        return getattr(events, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
