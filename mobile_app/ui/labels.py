"""Domain words and badges in the current language, from the vocabularies in ``shared/``."""

from __future__ import annotations

from typing import Any

from mobile_app.ui import theme
from shared.chain import EVENT_NAMES, PLAN_PART_NAMES, STATE_NAMES, EventType, State
from shared.clock import parse_iso
from shared.events import spec_of
from shared.roles import ROLE_NAMES, Role
from shared.supervision import shown_value
from shared.taxonomy import NAMES


def state_name(app: Any, state: str) -> str:
    return app.tr.pick(STATE_NAMES[State(state)]) if state in State.__members__ else state


def event_name(app: Any, event_type: str) -> str:
    return (
        app.tr.pick(EVENT_NAMES[EventType(event_type)])
        if event_type in EventType.__members__
        else event_type
    )


def payload_lines(app: Any, event_type: str, payload: dict[str, Any]) -> list[str]:
    """What a timeline entry shows of its payload: the fields its event's spec shows."""
    spec = spec_of(event_type)
    out = []
    for f in spec.shown_fields if spec else ():
        value = payload.get(f.key)
        if value in (None, ""):
            continue
        out.append(f"{app.tr.pick(f.shown)}: {shown_value(f.kind, value, app.tr.short, when)}")
    return out


def role_name(app: Any, role: str) -> str:
    return app.tr.pick(ROLE_NAMES[Role(role)]) if role in Role.__members__ else role


def plan_part_name(app: Any, part: str) -> str:
    return app.tr.pick(PLAN_PART_NAMES[part])


def vocab(app: Any, value: str | None) -> str:
    if not value:
        return ""
    return app.tr.pick(NAMES.get(value, (value, value)))


def when(value: str | None, with_time: bool = True) -> str:
    """A server time (UTC ISO) in the tablet's local time, short."""
    if not value:
        return "—"
    try:
        dt = parse_iso(value).astimezone()
    except ValueError:
        return value
    return dt.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def hazard_number(app: Any, h: dict[str, Any]) -> str:
    """隐患编号 once the server has numbered it (after a sync); until then "not numbered yet"."""
    return h.get("number") or app.t("Not numbered yet")


def hazard_badges(app: Any, h: dict[str, Any]) -> list[tuple[str, tuple]]:
    """重大 in red, 逾期, pending sync, refused by the server: what a list row shows."""
    t = app.t
    out: list[tuple[str, tuple]] = []
    if h["severity"] == "major":
        out.append((t("Major"), theme.DANGER))
    if h["overdue"]:
        out.append((t("Overdue"), theme.WARN))
    if h.get("instructions_for_me"):
        out.append((t("Instruction to acknowledge"), theme.PRIMARY))
    if h.get("has_rejected"):
        out.append((t("Refused"), theme.DANGER))
    if h.get("has_pending"):
        out.append((t("Not synced"), theme.PENDING))
    out.append((state_name(app, h["state"]), theme.STATE.get(h["state"], theme.MUTED)))
    return out
