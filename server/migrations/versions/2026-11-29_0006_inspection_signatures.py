"""inspections: the inspector's note per item, written descriptions and signatures (签字确认)

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-29 03:00:00.000000

Inspections stored before this revision had none of them: the server default gives them
empty notes and descriptions on both databases; ``signatures`` stays null.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        for name in ("item_notes", "descriptions"):
            batch_op.add_column(
                sa.Column(name, _json(), nullable=False, server_default=sa.text("'{}'"))
            )
        batch_op.add_column(sa.Column("signatures", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.drop_column("signatures")
        batch_op.drop_column("descriptions")
        batch_op.drop_column("item_notes")
