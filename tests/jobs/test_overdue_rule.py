""" "Overdue now" is one rule (``shared.chain.overdue_now``) and its SQL twin
(``server.hazards.overdue.overdue_clause``): for every state, deadline and flag the two agree
on both databases, so a count on the dashboard and the rows behind it never differ."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from server.hazards.models import Hazard
from server.hazards.overdue import overdue_clause
from shared.chain import State, overdue_now


def test_sql_and_python_agree_on_every_state_deadline_and_flag(world, clock):
    hazard_id = world.report("inspector", "mall", "安全出口堵塞")
    now = clock.now()
    deadlines = (None, now - timedelta(hours=1), now + timedelta(hours=1))
    seen = set()
    for state, deadline, flagged in itertools.product(State, deadlines, (False, True)):
        with world.session() as s:
            s.execute(
                update(Hazard)
                .where(Hazard.id == hazard_id)
                .values(state=state.value, deadline=deadline, overdue=flagged)
            )
        with world.session() as s:
            row = s.execute(
                select(Hazard.id).where(Hazard.id == hazard_id, overdue_clause(now))
            ).first()
            negated = s.execute(
                select(Hazard.id).where(Hazard.id == hazard_id, ~overdue_clause(now))
            ).first()
        expected = overdue_now(state.value, deadline, flagged, now)
        assert (row is not None) is expected, (state, deadline, flagged)
        assert (negated is None) is expected, ("NOT overdue must hold", state, deadline)
        seen.add(expected)
    assert seen == {True, False}


def test_the_rule_reads_as_a_person_would():
    now = datetime(2026, 6, 1, 8, tzinfo=UTC)
    past, future = now - timedelta(days=1), now + timedelta(days=1)
    assert overdue_now("rectifying", past, False, now)  # before the job flags it
    assert not overdue_now("rectifying", future, True, now)  # a new deadline starts clean
    assert overdue_now("reported", None, True, now)  # the officer's own step, flagged
    assert not overdue_now("reported", None, False, now)
    assert not overdue_now("rectified", past, True, now)  # the unit has acted: 复查 is next
    assert not overdue_now("closed", past, True, now)
