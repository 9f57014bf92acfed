"""blobs: who sent the bytes (blob_owner); hazard photo links that wait for their citer's bytes

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03 00:00:00.000000

A hash grants nothing any more: a user may see and cite a blob they sent or can see through a
record in their scope. Existing data stays visible as before: every finished blob's recorded
uploader becomes an owner, so does the inspector of every inspection citing a finished blob
(an inspection grants its photos only when its inspector owns them), and every existing
``hazard_photo`` link stays granting (``waiting_for`` null).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import server.db

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
_attachment = sa.table(
    "attachment",
    sa.column("sha256", sa.String),
    sa.column("complete", sa.Boolean),
    sa.column("uploaded_by", sa.String),
    sa.column("created_at", server.db.UTCDateTime()),
)
_inspection = sa.table(
    "inspection",
    sa.column("inspector_id", sa.String),
    sa.column("photos", _JSON),
    sa.column("signatures", _JSON),
    sa.column("submitted_at", server.db.UTCDateTime()),
)


def _cited(photos: object, signatures: object) -> set[str]:
    """The blobs an inspection row cites, as the columns stored them (kept here, not imported,
    so this revision means the same whatever the code becomes)."""
    out: set[str] = set()
    for shas in (photos or {}).values() if isinstance(photos, dict) else ():
        out.update(s for s in shas or () if isinstance(s, str))
    if isinstance(signatures, dict):
        out.update(signatures[k] for k in ("inspector", "representative") if signatures.get(k))
    return out


def upgrade() -> None:
    owner = op.create_table(
        "blob_owner",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", server.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "user_id"),
    )
    with op.batch_alter_table("blob_owner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blob_owner_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("hazard_photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_for", sa.String(length=36), nullable=True))

    conn = op.get_bind()
    finished = {
        sha: (uploader, at)
        for sha, uploader, at in conn.execute(
            sa.select(
                _attachment.c.sha256, _attachment.c.uploaded_by, _attachment.c.created_at
            ).where(_attachment.c.complete.is_(True))
        )
    }
    rows = {(sha, uploader): at for sha, (uploader, at) in finished.items() if uploader is not None}
    for inspector, photos, signatures, at in conn.execute(
        sa.select(
            _inspection.c.inspector_id,
            _inspection.c.photos,
            _inspection.c.signatures,
            _inspection.c.submitted_at,
        )
    ):
        for sha in _cited(photos, signatures) & finished.keys():
            rows.setdefault((sha, inspector), at or datetime.now(UTC))
    if rows:
        op.bulk_insert(
            owner, [{"sha256": s, "user_id": u, "created_at": at} for (s, u), at in rows.items()]
        )


def downgrade() -> None:
    with op.batch_alter_table("hazard_photo", schema=None) as batch_op:
        batch_op.drop_column("waiting_for")
    with op.batch_alter_table("blob_owner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blob_owner_user_id"))
    op.drop_table("blob_owner")
