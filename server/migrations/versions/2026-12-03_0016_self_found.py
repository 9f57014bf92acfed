"""self_found: who found each hazard, its 自查自改 closure and 抽查 on the hazard projection

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-03 18:00:00.000000

``hazard.origin`` is filled for the existing hazards from their first event, by the shared rule
that writes it from now on (``shared.events.origin_of``: the reporter's role, and whether the
report came from an inspection); no chain holds a self-closure or a spot-check yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from server.db import JSONType

revision: str = "0016"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    from shared.events import origin_of

    bind = op.get_bind()
    event = sa.table(
        "hazard_event",
        sa.column("hazard_id", sa.String),
        sa.column("seq", sa.Integer),
        sa.column("actor_role", sa.String),
        sa.column("payload", JSONType),
    )
    hazard = sa.table("hazard", sa.column("id", sa.String), sa.column("origin", sa.String))
    rows = bind.execute(
        sa.select(event.c.hazard_id, event.c.actor_role, event.c.payload)
        .where(event.c.seq == 1)
        .where(event.c.actor_role == "enterprise")
    ).all()
    for hid, role, payload in rows:
        bind.execute(
            hazard.update().where(hazard.c.id == hid).values(origin=origin_of(role, payload or {}))
        )


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy: SQLite's foreign keys refuse dropping a referenced table)
    op.add_column(
        "hazard",
        sa.Column(
            "origin",
            sqlmodel.sql.sqltypes.AutoString(length=16),
            nullable=False,
            server_default="regulator",
        ),
    )
    op.add_column(
        "hazard",
        sa.Column("self_closed", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("hazard", sa.Column("spot_check", sqlmodel.sql.sqltypes.AutoString(length=16)))
    op.create_index("ix_hazard_origin", "hazard", ["origin"], unique=False)
    op.create_index("ix_hazard_spot_check", "hazard", ["spot_check"], unique=False)
    _backfill()


def downgrade() -> None:
    # a plain DROP COLUMN (as 0013): a batch copy of ``hazard`` would drop a referenced table
    op.drop_index("ix_hazard_spot_check", table_name="hazard")
    op.drop_index("ix_hazard_origin", table_name="hazard")
    for column in ("spot_check", "self_closed", "origin"):
        op.execute(f"ALTER TABLE hazard DROP COLUMN {column}")
