"""一件事一条链: a hazard is an append-only, hash-linked list of events.

Everything about a hazard's present (state, owner, deadline, overdue, escalation, 五落实 plan)
is a fold over its events, and which event may come next is decided by one table. The tablet
runs these functions offline and the server runs them to decide, so both always agree.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.clock import parse_iso, to_iso
from shared.deadlines import DEFAULT_POLICY, DeadlinePolicy
from shared.errors import Refusal
from shared.roles import ROLE_NAMES, Role
from shared.taxonomy import Severity
from shared.text import clean, text_problem

GENESIS_HASH = "0" * 64
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TEXT = 4000


class EventType(StrEnum):
    reported = "reported"
    assigned = "assigned"
    plan_submitted = "plan_submitted"
    rectification_submitted = "rectification_submitted"
    verified = "verified"
    rejected = "rejected"
    extension_requested = "extension_requested"
    extension_granted = "extension_granted"
    overdue = "overdue"
    escalated = "escalated"
    note = "note"
    photo_added = "photo_added"
    closed = "closed"
    cancelled = "cancelled"


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

# 五落实: responsibility, measures, funds, time limit, contingency plan.
PLAN_PARTS: tuple[str, ...] = ("responsibility", "measures", "funds", "deadline", "contingency")
PLAN_PART_NAMES = {
    "responsibility": ("责任落实", "Responsibility"),
    "measures": ("措施落实", "Measures"),
    "funds": ("资金落实", "Funds"),
    "deadline": ("时限落实", "Time limit"),
    "contingency": ("预案落实", "Contingency plan"),
}

ESCALATION_LEVELS = {0: "none", 1: "district", 2: "city"}
EVENT_NAMES: dict[EventType, tuple[str, str]] = {
    EventType.reported: ("上报", "Reported"),
    EventType.assigned: ("交办", "Assigned"),
    EventType.plan_submitted: ("提交五落实方案", "Plan submitted"),
    EventType.rectification_submitted: ("提交整改", "Rectification submitted"),
    EventType.verified: ("复查通过", "Verified"),
    EventType.rejected: ("复查不通过", "Rejected"),
    EventType.extension_requested: ("申请延期", "Extension requested"),
    EventType.extension_granted: ("批准延期", "Extension granted"),
    EventType.overdue: ("逾期", "Overdue"),
    EventType.escalated: ("挂牌督办", "Escalated"),
    EventType.note: ("备注", "Note"),
    EventType.photo_added: ("添加照片", "Photo added"),
    EventType.closed: ("销号", "Closed"),
    EventType.cancelled: ("撤销（误报）", "Cancelled (false report)"),
}
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
        data = asdict(self)
        data.pop("hash")
        return data

    def sealed(self) -> ChainEvent:
        return replace(self, hash=event_hash(self.body()))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ChainEvent:
        names = cls.__dataclass_fields__.keys()
        return cls(**{k: data[k] for k in names if k in data})


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
    plan: dict[str, str] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    last_rectifier: str | None = None
    pending_extension: dict[str, Any] | None = None
    rejections: int = 0
    closed_at: str | None = None
    cancel_reason: str | None = None
    matter_id: str | None = None
    link_id: str | None = None
    inspection_id: str | None = None
    item_id: str | None = None
    suggested_days: int | None = None  # the checklist item's default rectification time
    event_count: int = 0
    last_hash: str = GENESIS_HASH
    updated_at: str = ""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def plan_missing(self) -> list[str]:
        return [p for p in PLAN_PARTS if not self.plan.get(p)]

    @property
    def plan_complete(self) -> bool:
        return not self.plan_missing

    @property
    def supervising_level(self) -> str:
        return ESCALATION_LEVELS.get(self.escalation_level, "city")

    def is_past_deadline(self, now: datetime) -> bool:
        """Overdue in time even before the job has flagged it (the app shows this offline)."""
        return (
            self.state in DEADLINE_STATES
            and self.deadline is not None
            and parse_iso(self.deadline) < now
        )


def fold(events: Iterable[ChainEvent | Mapping[str, Any]]) -> HazardView:
    """Replay events into the hazard's current state; pure and deterministic."""
    view: HazardView | None = None
    for raw in events:
        ev = raw if isinstance(raw, ChainEvent) else ChainEvent.from_mapping(raw)
        view = fold_one(view, ev)
    if view is None:
        raise ValueError("a chain has at least its reported event")
    return view


def fold_one(view: HazardView | None, ev: ChainEvent) -> HazardView:
    """One event onto a view, changing it in place (so a long chain folds in linear time);
    a caller that keeps the old view must pass a copy."""
    p = ev.payload
    et = EventType(ev.type)
    if view is None:
        if et is not EventType.reported:
            raise ValueError(f"chain must start with reported, not {ev.type}")
        view = HazardView(
            hazard_id=ev.hazard_id,
            state=State.reported,
            severity=p["severity"],
            site_id=p["site_id"],
            industry=p.get("industry"),
            title=p["title"],
            description=p.get("description", ""),
            reported_by=ev.actor_id,
            reported_at=ev.at,
            photos=list(p.get("photos", [])),
            matter_id=p.get("matter_id"),
            link_id=p.get("link_id"),
            inspection_id=p.get("inspection_id"),
            item_id=p.get("item_id"),
            suggested_days=p.get("deadline_days"),
        )
    elif et is EventType.assigned:
        view.state = State.assigned if view.state is State.reported else view.state
        view.responsible_unit = p["responsible_unit"]
        view.responsible_person = p["responsible_person"]
        view.responsible_user_id = p.get("responsible_user_id")
        _set_deadline(view, p["deadline"])
    elif et is EventType.plan_submitted:
        view.plan.update({k: v for k, v in p.items() if k in PLAN_PARTS and v})
        if view.state is State.assigned and (view.plan_complete or view.severity != Severity.major):
            view.state = State.rectifying
    elif et is EventType.rectification_submitted:
        view.state = State.in_review
        view.evidence = list(p["evidence"])
        view.photos.extend(x for x in p["evidence"] if x not in view.photos)
        view.last_rectifier = ev.actor_id
    elif et is EventType.verified:
        view.state = State.verified
    elif et is EventType.rejected:
        view.state = State.rectifying
        view.rejections += 1
    elif et is EventType.extension_requested:
        view.pending_extension = {
            "new_deadline": p["new_deadline"],
            "reason": p["reason"],
            "by": ev.actor_id,
        }
    elif et is EventType.extension_granted:
        view.pending_extension = None
        _set_deadline(view, p["new_deadline"])
    elif et is EventType.overdue:
        view.overdue = True
        view.overdue_deadlines.append(p["deadline"])
    elif et is EventType.escalated:
        view.escalation_level = max(view.escalation_level, int(p["level"]))
    elif et is EventType.photo_added:
        view.photos.extend(x for x in p["photos"] if x not in view.photos)
    elif et is EventType.closed:
        view.state = State.closed
        view.closed_at = ev.at
        view.overdue = False
    elif et is EventType.cancelled:
        view.state = State.cancelled
        view.cancel_reason = p["reason"]
        view.overdue = False
    if ev.next_owner is not None or et in (EventType.closed, EventType.cancelled):
        view.link_owner = ev.next_owner
        view.link_deadline = ev.next_deadline
    view.event_count = ev.seq
    view.last_hash = ev.hash
    view.updated_at = ev.at
    return view


def _set_deadline(view: HazardView, deadline: str) -> None:
    if deadline != view.deadline:
        view.deadline = deadline
        # overdue is per deadline: a new deadline starts clean
        view.overdue = deadline in view.overdue_deadlines


# ---------------------------------------------------------------- the transition table


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    states: frozenset[State] | None  # None: only as the first event


_ANY_LOGIN = frozenset({Role.inspector, Role.enterprise, Role.officer, Role.leader, Role.admin})
_OFFICER = frozenset({Role.officer, Role.admin})

TRANSITIONS: dict[EventType, Rule] = {
    EventType.reported: Rule(
        frozenset({Role.inspector, Role.enterprise, Role.officer, Role.admin}), None
    ),
    EventType.assigned: Rule(
        _OFFICER, frozenset({State.reported, State.assigned, State.rectifying})
    ),
    EventType.plan_submitted: Rule(
        frozenset({Role.enterprise, Role.officer}), frozenset({State.assigned, State.rectifying})
    ),
    EventType.rectification_submitted: Rule(
        frozenset({Role.enterprise, Role.officer}), frozenset({State.assigned, State.rectifying})
    ),
    EventType.verified: Rule(_OFFICER, frozenset({State.in_review})),
    EventType.rejected: Rule(_OFFICER, frozenset({State.in_review})),
    EventType.closed: Rule(_OFFICER, frozenset({State.verified})),
    EventType.extension_requested: Rule(
        frozenset({Role.enterprise, Role.officer}), frozenset({State.assigned, State.rectifying})
    ),
    EventType.extension_granted: Rule(
        _OFFICER, frozenset({State.assigned, State.rectifying, State.in_review})
    ),
    EventType.overdue: Rule(frozenset({Role.system}), DEADLINE_STATES),
    EventType.escalated: Rule(frozenset({Role.system, Role.officer, Role.admin}), OPEN_STATES),
    EventType.note: Rule(_ANY_LOGIN | {Role.system}, OPEN_STATES),
    EventType.photo_added: Rule(_ANY_LOGIN, OPEN_STATES),
    EventType.cancelled: Rule(_OFFICER, OPEN_STATES),
}

# Events a user may append from a device or the console (the rest come from the server).
USER_EVENTS = frozenset(
    et for et, r in TRANSITIONS.items() if r.roles & _ANY_LOGIN and et is not EventType.reported
)


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


def allowed_event_types(view: HazardView | None, role: Role) -> list[EventType]:
    """What this role could append now (payload aside): drives the app's and console's buttons."""
    out = []
    for et, rule in TRANSITIONS.items():
        if role not in rule.roles:
            continue
        if view is None:
            if rule.states is None:
                out.append(et)
        elif rule.states is not None and view.state in rule.states:
            out.append(et)
    return out


def decide(
    view: HazardView | None,
    event_type: str,
    actor: Actor,
    payload: Mapping[str, Any],
    now: datetime,
    policy: DeadlinePolicy = DEFAULT_POLICY,
) -> Decision:
    """Check an event against the chain's current state and normalise its payload.

    Raises ``Refused`` with a readable reason; never mutates ``view``.
    """
    try:
        et = EventType(event_type)
    except ValueError:
        raise _refuse(
            "unknown_event_type",
            f"未知的事件类型：{event_type}",
            f"unknown event type: {event_type}",
            "type",
        ) from None
    rule = TRANSITIONS[et]
    if actor.role not in rule.roles:
        zh_name, en_name = EVENT_NAMES[et]
        zh_role, en_role = ROLE_NAMES[actor.role]
        raise _refuse(
            "role_not_allowed",
            f"{zh_role}不能执行“{zh_name}”",
            f"{en_role} may not append '{en_name}'",
        )
    if rule.states is None:
        if view is not None:
            raise _refuse("already_reported", "该隐患已上报", "hazard already reported")
    else:
        if view is None:
            raise _refuse("not_reported", "隐患尚未上报", "hazard has not been reported")
        if view.state not in rule.states:
            zh_state, en_state = STATE_NAMES[view.state]
            zh_name, en_name = EVENT_NAMES[et]
            raise _refuse(
                "invalid_state",
                f"隐患当前状态为“{zh_state}”，不能执行“{zh_name}”",
                f"cannot append '{en_name}' while the hazard is {en_state.lower()}",
            )
    p = dict(payload or {})
    check = _CHECKS[et]
    return check(view, actor, p, now, policy)


# Each check validates one event type's payload against the state and returns the decision.


def _text(p: Mapping[str, Any], key: str, zh: str, required: bool = True) -> str | None:
    value = p.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _refuse("missing_field", f"请填写{zh}", f"{key} is required", key)
        return None
    if not isinstance(value, str):
        raise _refuse("invalid_field", f"{zh}必须是文字", f"{key} must be text", key)
    problem = text_problem(value)
    if problem:
        raise _refuse("invalid_text", f"{zh}含有无效字符", f"{key} {problem}", key)
    value = clean(value)
    if len(value) > MAX_TEXT:
        raise _refuse(
            "too_long",
            f"{zh}过长（最多{MAX_TEXT}字）",
            f"{key} is too long (max {MAX_TEXT} characters)",
            key,
        )
    return value


def _time(p: Mapping[str, Any], key: str, zh: str) -> datetime | None:
    value = p.get(key)
    if value in (None, ""):
        return None
    try:
        return parse_iso(str(value))
    except ValueError:
        raise _refuse(
            "invalid_time", f"{zh}不是有效时间", f"{key} is not an ISO 8601 time", key
        ) from None


def _photos(p: Mapping[str, Any], key: str, required: bool) -> list[str]:
    value = p.get(key) or []
    if not isinstance(value, list) or not all(
        isinstance(x, str) and SHA256_RE.match(x) for x in value
    ):
        raise _refuse(
            "invalid_photos",
            "照片引用必须是SHA-256列表",
            f"{key} must be a list of SHA-256 hex digests",
            key,
        )
    if required and not value:
        raise _refuse("evidence_required", "请附整改照片", "photo evidence is required", key)
    if len(value) > 50:
        raise _refuse("too_many_photos", "照片过多（最多50张）", "too many photos (max 50)", key)
    return list(dict.fromkeys(value))


def _responsible(view: HazardView) -> dict[str, Any]:
    return {
        "role": Role.enterprise.value,
        "unit": view.responsible_unit,
        "person": view.responsible_person,
        "user_id": view.responsible_user_id,
    }


def _officers() -> dict[str, Any]:
    return {"role": Role.officer.value}


def _check_reported(view, actor, p, now, policy) -> Decision:
    sev = p.get("severity")
    if sev not in (Severity.general, Severity.major):
        raise _refuse(
            "invalid_severity",
            "隐患等级必须是一般或重大",
            "severity must be 'general' or 'major'",
            "severity",
        )
    out = {
        "site_id": _text(p, "site_id", "场所"),
        "title": _text(p, "title", "隐患标题"),
        "description": _text(p, "description", "隐患描述", required=False) or "",
        "severity": str(sev),
        "photos": _photos(p, "photos", required=False),
    }
    if len(out["title"]) > 200:
        raise _refuse("too_long", "标题过长（最多200字）", "title is too long (max 200)", "title")
    for key in ("industry", "matter_id", "link_id", "inspection_id", "item_id", "location"):
        if p.get(key) not in (None, ""):
            out[key] = _text(p, key, key)
    if p.get("basis"):
        out["basis"] = _text(p, "basis", "依据")
    if p.get("deadline_days") is not None:
        days = p["deadline_days"]
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 3650:
            raise _refuse(
                "invalid_field",
                "整改天数必须是0到3650的整数",
                "deadline_days must be an integer from 0 to 3650",
                "deadline_days",
            )
        out["deadline_days"] = days
    return Decision(
        EventType.reported,
        out,
        _officers(),
        to_iso(now + _days(policy.assign_days)),
    )


def _check_assigned(view: HazardView, actor, p, now, policy) -> Decision:
    deadline = _time(p, "deadline", "整改期限")
    if deadline is None and view.suggested_days is not None:
        # the standard's own time limit wins over the policy table; "immediately" is one day
        deadline = now + _days(max(view.suggested_days, 1))
    elif deadline is None:
        deadline = policy.rectification_deadline(view.severity, view.industry, now)
    elif deadline <= now:
        raise _refuse(
            "deadline_in_past",
            "整改期限必须晚于当前时间",
            "deadline must be in the future",
            "deadline",
        )
    out = {
        "responsible_unit": _text(p, "responsible_unit", "整改责任单位"),
        "responsible_person": _text(p, "responsible_person", "整改责任人"),
        "deadline": to_iso(deadline),
    }
    if p.get("responsible_user_id"):
        out["responsible_user_id"] = _text(p, "responsible_user_id", "责任人账号")
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "说明")
    nxt = {
        "role": Role.enterprise.value,
        "unit": out["responsible_unit"],
        "person": out["responsible_person"],
        "user_id": out.get("responsible_user_id"),
    }
    return Decision(EventType.assigned, out, nxt, out["deadline"])


def _check_plan(view: HazardView, actor, p, now, policy) -> Decision:
    parts = {}
    for part in PLAN_PARTS:
        value = _text(p, part, PLAN_PART_NAMES[part][0], required=False)
        if value:
            parts[part] = value
    if not parts:
        raise _refuse(
            "plan_empty",
            "五落实方案至少填写一项（责任、措施、资金、时限、预案）",
            "the plan needs at least one of responsibility, measures, funds, deadline, contingency",
            "measures",
        )
    return Decision(EventType.plan_submitted, parts, _responsible(view), view.deadline)


def _check_rectification(view: HazardView, actor, p, now, policy) -> Decision:
    if view.severity == Severity.major:
        missing = view.plan_missing
        if missing:
            names = "、".join(PLAN_PART_NAMES[x][0] for x in missing)
            raise _refuse(
                "plan_incomplete",
                f"重大隐患须先提交完整的五落实方案，缺少：{names}",
                "a major hazard needs a complete five-assurance plan first; missing: "
                + ", ".join(missing),
            )
    out = {
        "description": _text(p, "description", "整改情况"),
        "evidence": _photos(p, "evidence", required=True),
    }
    return Decision(
        EventType.rectification_submitted,
        out,
        _officers(),
        to_iso(now + _days(policy.review_days)),
    )


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _check_verified(view: HazardView, actor: Actor, p, now, policy) -> Decision:
    if actor.id == view.last_rectifier:
        raise _refuse(
            "verifier_is_rectifier",
            "复查人不能是整改提交人",
            "the verifying officer must not be the one who submitted the rectification",
        )
    out = {}
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "复查意见")
    return Decision(EventType.verified, out, _officers(), to_iso(now + _days(policy.review_days)))


def _check_rejected(view: HazardView, actor, p, now, policy) -> Decision:
    out = {"reason": _text(p, "reason", "不通过原因")}
    return Decision(EventType.rejected, out, _responsible(view), view.deadline)


def _check_closed(view: HazardView, actor, p, now, policy) -> Decision:
    out = {}
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "销号意见")
    return Decision(EventType.closed, out, None, None)


def _check_extension_requested(view: HazardView, actor, p, now, policy) -> Decision:
    if view.pending_extension:
        raise _refuse(
            "extension_pending", "已有待批准的延期申请", "an extension request is already pending"
        )
    new = _time(p, "new_deadline", "申请的新期限")
    if new is None:
        raise _refuse(
            "missing_field", "请填写申请的新期限", "new_deadline is required", "new_deadline"
        )
    if view.deadline and new <= parse_iso(view.deadline):
        raise _refuse(
            "extension_not_later",
            "新期限必须晚于当前期限",
            "the new deadline must be later than the current one",
            "new_deadline",
        )
    out = {"new_deadline": to_iso(new), "reason": _text(p, "reason", "延期理由")}
    return Decision(EventType.extension_requested, out, _officers(), view.deadline)


def _check_extension_granted(view: HazardView, actor, p, now, policy) -> Decision:
    if not view.pending_extension:
        raise _refuse(
            "no_extension_request", "没有待批准的延期申请", "there is no pending extension request"
        )
    new = _time(p, "new_deadline", "批准的新期限") or parse_iso(
        view.pending_extension["new_deadline"]
    )
    if new <= now:
        raise _refuse(
            "deadline_in_past",
            "新期限必须晚于当前时间",
            "the new deadline must be in the future",
            "new_deadline",
        )
    out = {"new_deadline": to_iso(new)}
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "批准意见")
    return Decision(EventType.extension_granted, out, _responsible(view), out["new_deadline"])


def _check_overdue(view: HazardView, actor, p, now, policy) -> Decision:
    if view.deadline is None or parse_iso(view.deadline) >= now:
        raise _refuse("not_overdue", "尚未逾期", "the deadline has not passed")
    if view.deadline in view.overdue_deadlines:
        raise _refuse("already_flagged", "该期限已标记逾期", "already flagged for this deadline")
    return Decision(EventType.overdue, {"deadline": view.deadline}, view.link_owner, view.deadline)


def _check_escalated(view: HazardView, actor, p, now, policy) -> Decision:
    level = p.get("level", view.escalation_level + 1)
    if (
        not isinstance(level, int)
        or isinstance(level, bool)
        or level <= view.escalation_level
        or level not in ESCALATION_LEVELS
    ):
        raise _refuse(
            "invalid_escalation",
            "督办级别必须高于当前级别（1 区县，2 市级）",
            "level must be above the current one (1 district, 2 city)",
            "level",
        )
    out = {
        "level": level,
        "supervising_level": ESCALATION_LEVELS[level],
        "reason": _text(p, "reason", "督办原因", required=False) or "",
    }
    return Decision(EventType.escalated, out, view.link_owner, view.link_deadline)


def _check_note(view: HazardView, actor, p, now, policy) -> Decision:
    return Decision(EventType.note, {"text": _text(p, "text", "备注内容")}, None, None)


def _check_photo(view: HazardView, actor, p, now, policy) -> Decision:
    out: dict[str, Any] = {"photos": _photos(p, "photos", required=True)}
    if p.get("caption"):
        out["caption"] = _text(p, "caption", "照片说明")
    return Decision(EventType.photo_added, out, None, None)


def _check_cancelled(view: HazardView, actor, p, now, policy) -> Decision:
    return Decision(EventType.cancelled, {"reason": _text(p, "reason", "撤销原因")}, None, None)


_CHECKS = {
    EventType.reported: _check_reported,
    EventType.assigned: _check_assigned,
    EventType.plan_submitted: _check_plan,
    EventType.rectification_submitted: _check_rectification,
    EventType.verified: _check_verified,
    EventType.rejected: _check_rejected,
    EventType.closed: _check_closed,
    EventType.extension_requested: _check_extension_requested,
    EventType.extension_granted: _check_extension_granted,
    EventType.overdue: _check_overdue,
    EventType.escalated: _check_escalated,
    EventType.note: _check_note,
    EventType.photo_added: _check_photo,
    EventType.cancelled: _check_cancelled,
}


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
