"""transparency log: every chain event as a leaf of one RFC 9162 Merkle tree, and checkpoints

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 18:00:00.000000

The events already stored become the first leaves, in change-feed order (the commit order the
log keeps from now on); an event the feed somehow lacks follows, chain by chain. No checkpoint
is signed here: the signing key lives outside the database, and the first ``log_checkpoint``
job signs the backfilled tree. A leader's sign-off (``summary_ack``) gains the
day's checkpoint (size and root). Downgrading drops the log (and with it what it witnessed).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

from server.db import JSONType, UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0004"  # the feed gives the order

BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.create_table(
        "log_leaf",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("hazard_id", sa.String(length=36), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_leaf")),
        sa.UniqueConstraint("event_id", name=op.f("uq_log_leaf_event_id")),
    )
    op.create_index(op.f("ix_log_leaf_hazard_id"), "log_leaf", ["hazard_id"], unique=False)
    op.create_table(
        "log_node",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_node")),
    )
    op.create_table(
        "log_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoint")),
    )
    op.create_index(op.f("ix_log_checkpoint_size"), "log_checkpoint", ["size"], unique=False)
    op.create_table(
        "witness_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("detail", JSONType, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_witness_report")),
    )
    op.create_index(op.f("ix_witness_report_user_id"), "witness_report", ["user_id"], unique=False)
    with op.batch_alter_table("summary_ack", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkpoint_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("checkpoint_root", sa.String(length=64), nullable=True))
    _backfill()


def _backfill() -> None:
    from server.tlog.log import append_leaves, event_leaf, parse_frontier

    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT e.id, e.hazard_id, e.hash FROM hazard_event e"
            " LEFT JOIN sync_change c ON c.kind = 'event' AND c.entity_id = e.id"
            " ORDER BY CASE WHEN c.seq IS NULL THEN 1 ELSE 0 END, c.seq, e.hazard_id, e.seq"
        )
    ).all()
    size, frontier = 0, ""
    for at in range(0, len(rows), BATCH):
        batch = [(r[0], r[1], event_leaf(r[2])) for r in rows[at : at + BATCH]]
        frontier = append_leaves(bind, size, batch, parse_frontier(size, frontier))
        size += len(batch)
    bind.execute(
        sa.text("INSERT INTO log_head (id, size, frontier) VALUES (1, :n, :f)"),
        {"n": size, "f": frontier},
    )


def downgrade() -> None:
    with op.batch_alter_table("summary_ack", schema=None) as batch_op:
        batch_op.drop_column("checkpoint_root")
        batch_op.drop_column("checkpoint_size")
    for name in ("witness_report", "log_checkpoint", "log_node", "log_leaf", "log_head"):
        op.drop_table(name)
