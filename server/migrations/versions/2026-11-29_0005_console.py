"""console: leaders' sign-off of the daily risk summary; work-queue indexes on hazard

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-29 02:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import server.db

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "summary_ack",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("district_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("user_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("acknowledged_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("stored", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"], ["district.id"], name=op.f("fk_summary_ack_district_id_district")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_summary_ack_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summary_ack")),
        sa.UniqueConstraint(
            "district_id", "day", "user_id", name="uq_summary_ack_district_day_user"
        ),
    )
    with op.batch_alter_table("summary_ack", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_summary_ack_day"), ["day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_summary_ack_district_id"), ["district_id"], unique=False
        )
    with op.batch_alter_table("hazard", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hazard_queue",
            ["district_id", "state", "severity", "deadline", "reported_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_hazard_open_site", ["site_id", "state", "severity"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hazard", schema=None) as batch_op:
        batch_op.drop_index("ix_hazard_open_site")
        batch_op.drop_index("ix_hazard_queue")
    with op.batch_alter_table("summary_ack", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summary_ack_district_id"))
        batch_op.drop_index(batch_op.f("ix_summary_ack_day"))
    op.drop_table("summary_ack")
