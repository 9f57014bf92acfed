"""hazard numbers: 隐患编号 such as YH-150302-2026-000123 instead of UUIDs on paper

Revision ID: 0017
Revises: 0013
Create Date: 2026-12-03 18:00:00.000000

Existing hazards are numbered in creation order (report time, then id), per district and local
year, exactly as ``server.hazards.numbers`` numbers new ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from server.db import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    from shared.clock import local_date
    from shared.numbers import hazard_number

    bind = op.get_bind()
    hazard = sa.table(
        "hazard",
        sa.column("id", sa.String),
        sa.column("district_id", sa.String),
        sa.column("reported_at", UTCDateTime()),
        sa.column("number", sa.String),
    )
    rows = bind.execute(
        sa.select(hazard.c.id, hazard.c.district_id, hazard.c.reported_at).order_by(
            hazard.c.reported_at, hazard.c.id
        )
    ).all()
    seqs: dict[tuple[str, int], int] = {}
    for hid, district_id, reported_at in rows:
        year = local_date(reported_at).year
        seq = seqs[(district_id, year)] = seqs.get((district_id, year), 0) + 1
        number = hazard_number(district_id, year, seq)
        bind.execute(hazard.update().where(hazard.c.id == hid).values(number=number))


def upgrade() -> None:
    with op.batch_alter_table("hazard", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    _backfill()
    op.create_index("ux_hazard_number", "hazard", ["number"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_hazard_number", table_name="hazard")
    # a plain DROP COLUMN: a batch copy of ``hazard`` would break the tables referencing it
    op.execute("ALTER TABLE hazard DROP COLUMN number")
