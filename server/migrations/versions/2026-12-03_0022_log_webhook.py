"""log webhook: each signed checkpoint is also POSTed to an external witness

Revision ID: 0022_log_webhook
Revises: 0017, 0014
Create Date: 2026-12-03 22:10:00.000000

``log_checkpoint`` gains its delivery to ``HAZARDCHAIN_LOG_WEBHOOK_URL``: ``webhook_state``
(NULL: signed with no webhook set, ``pending``, ``sent``), the attempts so far and the last
error. A checkpoint signed while the webhook is set stays ``pending`` until a run delivers it,
so a receiver that is down loses nothing. The table is 0014's, so this revision merges 0014's
branch (a ``depends_on`` would leave 0014 a head that ``alembic_version`` never lists, and
``/readyz`` and ``db copy`` then called every upgraded database out of date).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_log_webhook"
down_revision: str | Sequence[str] | None = ("0017", "0014")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("log_checkpoint") as batch:
        batch.add_column(sa.Column("webhook_state", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("webhook_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("webhook_error", sa.Text(), nullable=True))
        batch.create_index("ix_log_checkpoint_webhook_state", ["webhook_state"])


def downgrade() -> None:
    with op.batch_alter_table("log_checkpoint") as batch:
        batch.drop_index("ix_log_checkpoint_webhook_state")
        batch.drop_column("webhook_error")
        batch.drop_column("webhook_attempts")
        batch.drop_column("webhook_state")
