"""Property tests of the chain rules (hypothesis): random valid histories fold the same way
every time, refused transitions say why, and any edit to any stored field breaks verification
at exactly that event."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.chain import (
    ESCALATION_LEVELS,
    TRANSITIONS,
    Actor,
    ChainEvent,
    EventType,
    Refused,
    State,
    allowed_event_types,
    canonical_json,
    decide,
    fold,
    seal_event,
    verify_chain,
)
from shared.clock import to_iso
from shared.events import SPEC_BY_TYPE, Field
from shared.roles import Role

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SHA = "ab" * 32
ACTORS = {
    Role.inspector: [Actor("insp-1", Role.inspector)],
    Role.enterprise: [Actor("ent-1", Role.enterprise)],
    Role.officer: [Actor("off-1", Role.officer), Actor("off-2", Role.officer)],
    Role.leader: [Actor("lead-1", Role.leader)],
    Role.admin: [Actor("adm-1", Role.admin)],
    Role.system: [Actor("system", Role.system)],
}


WORDS = st.text(st.characters(categories=["L", "N", "Zs"]), min_size=1, max_size=20).filter(
    lambda s: s.strip()
)


def field_value(f: Field, view, now: datetime) -> st.SearchStrategy:
    """A value of a spec's field that its check accepts (given the hazard's state), by kind."""
    base = max(now, datetime.fromisoformat(view.deadline)) if view.deadline else now
    match f.kind:
        case "date":
            return st.integers(1, 60).map(lambda d: to_iso(base + timedelta(days=d)))
        case "photos":
            return st.just([SHA])
        case "level":
            above = [lvl for lvl in ESCALATION_LEVELS if lvl > view.escalation_level]
            return st.sampled_from(above or [max(ESCALATION_LEVELS)])  # at the top: refused
        case "account":
            return st.just("user-1")
        case _:
            return WORDS


def valid_payload(et: str, view, now: datetime, draw) -> dict:
    """Derived from the event's spec: every required field, each optional one or not."""
    payload = {
        f.key: draw(field_value(f, view, now))
        for f in SPEC_BY_TYPE[et].form_fields
        if f.required or draw(st.booleans())
    }
    SPEC_BY_TYPE[et].payload_schema.model_validate(payload)  # the schema says the same
    return payload


@st.composite
def histories(draw, max_steps: int = 14) -> list[ChainEvent]:
    now = T0
    severity = draw(st.sampled_from(["general", "major"]))
    reporter = draw(st.sampled_from(ACTORS[Role.inspector] + ACTORS[Role.officer]))
    payload = {"site_id": "site-1", "title": "隐患", "severity": severity, "industry": "mine"}
    d = decide(None, "reported", reporter, payload, now)
    events = [
        seal_event(event_id="e1", hazard_id="h1", decision=d, actor=reporter, at=now, prev=None)
    ]
    for step in range(draw(st.integers(0, max_steps))):
        view = fold(events)
        now = now + timedelta(hours=draw(st.integers(1, 24 * 20)))
        options = [(role, et) for role in ACTORS for et in allowed_event_types(view, role)]
        if not options:
            break
        role, et = draw(st.sampled_from(options))
        actor = draw(st.sampled_from(ACTORS[role]))
        try:
            d = decide(view, et, actor, valid_payload(et, view, now, draw), now)
        except Refused as exc:  # e.g. plan incomplete, verifier is rectifier, not yet overdue
            assert exc.refusal.code and exc.refusal.zh and exc.refusal.en
            continue
        events.append(
            seal_event(
                event_id=f"e{step + 2}", hazard_id="h1", decision=d, actor=actor, at=now, prev=view
            )
        )
    return events


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(histories())
def test_valid_histories_verify_and_fold_deterministically(events):
    assert verify_chain(events) is None
    first, second = fold(events), fold(list(events))
    assert first == second
    # what a device stores and reads back (JSON) folds to the same state
    stored = [json.loads(canonical_json(e.body() | {"hash": e.hash})) for e in events]
    assert fold(stored) == first
    assert verify_chain([ChainEvent.from_mapping(s) for s in stored]) is None
    assert first.event_count == len(events) and first.last_hash == events[-1].hash


@FAST
@given(histories(), st.data())
def test_disallowed_transitions_are_refused_with_a_reason(events, data):
    view = fold(events)
    et = data.draw(st.sampled_from([e for e in EventType if e is not EventType.reported]))
    rule = TRANSITIONS[et]
    outsiders = [r for r in ACTORS if r not in rule.roles]
    if outsiders:
        actor = ACTORS[data.draw(st.sampled_from(outsiders))][0]
        with pytest.raises(Refused) as exc:
            decide(view, et, actor, {}, T0 + timedelta(days=400))
        assert exc.value.refusal.code == "role_not_allowed"
        assert exc.value.refusal.zh and exc.value.refusal.en
    if view.state not in rule.states:
        actor = ACTORS[sorted(rule.roles)[0]][0]
        with pytest.raises(Refused) as exc:
            decide(view, et, actor, {}, T0 + timedelta(days=400))
        assert exc.value.refusal.code == "invalid_state"
    with pytest.raises(Refused) as exc:
        decide(view, EventType.reported, ACTORS[Role.inspector][0], {}, T0)
    assert exc.value.refusal.code == "already_reported"


def _tamper(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, dict):
        return {**value, "tampered": 1}
    return "x"  # None


@FAST
@given(histories(max_steps=8), st.data())
def test_changing_any_field_breaks_verification_at_that_event(events, data):
    index = data.draw(st.integers(0, len(events) - 1))
    field = data.draw(st.sampled_from(list(ChainEvent.__dataclass_fields__)))
    changed = copy.deepcopy(events)
    changed[index] = replace(changed[index], **{field: _tamper(getattr(changed[index], field))})
    brk = verify_chain(changed)
    assert brk is not None
    assert brk.seq == index + 1 and brk.event_id == changed[index].id


def test_overdue_is_per_deadline_and_extension_clears_it():
    off = ACTORS[Role.officer][0]
    sysa = ACTORS[Role.system][0]
    now = T0
    events = []

    def add(actor, et, payload):
        nonlocal now
        view = fold(events) if events else None
        d = decide(view, et, actor, payload, now)
        events.append(
            seal_event(
                event_id=f"e{len(events)}",
                hazard_id="h",
                decision=d,
                actor=actor,
                at=now,
                prev=view,
            )
        )

    add(off, "reported", {"site_id": "s", "title": "t", "severity": "general"})
    add(
        off,
        "assigned",
        {
            "responsible_unit": "u",
            "responsible_person": "p",
            "deadline": to_iso(now + timedelta(days=1)),
        },
    )
    with pytest.raises(Refused, match="deadline has not passed"):
        decide(fold(events), "overdue", sysa, {}, now)
    now += timedelta(days=2)
    add(sysa, "overdue", {})
    assert fold(events).overdue and fold(events).state is State.assigned
    with pytest.raises(Refused) as exc:
        decide(fold(events), "overdue", sysa, {}, now)
    assert exc.value.refusal.code == "already_flagged"
    add(
        off, "extension_requested", {"new_deadline": to_iso(now + timedelta(days=5)), "reason": "r"}
    )
    add(off, "extension_granted", {})
    view = fold(events)
    assert not view.overdue and not view.is_overdue(now)
    assert view.is_overdue(now + timedelta(days=6))


def test_assignment_without_date_uses_the_items_time_limit():
    off = ACTORS[Role.officer][0]
    base = {"site_id": "s", "title": "t", "severity": "general", "industry": "mine"}
    plain = fold(
        [
            seal_event(
                event_id="a",
                hazard_id="h",
                decision=decide(None, "reported", off, base, T0),
                actor=off,
                at=T0,
                prev=None,
            )
        ]
    )
    d = decide(plain, "assigned", off, {"responsible_unit": "u", "responsible_person": "p"}, T0)
    assert d.payload["deadline"] == to_iso(T0 + timedelta(days=7))  # policy: general mine
    for days, expected in ((3, 3), (0, 1)):
        first = decide(None, "reported", off, {**base, "deadline_days": days}, T0)
        view = fold(
            [seal_event(event_id="a", hazard_id="h", decision=first, actor=off, at=T0, prev=None)]
        )
        d = decide(view, "assigned", off, {"responsible_unit": "u", "responsible_person": "p"}, T0)
        assert d.payload["deadline"] == to_iso(T0 + timedelta(days=expected))
