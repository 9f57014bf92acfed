"""open work index: the console's queue and live dashboard read open hazards from an index

Revision ID: 0026_summsql
Revises: 0022_log_webhook
Create Date: 2026-12-03 23:50:00.000000

``ix_hazard_open_work``: the open hazards only (partial), keyed like ``ix_hazard_queue`` and,
on PostgreSQL, carrying the few other columns the queue's page and tab counts, the
dashboard's supervised list and its four-colour picture read (INCLUDE), so those are
index-only scans over the open hazards in scope instead of heap reads of every open hazard.

``ix_hazard_updated_at``: the daily summary folds back only the hazards changed after its
cut-off; without it finding them (none, for today's live figures) was a pass over the table.
It also counts the hazards finished since the summary's window began from the index alone on
PostgreSQL (INCLUDE). The cost: a write that changes only ``updated_at`` (a note) is no longer
a HOT update.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_summsql"
down_revision: str | Sequence[str] | None = "0022_log_webhook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the open states when this revision was written (shared.chain.OPEN_STATES), fixed here
OPEN = "state IN ('assigned', 'in_review', 'rectifying', 'reported', 'verified')"


def upgrade() -> None:
    op.create_index(
        "ix_hazard_open_work",
        "hazard",
        ["district_id", "state", "severity", "deadline", "reported_at", "id"],
        unique=False,
        postgresql_include=[
            "overdue",
            "escalation_level",
            "next_roles",
            "site_id",
            "responsible_user_id",
            "industry",
            "updated_at",
            "closed_at",
        ],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_hazard_updated_at",
        "hazard",
        ["updated_at"],
        unique=False,
        postgresql_include=[
            "state",
            "district_id",
            "industry",
            "severity",
            "reported_at",
            "closed_at",
            "deadline",
            "escalation_level",
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_hazard_updated_at", table_name="hazard")
    op.drop_index("ix_hazard_open_work", table_name="hazard")
