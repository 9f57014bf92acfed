"""hazard.head: the fold at the chain's head, so an append folds one step on instead of
reading and refolding the whole chain

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-03 18:00:00.000000

No backfill: a hazard without a head (or with one written by another fold version) is folded
from its chain at its next append, which then stores the head (``server.hazards.service``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from server.db import JSONType

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hazard") as batch:
        batch.add_column(sa.Column("head", JSONType, nullable=True))


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+), as 0013's: a batch copy of ``hazard`` would drop a
    # table that events reference, which SQLite's foreign keys refuse once there is data
    op.execute("ALTER TABLE hazard DROP COLUMN head")
