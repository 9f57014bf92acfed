"""``shared.chain.overdue_now`` as SQL, for lists, counts and metrics that must not load
hazards to ask: the same rule, so a count and the rows it counts never disagree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from server.hazards.models import Hazard
from shared.chain import DEADLINE_STATES, State

_DEADLINE_VALUES = sorted(s.value for s in DEADLINE_STATES)


def overdue_clause(now: datetime, table=None) -> ColumnElement[bool]:
    """Over ``hazard`` (or an alias of it, ``table``)."""
    c = (table if table is not None else Hazard.__table__).c
    return or_(
        and_(c.state.in_(_DEADLINE_VALUES), c.deadline.is_not(None), c.deadline < now),
        and_(c.state == State.reported.value, c.overdue.is_(True)),
    )
