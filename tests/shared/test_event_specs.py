"""Every event type is one complete spec (names in both languages, roles, a check, a fold step,
labelled form fields, a schema), so a new type that forgets a piece fails here, not silently in
a form; and the tables the rest of the code reads are the specs' own. Plus ``transferred``
judged and folded by the pure rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from shared.chain import (
    EVENT_NAMES,
    TRANSITIONS,
    USER_EVENTS,
    Actor,
    EventType,
    Refused,
    State,
    decide,
    fold,
    seal_event,
)
from shared.events import SPECS, EventSpec, Field, spec_of
from shared.roles import Role
from shared.sync_wire import HazardEventPayload

T0 = datetime(2026, 3, 1, tzinfo=UTC)
KINDS = {"line", "text", "date", "photos", "account", "level", "choice", "number", "id"}


def _named(pair) -> bool:
    return (
        isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(x, str) and x for x in pair)
    )


def problems(spec: EventSpec) -> list[str]:
    """What a spec lacks; empty for a complete one."""
    out = []
    if not _named(spec.name):
        out.append("name needs Chinese and English")
    if not spec.roles:
        out.append("no role may append it")
    if not callable(spec.check) or not callable(spec.fold):
        out.append("needs a check and a fold step")
    user_event = bool(spec.roles - {Role.system}) and spec.states is not None
    if user_event and not _named(spec.action):
        out.append("a user's event needs an action name in both languages")
    for f in spec.fields:
        if not _named(f.label) or f.kind not in KINDS:
            out.append(f"field {f.key}: needs a label in both languages and a known kind")
        if f.shown is not None and not _named(f.shown):
            out.append(f"field {f.key}: its timeline label needs both languages")
    if user_event and not spec.shown_fields and spec.fields and not spec.photo_field:
        out.append("the timeline shows nothing of it")
    try:
        spec.payload_schema.model_json_schema()
    except Exception as exc:  # noqa: BLE001 - any failure to build the schema is the finding
        out.append(f"no payload schema: {exc}")
    return out


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_every_spec_is_complete(spec):
    assert problems(spec) == []


def test_a_spec_that_forgets_a_piece_fails_loudly():
    note = spec_of("note")
    assert problems(replace(note, name=("备注", ""))) == ["name needs Chinese and English"]
    assert problems(replace(note, action=None)) == [
        "a user's event needs an action name in both languages"
    ]
    unlabelled = replace(note, fields=(Field("text", ("备注内容", ""), shown=("备注", "Note")),))
    assert problems(unlabelled) == ["field text: needs a label in both languages and a known kind"]
    assert problems(replace(note, fold=None)) == ["needs a check and a fold step"]


def test_the_tables_are_the_specs():
    assert [e.value for e in EventType] == [s.type for s in SPECS]
    assert len({s.type for s in SPECS}) == len(SPECS)
    assert EVENT_NAMES[EventType.transferred] == ("移交", "Transferred")
    assert TRANSITIONS[EventType.transferred].roles == {Role.officer, Role.admin}
    assert EventType.transferred in USER_EVENTS
    # the sync wire takes what users may append, and nothing else
    ok = {"hazard_id": "00000000-0000-4000-8000-000000000001", "type": "transferred"}
    assert HazardEventPayload.model_validate(ok).type == "transferred"
    with pytest.raises(ValidationError):
        HazardEventPayload.model_validate({**ok, "type": "overdue"})


def _assigned_chain():
    off = Actor("off-1", Role.officer)
    events = []

    def add(actor, et, payload, at):
        view = fold(events) if events else None
        d = decide(view, et, actor, payload, at)
        events.append(
            seal_event(
                event_id=f"e{len(events)}", hazard_id="h", decision=d, actor=actor, at=at, prev=view
            )
        )

    add(off, "reported", {"site_id": "s", "title": "t", "severity": "general"}, T0)
    add(off, "assigned", {"responsible_unit": "甲公司", "responsible_person": "张"}, T0)
    return events, add


def test_transfer_hands_the_next_step_to_the_new_unit():
    events, add = _assigned_chain()
    before = fold(events)
    off2 = Actor("off-2", Role.officer)
    later = T0 + timedelta(days=1)
    add(
        off2,
        "transferred",
        {"responsible_unit": " 乙公司 ", "responsible_person": "李", "reason": "属乙公司管辖"},
        later,
    )
    view = fold(events)
    assert view.state is State.assigned and view.deadline == before.deadline
    assert (view.responsible_unit, view.responsible_person) == ("乙公司", "李")
    assert view.responsible_user_id is None
    assert view.link_owner == {
        "role": "enterprise",
        "unit": "乙公司",
        "person": "李",
        "user_id": None,
    }
    assert view.link_deadline == before.deadline
    assert events[-1].payload == {
        "responsible_unit": "乙公司",
        "responsible_person": "李",
        "reason": "属乙公司管辖",
        "previous_unit": "甲公司",
    }


@pytest.mark.parametrize(
    ("actor", "payload", "code"),
    [
        (Actor("e", Role.enterprise), {}, "role_not_allowed"),
        (Actor("i", Role.inspector), {}, "role_not_allowed"),
        (Actor("o", Role.officer), {"responsible_person": "李", "reason": "r"}, "missing_field"),
        (
            Actor("o", Role.officer),
            {"responsible_unit": "甲公司", "responsible_person": "李", "reason": "r"},
            "same_unit",
        ),
    ],
)
def test_transfer_refusals(actor, payload, code):
    events, _ = _assigned_chain()
    with pytest.raises(Refused) as exc:
        decide(fold(events), "transferred", actor, payload, T0)
    assert exc.value.refusal.code == code and exc.value.refusal.zh and exc.value.refusal.en


def test_transfer_only_while_a_unit_owes_the_work():
    events, add = _assigned_chain()
    add(Actor("off-1", Role.officer), "cancelled", {"reason": "误报"}, T0)
    good = {"responsible_unit": "乙", "responsible_person": "李", "reason": "r"}
    with pytest.raises(Refused) as exc:
        decide(fold(events), "transferred", Actor("off-1", Role.officer), good, T0)
    assert exc.value.refusal.code == "invalid_state"
