"""inspection numbers: 检查记录编号 such as JC-150302-2026-000045 instead of UUIDs on paper

Revision ID: 0024_fieldfix
Revises: 0022_log_webhook
Create Date: 2026-12-04 02:00:00.000000

Existing inspections are numbered in the order they were carried out (end time, then id), per
district and local year, as ``server.hazards.numbers`` numbers new ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from server.db import UTCDateTime

revision: str = "0024_fieldfix"
down_revision: str | None = "0022_log_webhook"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    from shared.clock import local_date
    from shared.numbers import inspection_number

    bind = op.get_bind()
    inspection = sa.table(
        "inspection",
        sa.column("id", sa.String),
        sa.column("district_id", sa.String),
        sa.column("ended_at", UTCDateTime()),
        sa.column("number", sa.String),
    )
    rows = bind.execute(
        sa.select(inspection.c.id, inspection.c.district_id, inspection.c.ended_at).order_by(
            inspection.c.ended_at, inspection.c.id
        )
    ).all()
    seqs: dict[tuple[str, int], int] = {}
    for iid, district_id, ended_at in rows:
        year = local_date(ended_at).year
        seq = seqs[(district_id, year)] = seqs.get((district_id, year), 0) + 1
        bind.execute(
            inspection.update()
            .where(inspection.c.id == iid)
            .values(number=inspection_number(district_id, year, seq))
        )


def upgrade() -> None:
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    _backfill()
    op.create_index("ux_inspection_number", "inspection", ["number"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_inspection_number", table_name="inspection")
    # a plain DROP COLUMN: a batch copy of ``inspection`` would break the tables referencing it
    op.execute("ALTER TABLE inspection DROP COLUMN number")
