"""device-bound tablet sessions: the device's public key on the session; used proof ids

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03 09:00:00.000000

A tablet session refreshes only with a proof signed by the key it logged in with
(docs/sync.md, "Sessions"). Sessions opened before this revision have no key: one naming a
device must log in again to bind one; one naming none rotates as a plain bearer token.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import server.db

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("device_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    op.create_table(
        "used_proof",
        sa.Column("jti", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_used_proof")),
    )
    with op.batch_alter_table("used_proof", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_used_proof_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("used_proof", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_proof_expires_at"))
    op.drop_table("used_proof")
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.drop_column("device_key")
