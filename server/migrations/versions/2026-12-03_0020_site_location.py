"""site location: coordinates and their datum (WGS-84 or GCJ-02), for the map and GPS checks

Revision ID: 0020_site_location
Revises: 0017
Create Date: 2026-12-03 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020_site_location"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("site") as batch:
        batch.add_column(sa.Column("lat", sa.Float(), nullable=True))
        batch.add_column(sa.Column("lon", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column(
                "datum",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="wgs84",
            )
        )


def downgrade() -> None:
    # a plain DROP COLUMN (as 0013): a batch copy of ``site`` would drop a referenced table
    for column in ("datum", "lon", "lat"):
        op.execute(f"ALTER TABLE site DROP COLUMN {column}")
