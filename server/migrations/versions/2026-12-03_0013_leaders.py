"""leaders: who acts next and whom a 批示 awaits on the hazard projection; 签阅 comments

Revision ID: 0013
Revises: 0005
Create Date: 2026-12-03 15:00:00.000000

``hazard.next_roles`` and ``hazard.instruction_for`` are filled for the existing hazards by
folding each chain with the shared rules (the same fold that writes them from now on); no
chain has a 批示 yet, so ``instruction_for`` starts empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from server.db import JSONType

revision: str = "0013"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    from shared.chain import ChainEvent
    from shared.events import acts_next, fold

    bind = op.get_bind()
    names = list(ChainEvent.__dataclass_fields__)
    kinds = {"seq": sa.Integer, "payload": JSONType, "next_owner": JSONType}
    event = sa.table("hazard_event", *(sa.column(n, kinds.get(n, sa.String)) for n in names))
    hazard = sa.table("hazard", sa.column("id", sa.String), sa.column("next_roles", sa.String))
    ids = [r[0] for r in bind.execute(sa.select(hazard.c.id))]
    for hid in ids:
        rows = bind.execute(
            sa.select(*(event.c[n] for n in names))
            .where(event.c.hazard_id == hid)
            .order_by(event.c.seq)
        ).all()
        if not rows:
            continue
        view = fold(ChainEvent(*row) for row in rows)
        roles = " ".join(sorted(r.value for r in acts_next(view)))
        bind.execute(hazard.update().where(hazard.c.id == hid).values(next_roles=roles))


def upgrade() -> None:
    with op.batch_alter_table("hazard", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "next_roles",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "instruction_for",
                sqlmodel.sql.sqltypes.AutoString(length=64),
                nullable=False,
                server_default="",
            )
        )
    with op.batch_alter_table("summary_ack", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True)
        )
    _backfill()


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+ has it): a batch copy of ``hazard`` would drop a table
    # that events and photos reference, which SQLite's foreign keys refuse once there is data
    for table, column in (
        ("summary_ack", "comment"),
        ("hazard", "instruction_for"),
        ("hazard", "next_roles"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
