"""inspections and plans record why a checklist that does not fit the site's type was used

Revision ID: 0008_checklist_override
Revises: 0006, 0003
Create Date: 2026-12-03 14:00:00.000000

``shared.site_checklists`` decides which checklist and profile fit a site; a mismatch is
refused unless the inspector or officer gives a reason, kept here. Earlier rows have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_checklist_override"
down_revision: str | Sequence[str] | None = ("0006", "0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inspection", "inspection_plan")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("checklist_override", sa.String(length=500), nullable=True)
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("checklist_override")
