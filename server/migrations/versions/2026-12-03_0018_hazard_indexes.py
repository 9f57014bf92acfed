"""hazard indexes: drop the redundant ones; the feed's shared rows get a pull-page index

Revision ID: 0018_hazard_indexes
Revises: 0017
Create Date: 2026-12-03 22:30:00.000000

Every hazard write (report, each chain step, each flagged deadline) updates every index of
``hazard``; 18 of them made writes, not reads, the cost (PERF-NOTES). Dropped:

- ``district_id``, ``site_id``, ``state``: each leads a composite index (``ix_hazard_queue``,
  ``ix_hazard_open_site``, ``ix_hazard_open_deadline``) that serves the same lookups;
- ``severity``, ``overdue``, ``escalation_level``, ``industry``: two to five values
  each, never read alone (a filter on them comes with the scope's district, read through
  ``ix_hazard_queue``; the jobs read their partial indexes ``ix_hazard_unflagged_due`` and
  ``ix_hazard_below_city``);
- ``inspection_id``: no query looks hazards up by it.

``ix_hazard_origin`` is as few-valued but comes from 0016, a sibling head this one may run
before; it is left to a later migration.

``ix_sync_change_shared_seq``: a pull page reads the changes every user gets (no district, no
site) in seq order; PostgreSQL sorted them, since ``district_id IS NULL`` on
``ix_sync_change_district_seq`` does not give seq order.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_hazard_indexes"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DROPPED = {
    "ix_hazard_district_id": ["district_id"],
    "ix_hazard_site_id": ["site_id"],
    "ix_hazard_state": ["state"],
    "ix_hazard_severity": ["severity"],
    "ix_hazard_overdue": ["overdue"],
    "ix_hazard_escalation_level": ["escalation_level"],
    "ix_hazard_industry": ["industry"],
    "ix_hazard_inspection_id": ["inspection_id"],
}
SHARED = "district_id IS NULL AND site_id IS NULL"


def upgrade() -> None:
    for name in DROPPED:
        op.drop_index(name, table_name="hazard")
    op.create_index(
        "ix_sync_change_shared_seq",
        "sync_change",
        ["seq"],
        unique=False,
        postgresql_where=sa.text(SHARED),
        sqlite_where=sa.text(SHARED),
    )


def downgrade() -> None:
    op.drop_index("ix_sync_change_shared_seq", table_name="sync_change")
    for name, columns in DROPPED.items():
        op.create_index(name, "hazard", columns, unique=False)
