"""auth sessions name the session their refresh token was rotated into

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-29 04:00:00.000000

A rotated refresh token shown again is told apart by it: a lost answer (within the grace
period, successor unused) or a stolen copy (the sessions descended from it are revoked).
Sessions rotated before this revision name none; reuse of their tokens is simply refused.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaced_by", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_column("replaced_by")
