"""Every chain event type as one spec, and the rules engine that reads them.

A spec says who may append the event and in which states, its names, the fields a person
fills in (labels, kinds; from these the payload schema is built), the check that judges and
normalises a payload and the fold step that moves the hazard's view on. Everything else is
derived from ``SPECS``: ``EventType``, the transition table, the names, which events users may
send (the sync wire), the console's action forms and timeline, the tablet's, and the property
tests' payloads. A new event type is one more spec here (its labels carry their English);
``tests/shared/test_event_specs.py`` fails while a piece is missing.

Checks and fold steps below keep their output byte for byte: stored chains are hashed over
the payloads these checks produced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, StringConstraints, create_model
from pydantic import Field as PydanticField

from shared.chain import (
    DEADLINE_STATES,
    ESCALATION_LEVELS,
    MAX_TEXT,
    OPEN_STATES,
    PLAN_PART_NAMES,
    PLAN_PARTS,
    REGULATOR_FOUND,
    SHA256_RE,
    STATE_NAMES,
    Actor,
    ChainEvent,
    Decision,
    HazardView,
    Rule,
    State,
    _refuse,
)
from shared.clock import parse_iso, to_iso
from shared.deadlines import DEFAULT_POLICY, DeadlinePolicy
from shared.geo import GpsStamp, stamp_problem
from shared.roles import ROLE_NAMES, Role
from shared.taxonomy import Severity
from shared.text import clean, text_problem

Names = tuple[str, str]  # (Chinese, English), as everything in shared/ is named

# What a form asks for, and how the value travels:
#   line, text  one line / several lines of text
#   date        a day picked in a form; the payload carries an ISO time (end of that local day)
#   photos      photos taken or uploaded; the payload carries their SHA-256 digests
#   account     the user account of a responsible person (a choice among the site's users)
#   level       a supervision level above the current one
#   choice, number, id   values set by the reporting screens, never by an action form
Kind = Literal["line", "text", "date", "photos", "account", "level", "choice", "number", "id"]
TEXT_KINDS = frozenset({"line", "text", "account", "choice", "id"})


@dataclass(frozen=True)
class Field:
    """One payload field: its form label and kind, and how a timeline shows it.

    ``shown``: the timeline's label (None: the timeline leaves it out). ``asked``: False for a
    field the check writes itself (the form and the payload schema leave it out).
    ``prefill(view, site_name)``: what the form shows before the user types.
    """

    key: str
    label: Names
    kind: Kind = "text"
    required: bool = False
    shown: Names | None = None
    asked: bool = True
    tablet: bool = True
    hint: Names | None = None
    max_length: int | None = None
    rows: int = 2
    prefill: Callable[[HazardView, str], str | None] | None = None

    @property
    def form_max_length(self) -> int:
        """The form's own limit (the chain allows ``MAX_TEXT`` for any text)."""
        return self.max_length or (400 if self.kind == "line" else MAX_TEXT)


class Next(NamedTuple):
    """What a check accepts: the normalised payload and who acts next, by when."""

    payload: dict[str, Any]
    owner: dict[str, Any] | None
    deadline: str | None


Check = Callable[[Any, Actor, dict[str, Any], datetime, DeadlinePolicy], Next]
FoldStep = Callable[[Any, ChainEvent], HazardView]
Tone = Literal["primary", "secondary", "danger"]


@dataclass(frozen=True)
class EventSpec:
    """One event type, whole. ``action``: what its button says (None: never a person's form).
    ``states`` None: only as a chain's first event. ``tone``/``confirm``/``opens``: how forms
    present it (a red button, a confirmation, the console opens it when it comes first).
    ``tablet``: the tablet offers it too."""

    type: str
    name: Names
    roles: frozenset[Role]
    states: frozenset[State] | None
    check: Check
    fold: FoldStep
    action: Names | None = None
    fields: tuple[Field, ...] = ()
    tone: Tone = "primary"
    confirm: bool = False
    opens: bool = False
    tablet: bool = False

    @property
    def rule(self) -> Rule:
        return Rule(self.roles, self.states)

    @property
    def form_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.asked)

    @property
    def tablet_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.form_fields if f.tablet)

    @property
    def shown_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.shown)

    @property
    def photo_field(self) -> str | None:
        return next((f.key for f in self.form_fields if f.kind == "photos"), None)

    @cached_property
    def payload_schema(self) -> type[BaseModel]:
        """The payload a client sends, as a pydantic model (the check still has the last
        word: it also judges against the hazard's state)."""
        return create_model(
            f"{''.join(w.title() for w in self.type.split('_'))}Payload",
            __config__=ConfigDict(extra="forbid"),
            **{f.key: _schema_field(f) for f in self.form_fields},
        )


_SHA256 = Annotated[str, StringConstraints(pattern=SHA256_RE.pattern)]
_TYPES: dict[str, Any] = {
    "date": datetime,
    "photos": Annotated[list[_SHA256], PydanticField(max_length=50)],
    "level": Annotated[int, PydanticField(ge=1, le=max(ESCALATION_LEVELS))],
    "number": Annotated[int, PydanticField(ge=0, le=3650)],
}


def _schema_field(f: Field) -> tuple[Any, Any]:
    kind = _TYPES.get(f.kind, Annotated[str, StringConstraints(max_length=MAX_TEXT)])
    description = f"{f.label[0]} / {f.label[1]}"
    if f.required:
        return kind, PydanticField(description=description)
    return kind | None, PydanticField(None, description=description)


# ---------------------------------------------------------------- payload helpers


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


def _gps_stamps(p: Mapping[str, Any], photos: list[str], out: dict[str, Any]) -> None:
    """Copy the optional GPS stamps (``shared.geo.GpsStamp``) into ``out``: ``gps`` where the
    finding was made, ``photo_gps`` where each of ``photos`` was taken. Devices without GPS
    (and older apps) send neither, and their events read as before."""

    def refuse(key: str, why: str) -> Exception:
        return _refuse("invalid_gps", "GPS定位数据无效", f"{key}: {why}"[:300], key)

    if p.get("gps") is not None:
        if problem := stamp_problem(p["gps"]):
            raise refuse("gps", problem)
        out["gps"] = GpsStamp.model_validate(p["gps"]).wire()
    stamps = p.get("photo_gps") or {}
    if not isinstance(stamps, dict) or not set(stamps) <= set(photos):
        raise refuse("photo_gps", "must map this event's photos to GPS stamps")
    for sha, stamp in stamps.items():
        if problem := stamp_problem(stamp):
            raise refuse("photo_gps", f"{sha[:12]} {problem}")
    if stamps:
        out["photo_gps"] = {k: GpsStamp.model_validate(v).wire() for k, v in stamps.items()}


def _responsible(view: HazardView) -> dict[str, Any]:
    return {
        "role": Role.enterprise.value,
        "unit": view.responsible_unit,
        "person": view.responsible_person,
        "user_id": view.responsible_user_id,
    }


def _officers() -> dict[str, Any]:
    return {"role": Role.officer.value}


def _days(n: int) -> timedelta:
    return timedelta(days=n)


def _set_deadline(view: HazardView, deadline: str) -> None:
    if deadline != view.deadline:
        view.deadline = deadline
        # overdue is per deadline: a new deadline starts clean
        view.overdue = deadline in view.overdue_deadlines


def _unchanged(view: HazardView, ev: ChainEvent) -> HazardView:
    """The fold step of an event that only adds to the record (a note)."""
    return view


# ---------------------------------------------------------------- shared words

ANY_LOGIN = frozenset({Role.inspector, Role.enterprise, Role.officer, Role.leader, Role.admin})
OFFICERS = frozenset({Role.officer, Role.admin})
RESPONSIBLE = frozenset({Role.enterprise, Role.officer})

COMMENT: Names = ("说明", "Comment")
REASON: Names = ("原因", "Reason")
UNIT: Names = ("责任单位", "Responsible unit")
PERSON: Names = ("责任人", "Responsible person")
DEADLINE: Names = ("整改期限", "Deadline")
ACCOUNT: Names = ("责任人账号（可选）", "Responsible user account (optional)")


# ---------------------------------------------------------------- reported


def _check_reported(view, actor, p, now, policy) -> Next:
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
    _gps_stamps(p, out["photos"], out)
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
    if actor.role is Role.enterprise and sev == Severity.general:
        # 自查自改: a general hazard the enterprise found is its own to fix (and close), by the
        # default time for its grade; the officer may still assign it
        days = out.get("deadline_days")
        deadline = (
            now + _days(max(days, 1))
            if days is not None
            else policy.rectification_deadline(sev, out.get("industry"), now)
        )
        return Next(out, {"role": Role.enterprise.value}, to_iso(deadline))
    return Next(out, _officers(), to_iso(now + _days(policy.assign_days)))


def origin_of(actor_role: str, payload: Mapping[str, Any]) -> str:
    """Who found a hazard, from its first event: the enterprise on a self-inspection (an
    enterprise submits only self-inspection templates), the enterprise otherwise, or the
    regulator."""
    if actor_role != Role.enterprise.value:
        return REGULATOR_FOUND
    return "self_inspection" if payload.get("inspection_id") else "self_report"


def _fold_reported(view: None, ev: ChainEvent) -> HazardView:
    p = ev.payload
    return HazardView(
        origin=origin_of(ev.actor_role, p),
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


# ---------------------------------------------------------------- assigned


def _check_assigned(view: HazardView, actor, p, now, policy) -> Next:
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
    return Next(out, _owner_of(out), out["deadline"])


def _owner_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The responsible unit a payload names, as the next link's owner."""
    return {
        "role": Role.enterprise.value,
        "unit": payload["responsible_unit"],
        "person": payload["responsible_person"],
        "user_id": payload.get("responsible_user_id"),
    }


def _take_over(view: HazardView, p: Mapping[str, Any]) -> None:
    view.responsible_unit = p["responsible_unit"]
    view.responsible_person = p["responsible_person"]
    view.responsible_user_id = p.get("responsible_user_id")


def _fold_assigned(view: HazardView, ev: ChainEvent) -> HazardView:
    view.state = State.assigned if view.state is State.reported else view.state
    _take_over(view, ev.payload)
    _set_deadline(view, ev.payload["deadline"])
    return view


# ---------------------------------------------------------------- transferred


def _check_transferred(view: HazardView, actor, p, now, policy) -> Next:
    """To another unit (another enterprise, a site's department…) with a reason; the deadline
    stays, the new unit owes the next step."""
    out = {
        "responsible_unit": _text(p, "responsible_unit", "接收单位"),
        "responsible_person": _text(p, "responsible_person", "接收单位责任人"),
        "reason": _text(p, "reason", "移交原因"),
    }
    if out["responsible_unit"] == view.responsible_unit:
        raise _refuse(
            "same_unit",
            "接收单位与当前责任单位相同；更换责任人请用“重新交办”",
            "the hazard is already with this unit; to change the person, reassign it",
            "responsible_unit",
        )
    if p.get("responsible_user_id"):
        out["responsible_user_id"] = _text(p, "responsible_user_id", "接收人账号")
    out["previous_unit"] = view.responsible_unit
    return Next(out, _owner_of(out), view.deadline)


def _fold_transferred(view: HazardView, ev: ChainEvent) -> HazardView:
    _take_over(view, ev.payload)
    return view


# ---------------------------------------------------------------- 五落实 plan and rectification


def _check_plan(view: HazardView, actor, p, now, policy) -> Next:
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
    return Next(parts, _responsible(view), view.deadline)


def _fold_plan(view: HazardView, ev: ChainEvent) -> HazardView:
    view.plan.update({k: v for k, v in ev.payload.items() if k in PLAN_PARTS and v})
    if view.state is State.assigned and (view.plan_complete or view.severity != Severity.major):
        view.state = State.rectifying
    return view


def _check_rectification(view: HazardView, actor, p, now, policy) -> Next:
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
    _gps_stamps(p, out["evidence"], out)  # where each 整改 photo was taken, as a finding's
    return Next(out, _officers(), to_iso(now + _days(policy.review_days)))


def _fold_rectification(view: HazardView, ev: ChainEvent) -> HazardView:
    evidence = ev.payload["evidence"]
    view.state = State.in_review
    view.evidence = list(evidence)
    view.photos.extend(x for x in evidence if x not in view.photos)
    view.last_rectifier = ev.actor_id
    return view


# ---------------------------------------------------------------- review and closure


def _check_verified(view: HazardView, actor: Actor, p, now, policy) -> Next:
    if actor.id == view.last_rectifier:
        raise _refuse(
            "verifier_is_rectifier",
            "复查人不能是整改提交人",
            "the verifying officer must not be the one who submitted the rectification",
        )
    out = {}
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "复查意见")
    return Next(out, _officers(), to_iso(now + _days(policy.review_days)))


def _fold_verified(view: HazardView, ev: ChainEvent) -> HazardView:
    view.state = State.verified
    view.last_verifier = ev.actor_id
    return view


def separation_forbids(
    view: HazardView, actor: Actor, policy: DeadlinePolicy = DEFAULT_POLICY
) -> bool:
    """职责分离: with the setting on, the officer who did 复查 of a major hazard may not 销号 it
    too (a second officer signs the closure)."""
    return (
        policy.separate_verify_close
        and view.severity == Severity.major
        and view.last_verifier is not None
        and actor.id == view.last_verifier
    )


def _check_rejected(view: HazardView, actor, p, now, policy) -> Next:
    return Next({"reason": _text(p, "reason", "不通过原因")}, _responsible(view), view.deadline)


def _fold_rejected(view: HazardView, ev: ChainEvent) -> HazardView:
    view.state = State.rectifying
    view.rejections += 1
    return view


def _check_closed(view: HazardView, actor, p, now, policy) -> Next:
    if separation_forbids(view, actor, policy):
        raise _refuse(
            "closer_is_verifier",
            "重大隐患的复查人不能同时销号，请由另一名监管人员销号",
            "the officer who verified a major hazard may not also close it; another officer "
            "must close it",
        )
    out = {}
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "销号意见")
    return Next(out, None, None)


def _fold_closed(view: HazardView, ev: ChainEvent) -> HazardView:
    view.state = State.closed
    view.closed_at = ev.at
    view.overdue = False
    return view


def _check_self_closed(view: HazardView, actor, p, now, policy) -> Next:
    """自查自改: the enterprise closes a general hazard it found itself, with what it did and
    photos before and after; officers 抽查 the share ``policy`` draws (and any other)."""
    if not view.self_found:
        raise _refuse(
            "not_self_found",
            "只有企业自查发现的隐患可由企业自行整改销号",
            "only a hazard the enterprise found itself may be closed by the enterprise",
        )
    if view.severity != Severity.general:
        raise _refuse(
            "major_needs_regulator",
            "重大事故隐患须由监管部门督办销号，不能自行销号",
            "a major hazard is closed by the regulator, not by the enterprise",
        )
    out: dict[str, Any] = {"description": _text(p, "description", "整改情况")}
    before = _photos(p, "photos", required=False)
    if not before and not view.photos:
        raise _refuse(
            "before_photo_required",
            "请附整改前照片",
            "a photo from before the fix is required",
            "photos",
        )
    if before:
        out["photos"] = before
    out["evidence"] = _photos(p, "evidence", required=True)
    _gps_stamps(p, [*out.get("photos", []), *out["evidence"]], out)
    drawn = policy.spot_check_drawn(view.hazard_id)
    out["spot_check"] = drawn
    if drawn:
        return Next(out, _officers(), to_iso(now + _days(policy.review_days)))
    return Next(out, None, None)


def _fold_self_closed(view: HazardView, ev: ChainEvent) -> HazardView:
    p = ev.payload
    view.photos.extend(x for x in [*p.get("photos", []), *p["evidence"]] if x not in view.photos)
    view.evidence = list(p["evidence"])
    view.last_rectifier = ev.actor_id
    view.state = State.closed
    view.closed_at = ev.at
    view.overdue = False
    view.self_closed = True
    view.spot_check = "drawn" if p.get("spot_check") else None
    return view


def _spot_checkable(view: HazardView) -> None:
    if not view.self_closed:
        raise _refuse(
            "not_self_closed",
            "只能抽查企业自行销号的隐患",
            "only a hazard the enterprise closed itself is spot-checked",
        )
    if view.spot_check not in (None, "drawn"):
        raise _refuse("already_spot_checked", "该隐患已抽查", "already spot-checked")


def _check_spot_checked(view: HazardView, actor, p, now, policy) -> Next:
    _spot_checkable(view)
    out = {}
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "抽查意见")
    return Next(out, None, None)


def _fold_spot_checked(view: HazardView, ev: ChainEvent) -> HazardView:
    view.spot_check = "passed"
    return view


def _check_reopened(view: HazardView, actor, p, now, policy) -> Next:
    """抽查不合格: back to the enterprise to rectify again, now in the regulator's chain (its
    next rectification is reviewed and closed by an officer)."""
    _spot_checkable(view)
    deadline = policy.rectification_deadline(view.severity, view.industry, now)
    out = {"reason": _text(p, "reason", "不合格原因"), "deadline": to_iso(deadline)}
    return Next(out, _responsible(view), out["deadline"])


def _fold_reopened(view: HazardView, ev: ChainEvent) -> HazardView:
    view.state = State.rectifying
    view.closed_at = None
    view.self_closed = False
    view.spot_check = "reopened"
    view.rejections += 1
    _set_deadline(view, ev.payload["deadline"])
    return view


def _check_cancelled(view: HazardView, actor, p, now, policy) -> Next:
    return Next({"reason": _text(p, "reason", "撤销原因")}, None, None)


def _fold_cancelled(view: HazardView, ev: ChainEvent) -> HazardView:
    view.state = State.cancelled
    view.cancel_reason = ev.payload["reason"]
    view.overdue = False
    return view


# ---------------------------------------------------------------- deadlines


def _check_extension_requested(view: HazardView, actor, p, now, policy) -> Next:
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
    return Next(out, _officers(), view.deadline)


def _fold_extension_requested(view: HazardView, ev: ChainEvent) -> HazardView:
    p = ev.payload
    view.pending_extension = {
        "new_deadline": p["new_deadline"],
        "reason": p["reason"],
        "by": ev.actor_id,
    }
    return view


def _check_extension_granted(view: HazardView, actor, p, now, policy) -> Next:
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
    return Next(out, _responsible(view), out["new_deadline"])


def _fold_extension_granted(view: HazardView, ev: ChainEvent) -> HazardView:
    view.pending_extension = None
    _set_deadline(view, ev.payload["new_deadline"])
    return view


def _due(view: HazardView) -> str | None:
    """The deadline an ``overdue`` flag is about: the unit's rectification deadline, or, while
    a hazard waits to be assigned, the officer's own step deadline (flagged the same way)."""
    return view.link_deadline if view.state is State.reported else view.deadline


def _check_overdue(view: HazardView, actor, p, now, policy) -> Next:
    due = _due(view)
    if due is None or parse_iso(due) >= now:
        raise _refuse("not_overdue", "尚未逾期", "the deadline has not passed")
    if due in view.overdue_deadlines:
        raise _refuse("already_flagged", "该期限已标记逾期", "already flagged for this deadline")
    return Next({"deadline": due}, view.link_owner, due)


def _fold_overdue(view: HazardView, ev: ChainEvent) -> HazardView:
    view.overdue = True
    view.overdue_deadlines.append(ev.payload["deadline"])
    return view


def _check_escalated(view: HazardView, actor, p, now, policy) -> Next:
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
    return Next(out, view.link_owner, view.link_deadline)


def _fold_escalated(view: HazardView, ev: ChainEvent) -> HazardView:
    view.escalation_level = max(view.escalation_level, int(ev.payload["level"]))
    return view


# ---------------------------------------------------------------- a leader's 批示 and 督办


def _acts_as(role: Role) -> Role:
    """An admin does an officer's work."""
    return Role.officer if role is Role.admin else role


def _addressed_to(instruction: Mapping[str, Any], actor: Actor) -> bool:
    """A 批示 goes to the owner of the link it was given on: their role and, when that owner
    was a named enterprise account, only that account."""
    if instruction["to_role"] != _acts_as(actor.role).value:
        return False
    user = instruction.get("to_user_id")
    return not user or actor.role is not Role.enterprise or actor.id == user


def _check_instructed(view: HazardView, actor, p, now, policy) -> Next:
    """Addressed to whoever owes the next step now; who acts next does not change."""
    owner = view.link_owner
    if not owner:
        raise _refuse(
            "no_owner", "该隐患当前没有责任方，无法批示", "the hazard has no owner to instruct"
        )
    out = {"text": _text(p, "text", "批示内容"), "to_role": owner["role"]}
    if owner.get("unit"):
        out["to_unit"] = owner["unit"]
    if owner.get("user_id"):
        out["to_user_id"] = owner["user_id"]
    return Next(out, None, None)


def _fold_instructed(view: HazardView, ev: ChainEvent) -> HazardView:
    p = ev.payload
    view.instructions.append(
        {
            "id": ev.id,
            "text": p["text"],
            "to_role": p["to_role"],
            "to_unit": p.get("to_unit"),
            "to_user_id": p.get("to_user_id"),
            "by": ev.actor_id,
            "at": ev.at,
        }
    )
    return view


def _check_acknowledged(view: HazardView, actor: Actor, p, now, policy) -> Next:
    """签收: every 批示 addressed to the actor at once; someone else's is refused by name."""
    mine = [i["id"] for i in view.instructions if _addressed_to(i, actor)]
    if not mine:
        if view.instructions:
            zh_to, en_to = ROLE_NAMES[Role(view.instructions[0]["to_role"])]
            raise _refuse(
                "not_addressee",
                f"该批示须由{zh_to}签收",
                f"this instruction is for the {en_to.lower()} to acknowledge",
            )
        raise _refuse(
            "no_instruction", "没有待签收的批示", "there is no instruction to acknowledge"
        )
    out: dict[str, Any] = {"instructions": mine}
    if p.get("comment"):
        out["comment"] = _text(p, "comment", "签收意见")
    return Next(out, None, None)


def _fold_acknowledged(view: HazardView, ev: ChainEvent) -> HazardView:
    done = set(ev.payload["instructions"])
    view.instructions = [i for i in view.instructions if i["id"] not in done]
    return view


def _check_supervised(view: HazardView, actor, p, now, policy) -> Next:
    """挂牌督办 by a leader: at least district level, never below the present level; once
    listed, only a higher level lists it again."""
    top = max(ESCALATION_LEVELS)
    level = p.get("level") or min(max(view.escalation_level + 1, 1), top)
    listed = view.supervision["level"] if view.supervision else 0
    if (
        not isinstance(level, int)
        or isinstance(level, bool)
        or level < max(view.escalation_level, 1)
        or level <= listed
        or level not in ESCALATION_LEVELS
    ):
        raise _refuse(
            "invalid_supervision",
            "已按该级别挂牌督办；督办级别须不低于当前级别且高于已挂牌级别",
            "already listed at this level: the level must be at least the current one and "
            "above the one listed",
            "level",
        )
    out = {
        "level": level,
        "supervising_level": ESCALATION_LEVELS[level],
        "reason": _text(p, "reason", "督办要求"),
    }
    return Next(out, view.link_owner, view.link_deadline)


def _fold_supervised(view: HazardView, ev: ChainEvent) -> HazardView:
    p = ev.payload
    view.escalation_level = max(view.escalation_level, int(p["level"]))
    view.supervision = {"level": p["level"], "reason": p["reason"], "by": ev.actor_id, "at": ev.at}
    return view


# ---------------------------------------------------------------- notes and photos


def _check_note(view: HazardView, actor, p, now, policy) -> Next:
    return Next({"text": _text(p, "text", "备注内容")}, None, None)


def _check_photo(view: HazardView, actor, p, now, policy) -> Next:
    out: dict[str, Any] = {"photos": _photos(p, "photos", required=True)}
    if p.get("caption"):
        out["caption"] = _text(p, "caption", "照片说明")
    _gps_stamps(p, out["photos"], out)
    return Next(out, None, None)


def _fold_photo(view: HazardView, ev: ChainEvent) -> HazardView:
    view.photos.extend(x for x in ev.payload["photos"] if x not in view.photos)
    return view


# ---------------------------------------------------------------- the specs

_TIME_LIMIT_HINT: Names = (
    "留空则按行业与等级的默认期限",
    "Leave empty for the default deadline by industry and grade",
)

SPECS: tuple[EventSpec, ...] = (
    EventSpec(
        "reported",
        ("上报", "Reported"),
        frozenset({Role.inspector, Role.enterprise, Role.officer, Role.admin}),
        None,
        _check_reported,
        _fold_reported,
        # reported by the report and inspection screens, which have their own forms
        fields=(
            Field("site_id", ("场所", "Site"), "id", required=True),
            Field("title", ("隐患标题", "Title"), "line", required=True),
            Field("description", ("描述", "Description"), shown=("描述", "Description")),
            Field("severity", ("隐患等级", "Grade"), "choice", required=True),
            Field("photos", ("照片", "Photos"), "photos"),
            Field("location", ("地点", "Location"), "line", shown=("地点", "Location")),
            Field("basis", ("依据", "Basis"), shown=("依据", "Basis")),
            Field("industry", ("行业", "Industry"), "id"),
            Field("matter_id", ("事项", "Matter"), "id"),
            Field("link_id", ("环节", "Link"), "id"),
            Field("inspection_id", ("来源检查", "From inspection"), "id"),
            Field("item_id", ("检查项", "Item"), "id"),
            Field("deadline_days", ("整改天数", "Days to rectify"), "number"),
        ),
    ),
    EventSpec(
        "assigned",
        ("交办", "Assigned"),
        OFFICERS,
        frozenset({State.reported, State.assigned, State.rectifying}),
        _check_assigned,
        _fold_assigned,
        action=("交办", "Assign"),
        opens=True,
        fields=(
            Field(
                "responsible_unit",
                UNIT,
                "line",
                required=True,
                shown=UNIT,
                max_length=200,
                prefill=lambda v, site: v.responsible_unit or site,
            ),
            Field(
                "responsible_person",
                PERSON,
                "line",
                required=True,
                shown=PERSON,
                max_length=200,
                prefill=lambda v, site: v.responsible_person,
            ),
            Field(
                "responsible_user_id",
                ACCOUNT,
                "account",
                tablet=False,
                prefill=lambda v, site: v.responsible_user_id,
            ),
            Field("deadline", DEADLINE, "date", shown=DEADLINE, hint=_TIME_LIMIT_HINT),
            Field("comment", COMMENT, "line", shown=COMMENT),
        ),
    ),
    EventSpec(
        "transferred",
        ("移交", "Transferred"),
        OFFICERS,
        DEADLINE_STATES,
        _check_transferred,
        _fold_transferred,
        action=("移交其他责任单位", "Transfer to another unit"),
        tablet=True,
        fields=(
            Field(
                "responsible_unit",
                ("接收单位", "New responsible unit"),
                "line",
                required=True,
                shown=("接收单位", "New responsible unit"),
                max_length=200,
            ),
            Field(
                "responsible_person",
                ("接收单位责任人", "Responsible person there"),
                "line",
                required=True,
                shown=PERSON,
                max_length=200,
            ),
            Field("responsible_user_id", ACCOUNT, "account", tablet=False),
            Field("reason", ("移交原因", "Reason for the transfer"), required=True, shown=REASON),
            Field(
                "previous_unit",
                ("原责任单位", "Previous unit"),
                asked=False,
                shown=("原责任单位", "Previous unit"),
            ),
        ),
    ),
    EventSpec(
        "plan_submitted",
        ("提交五落实方案", "Plan submitted"),
        RESPONSIBLE,
        DEADLINE_STATES,
        _check_plan,
        _fold_plan,
        action=("提交五落实方案", "Submit the five-assurance plan"),
        tablet=True,
        fields=tuple(
            Field(
                part,
                PLAN_PART_NAMES[part],
                shown=PLAN_PART_NAMES[part],
                prefill=lambda v, site, part=part: v.plan.get(part, ""),
            )
            for part in PLAN_PARTS
        ),
    ),
    EventSpec(
        "rectification_submitted",
        ("提交整改", "Rectification submitted"),
        RESPONSIBLE,
        DEADLINE_STATES,
        _check_rectification,
        _fold_rectification,
        action=("提交整改", "Submit rectification"),
        tablet=True,
        fields=(
            Field(
                "description",
                ("整改情况", "What was done"),
                required=True,
                shown=("描述", "Description"),
                rows=3,
            ),
            Field("evidence", ("整改照片", "Rectification photos"), "photos", required=True),
        ),
    ),
    EventSpec(
        "verified",
        ("复查通过", "Verified"),
        OFFICERS,
        frozenset({State.in_review}),
        _check_verified,
        _fold_verified,
        action=("复查通过", "Verify"),
        opens=True,
        fields=(Field("comment", ("复查意见", "Verification comment"), shown=COMMENT),),
    ),
    EventSpec(
        "rejected",
        ("复查不通过", "Rejected"),
        OFFICERS,
        frozenset({State.in_review}),
        _check_rejected,
        _fold_rejected,
        action=("复查不通过（退回整改）", "Reject (back to rectification)"),
        tone="danger",
        fields=(
            Field("reason", ("不通过原因", "Reason for rejection"), required=True, shown=REASON),
        ),
    ),
    EventSpec(
        "closed",
        ("销号", "Closed"),
        OFFICERS,
        frozenset({State.verified}),
        _check_closed,
        _fold_closed,
        action=("销号", "Close (销号)"),
        confirm=True,
        opens=True,
        fields=(Field("comment", ("销号意见", "Closure comment"), shown=COMMENT),),
    ),
    EventSpec(
        "self_closed",
        ("自查自改销号", "Self-rectified and closed"),
        frozenset({Role.enterprise}),
        frozenset({State.reported}),  # before an officer takes it on
        _check_self_closed,
        _fold_self_closed,
        action=("自行整改销号", "Fix and close it ourselves"),
        tablet=True,
        confirm=True,
        fields=(
            Field(
                "description",
                ("整改情况", "What was done"),
                required=True,
                shown=("描述", "Description"),
                rows=3,
            ),
            # the report's own photos are the "before" on the tablet; the console may add more
            Field("photos", ("整改前照片", "Photos before the fix"), "photos", tablet=False),
            Field("evidence", ("整改后照片", "Photos after the fix"), "photos", required=True),
            Field("spot_check", ("抽查", "Spot-check"), "choice", asked=False),
        ),
    ),
    EventSpec(
        "spot_checked",
        ("抽查合格", "Spot-check passed"),
        OFFICERS,
        frozenset({State.closed}),
        _check_spot_checked,
        _fold_spot_checked,
        action=("抽查合格", "Spot-check: passed"),
        opens=True,
        fields=(Field("comment", ("抽查意见", "Spot-check comment"), "line", shown=COMMENT),),
    ),
    EventSpec(
        "reopened",
        ("抽查不合格，重新整改", "Reopened by a spot-check"),
        OFFICERS,
        frozenset({State.closed}),
        _check_reopened,
        _fold_reopened,
        action=("抽查不合格（重新整改）", "Spot-check failed (reopen)"),
        tone="danger",
        fields=(
            Field("reason", ("不合格原因", "Why it fails"), required=True, shown=REASON),
            Field("deadline", DEADLINE, "date", asked=False, shown=DEADLINE),
        ),
    ),
    EventSpec(
        "extension_requested",
        ("申请延期", "Extension requested"),
        RESPONSIBLE,
        DEADLINE_STATES,
        _check_extension_requested,
        _fold_extension_requested,
        action=("申请延期", "Request an extension"),
        fields=(
            Field(
                "new_deadline",
                ("申请的新期限", "Requested deadline"),
                "date",
                required=True,
                shown=("申请的新期限", "Requested deadline"),
            ),
            Field("reason", ("延期理由", "Reason for the extension"), required=True, shown=REASON),
        ),
    ),
    EventSpec(
        "extension_granted",
        ("批准延期", "Extension granted"),
        OFFICERS,
        frozenset({State.assigned, State.rectifying, State.in_review}),
        _check_extension_granted,
        _fold_extension_granted,
        action=("批准延期", "Grant the extension"),
        fields=(
            Field(
                "new_deadline",
                ("批准的新期限（留空按申请）", "Granted deadline (empty: as requested)"),
                "date",
                shown=("申请的新期限", "Requested deadline"),
            ),
            Field("comment", ("批准意见", "Comment"), "line", shown=COMMENT),
        ),
    ),
    EventSpec(
        "overdue",
        ("逾期", "Overdue"),
        frozenset({Role.system}),
        DEADLINE_STATES | {State.reported},
        _check_overdue,
        _fold_overdue,
        fields=(Field("deadline", DEADLINE, "date", asked=False, shown=DEADLINE),),
    ),
    EventSpec(
        "escalated",
        ("挂牌督办", "Escalated"),
        frozenset({Role.system, Role.officer, Role.admin}),
        OPEN_STATES,
        _check_escalated,
        _fold_escalated,
        action=("升级督办", "Escalate"),
        fields=(
            Field(
                "level",
                ("督办级别", "Supervision level"),
                "level",
                shown=("督办级别", "Supervision level"),
            ),
            Field("reason", ("督办原因", "Reason"), "line", shown=REASON),
        ),
    ),
    EventSpec(
        "instructed",
        ("领导批示", "Leader's instruction"),
        frozenset({Role.leader}),
        OPEN_STATES,
        _check_instructed,
        _fold_instructed,
        action=("批示", "Instruct"),
        fields=(
            Field(
                "text",
                ("批示内容", "Instruction"),
                required=True,
                shown=("批示内容", "Instruction"),
                rows=3,
            ),
            Field("to_role", ("批示对象", "Addressed to"), "choice", asked=False),
            Field("to_unit", ("批示单位", "Unit addressed"), asked=False, shown=UNIT),
            Field("to_user_id", ("批示账号", "Account addressed"), "id", asked=False),
        ),
    ),
    EventSpec(
        "acknowledged",
        ("签收批示", "Instruction acknowledged"),
        RESPONSIBLE | {Role.admin},
        OPEN_STATES,
        _check_acknowledged,
        _fold_acknowledged,
        action=("签收批示", "Acknowledge the instruction"),
        tablet=True,
        fields=(
            Field("comment", ("签收意见", "Reply"), "line", shown=("签收意见", "Reply")),
            Field("instructions", ("所签收的批示", "Instructions acknowledged"), "id", asked=False),
        ),
    ),
    EventSpec(
        "supervised",
        ("领导督办", "Supervised by a leader"),
        frozenset({Role.leader}),
        OPEN_STATES,
        _check_supervised,
        _fold_supervised,
        action=("挂牌督办", "List for supervision"),
        tone="danger",
        confirm=True,
        fields=(
            Field(
                "level",
                ("督办级别", "Supervision level"),
                "level",
                shown=("督办级别", "Supervision level"),
            ),
            Field(
                "reason",
                ("督办要求", "Supervision requirement"),
                required=True,
                shown=("督办要求", "Requirement"),
            ),
        ),
    ),
    EventSpec(
        "note",
        ("备注", "Note"),
        ANY_LOGIN | {Role.system},
        OPEN_STATES,
        _check_note,
        _unchanged,
        action=("添加备注", "Add a note"),
        tone="secondary",
        tablet=True,
        fields=(Field("text", ("备注内容", "Note"), required=True, shown=("备注内容", "Note")),),
    ),
    EventSpec(
        "photo_added",
        ("添加照片", "Photo added"),
        ANY_LOGIN,
        OPEN_STATES,
        _check_photo,
        _fold_photo,
        action=("添加照片", "Add photos"),
        tablet=True,
        fields=(
            Field("photos", ("照片", "Photos"), "photos", required=True),
            Field("caption", COMMENT, "line", tablet=False, shown=COMMENT),
        ),
    ),
    EventSpec(
        "cancelled",
        ("撤销（误报）", "Cancelled (false report)"),
        OFFICERS,
        OPEN_STATES,
        _check_cancelled,
        _fold_cancelled,
        action=("撤销（误报）", "Cancel (false report)"),
        tone="danger",
        confirm=True,
        fields=(
            Field("reason", ("撤销原因", "Reason for cancelling"), required=True, shown=REASON),
        ),
    ),
)

# ---------------------------------------------------------------- derived from the specs

SPEC_BY_TYPE: dict[str, EventSpec] = {s.type: s for s in SPECS}
EventType = StrEnum("EventType", [(s.type, s.type) for s in SPECS], module=__name__)
EVENT_NAMES: dict[EventType, Names] = {EventType(s.type): s.name for s in SPECS}
ACTION_NAMES: dict[EventType, Names] = {EventType(s.type): s.action for s in SPECS if s.action}
TRANSITIONS: dict[EventType, Rule] = {EventType(s.type): s.rule for s in SPECS}
# Events a user may append from a device or the console (the rest come from the server).
USER_EVENTS = frozenset(
    et for et, r in TRANSITIONS.items() if r.roles & ANY_LOGIN and et is not EventType.reported
)
# Events that name a responsible user account (the server checks it is bound to the site).
NAMES_ACCOUNT = frozenset(
    EventType(s.type) for s in SPECS if any(f.kind == "account" for f in s.form_fields)
)


def spec_of(event_type: str) -> EventSpec | None:
    return SPEC_BY_TYPE.get(event_type)


# ---------------------------------------------------------------- the engine


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
    spec = SPEC_BY_TYPE.get(ev.type)
    if spec is None:
        raise ValueError(f"unknown event type: {ev.type}")
    if view is None:
        if spec.states is not None:
            raise ValueError(f"chain must start with reported, not {ev.type}")
        view = spec.fold(None, ev)
    elif spec.states is not None:
        spec.fold(view, ev)
    if ev.next_owner is not None or not view.is_open:
        view.link_owner = ev.next_owner
        view.link_deadline = ev.next_deadline
    view.event_count = ev.seq
    view.last_hash = ev.hash
    view.updated_at = ev.at
    return view


def acts_next(view: HazardView) -> frozenset[Role]:
    """Who owes the open hazard's next step: the link's owner, the responsible unit while the
    deadline binds it (even with an extension asked for), and whoever a 批示 awaits. The one
    rule behind every role's "待我处理" (console queue, API filter, tablet list)."""
    if not view.is_open:
        return frozenset()
    roles = {Role(i["to_role"]) for i in view.instructions}
    if view.link_owner and view.link_owner.get("role"):
        roles.add(Role(view.link_owner["role"]))
    if view.state in DEADLINE_STATES:
        roles.add(Role.enterprise)
    return frozenset(roles)


def awaits(view: HazardView, role: Role, user_id: str | None = None) -> bool:
    """Is this hazard on this user's own to-do list? An enterprise account only for a hazard
    assigned to no account or to it (the server's mirror: ``is_for`` in the hazard service)."""
    role = _acts_as(role)
    if role not in acts_next(view):
        return False
    if role is Role.enterprise:
        return view.responsible_user_id in (None, user_id)
    return True


def pending_instructions(view: HazardView, actor: Actor) -> list[dict[str, Any]]:
    """The 批示 this user must 签收."""
    return [i for i in view.instructions if _addressed_to(i, actor)]


def allowed_event_types(view: HazardView | None, role: Role) -> list[EventType]:
    """What this role could append now (payload aside): drives the app's and console's buttons."""
    out = []
    for et, rule in TRANSITIONS.items():
        if role not in rule.roles:
            continue
        if view is None:
            if rule.states is None:
                out.append(et)
        elif rule.states is not None and view.state in rule.states and _applies(et, view):
            out.append(et)
    return out


def _applies(et: EventType, view: HazardView) -> bool:
    """An event whose object the state alone does not tell: 自查自改 only of a general hazard
    the enterprise found, 抽查 only of a self-closed one not yet spot-checked."""
    if et is EventType.self_closed:
        return view.self_found and view.severity == Severity.general
    if et in (EventType.spot_checked, EventType.reopened):
        return view.self_closed and view.spot_check in (None, "drawn")
    return True


def offered(
    view: HazardView, actor: Actor, policy: DeadlinePolicy = DEFAULT_POLICY
) -> list[EventType]:
    """What to offer this user as buttons: ``allowed_event_types`` less an action that could
    only be refused for want of its object (签收 with no 批示 for them, 批示 with no owner) or
    of another person (销号 by the major hazard's own 复查 officer)."""
    out = []
    for et in allowed_event_types(view, actor.role):
        if et is EventType.closed and separation_forbids(view, actor, policy):
            continue
        if et is EventType.acknowledged and not pending_instructions(view, actor):
            continue
        if et is EventType.instructed and not view.link_owner:
            continue
        listed = (view.supervision or {}).get("level", 0)
        if et is EventType.supervised and listed >= max(ESCALATION_LEVELS):
            continue
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
    spec = SPEC_BY_TYPE.get(event_type) if isinstance(event_type, str) else None
    if spec is None:
        raise _refuse(
            "unknown_event_type",
            f"未知的事件类型：{event_type}",
            f"unknown event type: {event_type}",
            "type",
        )
    if actor.role not in spec.roles:
        zh_role, en_role = ROLE_NAMES[actor.role]
        raise _refuse(
            "role_not_allowed",
            f"{zh_role}不能执行“{spec.name[0]}”",
            f"{en_role} may not append '{spec.name[1]}'",
        )
    if spec.states is None:
        if view is not None:
            raise _refuse("already_reported", "该隐患已上报", "hazard already reported")
    else:
        if view is None:
            raise _refuse("not_reported", "隐患尚未上报", "hazard has not been reported")
        if view.state not in spec.states:
            zh_state, en_state = STATE_NAMES[view.state]
            raise _refuse(
                "invalid_state",
                f"隐患当前状态为“{zh_state}”，不能执行“{spec.name[0]}”",
                f"cannot append '{spec.name[1]}' while the hazard is {en_state.lower()}",
            )
    accepted = spec.check(view, actor, dict(payload or {}), now, policy)
    return Decision(EventType(spec.type), *accepted)
