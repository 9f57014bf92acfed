"""sync: change feed with its one-row clock, device sync state and op log

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29 02:10:00.000000

Existing chains, districts, sites and templates are put into the feed in chain order, so a
device's first pull finds everything already in the database.
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op
from sqlalchemy import Text  # noqa: F401
from sqlalchemy.dialects import postgresql

import server.db

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_change",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("hazard_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("district_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("site_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("op", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_change")),
    )
    op.create_index(
        "ix_sync_change_district_seq", "sync_change", ["district_id", "seq"], unique=False
    )
    op.create_index(op.f("ix_sync_change_hazard_id"), "sync_change", ["hazard_id"], unique=False)
    op.create_index("ix_sync_change_site_seq", "sync_change", ["site_id", "seq"], unique=False)
    op.create_table(
        "sync_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("epoch", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_clock")),
    )
    op.create_table(
        "sync_device",
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_pull_seq", sa.BigInteger(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("app_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("skew_seconds", sa.Float(), nullable=True),
        sa.Column("last_pull_at", server.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_seen", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_sync_device_device_id_device")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_sync_device_user_id_user")),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_sync_device")),
    )
    op.create_index(op.f("ix_sync_device_user_id"), "sync_device", ["user_id"], unique=False)
    op.create_table(
        "sync_op",
        sa.Column("op_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("device_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("device_seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("v", sa.Integer(), nullable=False),
        sa.Column("payload_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("message_zh", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("message_en", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column(
            "fields",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("server_seq", sa.BigInteger(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("device_time", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("received_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["sync_device.device_id"],
            name=op.f("fk_sync_op_device_id_sync_device"),
        ),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_sync_op")),
        sa.UniqueConstraint("device_id", "device_seq", name="uq_sync_op_device_seq"),
    )
    op.create_index(op.f("ix_sync_op_user_id"), "sync_op", ["user_id"], unique=False)
    _backfill_feed()


_BACKFILL = {
    # chains first, each in its own order, so a device can check every link as it arrives
    "hazard_event": (
        "SELECT :base + ROW_NUMBER() OVER (ORDER BY e.hazard_id, e.seq), 'event', e.id,"
        " e.hazard_id, h.district_id, h.site_id, 'put', h.updated_at"
        " FROM hazard_event e JOIN hazard h ON h.id = e.hazard_id"
    ),
    "district": (
        "SELECT :base + ROW_NUMBER() OVER (ORDER BY id), 'district', id,"
        " NULL, NULL, NULL, 'put', CURRENT_TIMESTAMP FROM district"
    ),
    "site": (
        "SELECT :base + ROW_NUMBER() OVER (ORDER BY id), 'site', id,"
        " NULL, district_id, id, 'put', created_at FROM site"
    ),
    # only when the checklists branch ran first; templates imported later are recorded then
    "checklist_template": (
        "SELECT :base + ROW_NUMBER() OVER (ORDER BY id, version), 'template',"
        " id || ':' || CAST(version AS VARCHAR(12)), NULL, NULL, NULL, 'put', imported_at"
        " FROM checklist_template"
    ),
}


def _backfill_feed() -> None:
    bind = op.get_bind()
    tables = set(sa.inspect(bind).get_table_names())
    base = 0
    for table, select_sql in _BACKFILL.items():
        if table not in tables:
            continue
        bind.execute(
            sa.text(
                "INSERT INTO sync_change"
                " (seq, kind, entity_id, hazard_id, district_id, site_id, op, at) " + select_sql
            ),
            {"base": base},
        )
        base = bind.execute(sa.text("SELECT COALESCE(MAX(seq), 0) FROM sync_change")).scalar()
    bind.execute(
        sa.text("INSERT INTO sync_clock (id, value, epoch) VALUES (1, :v, :e)"),
        {"v": int(base or 0), "e": secrets.token_hex(8)},
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_op_user_id"), table_name="sync_op")
    op.drop_table("sync_op")
    op.drop_index(op.f("ix_sync_device_user_id"), table_name="sync_device")
    op.drop_table("sync_device")
    op.drop_table("sync_clock")
    op.drop_index("ix_sync_change_site_seq", table_name="sync_change")
    op.drop_index(op.f("ix_sync_change_hazard_id"), table_name="sync_change")
    op.drop_index("ix_sync_change_district_seq", table_name="sync_change")
    op.drop_table("sync_change")
