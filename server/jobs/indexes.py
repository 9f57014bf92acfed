"""Indexes the jobs' scans need on tables other domains own, declared here so the metadata
(and so Alembic's autogenerate and ``alembic check``) knows them. Imported by server.models.

- ``ix_hazard_unflagged_due``: flag_overdue reads only hazards that are in a deadline state and
  not yet flagged, so a run costs what falls due, not what is overdue already or the table size.
- ``ix_hazard_below_city``: escalate reads only hazards in a deadline state not yet supervised
  by the city, so hazards long escalated to the top cost nothing.
- ``ix_notification_undelivered``: the delivery job's scan of notifications not yet handed over.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from server.hazards.models import Hazard
from server.notifications.models import Notification
from shared.chain import DEADLINE_STATES

_STATES = ", ".join(f"'{s.value}'" for s in sorted(DEADLINE_STATES))
_UNFLAGGED_DUE = f"overdue IS false AND state IN ({_STATES})"
_BELOW_CITY = f"escalation_level < 2 AND state IN ({_STATES})"
_UNDELIVERED = "delivered_at IS NULL"

hazard_unflagged_due = Index(
    "ix_hazard_unflagged_due",
    Hazard.__table__.c.deadline,
    Hazard.__table__.c.id,
    postgresql_where=text(_UNFLAGGED_DUE),
    sqlite_where=text(_UNFLAGGED_DUE),
)
hazard_below_city = Index(
    "ix_hazard_below_city",
    Hazard.__table__.c.deadline,
    Hazard.__table__.c.id,
    postgresql_where=text(_BELOW_CITY),
    sqlite_where=text(_BELOW_CITY),
)
notification_undelivered = Index(
    "ix_notification_undelivered",
    Notification.__table__.c.user_id,
    postgresql_where=text(_UNDELIVERED),
    sqlite_where=text(_UNDELIVERED),
)
