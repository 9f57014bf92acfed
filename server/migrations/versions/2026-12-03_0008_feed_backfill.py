"""feed backfill: templates (and sites, districts) written without a change-feed row

Revision ID: 0008
Revises: 0004, 0006
Create Date: 2026-12-03 12:00:00.000000

Until the feed's flush hook moved into ``server.db``, it ran only in processes that had
imported ``server.sync.feed``; ``hazardchain db upgrade`` and ``hazardchain checklists import``
never had, so the templates they imported never reached a tablet. Each site, district and
template with no row in the feed gets one now, from the clock (its row locked for the
transaction), in the order they were written, districts before their sites. Running it again
adds nothing; downgrading keeps the rows (tablets may already hold positions after them).
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = ("0004", "0006")  # the feed; the templates
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEMPLATE_KEY = "t.id || ':' || CAST(t.version AS VARCHAR(12))"  # feed.template_key

_MISSING = {
    # kind: SELECT of the rows to add (seq, kind, entity_id, hazard_id, district_id, site_id,
    # op, at), numbered from :base in write order, only for entities the feed lacks
    "district": (
        "SELECT :base + ROW_NUMBER() OVER (ORDER BY t.id), 'district', t.id,"
        " NULL, NULL, NULL, 'put', CURRENT_TIMESTAMP FROM district t"
        " WHERE NOT EXISTS (SELECT 1 FROM sync_change c"
        " WHERE c.kind = 'district' AND c.entity_id = t.id)"
    ),
    "site": (
        "SELECT :base + ROW_NUMBER() OVER (ORDER BY t.created_at, t.id), 'site', t.id,"
        " NULL, t.district_id, t.id, 'put', t.created_at FROM site t"
        " WHERE NOT EXISTS (SELECT 1 FROM sync_change c"
        " WHERE c.kind = 'site' AND c.entity_id = t.id)"
    ),
    "template": (
        "SELECT :base + ROW_NUMBER() OVER (ORDER BY t.imported_at, t.id, t.version),"
        f" 'template', {_TEMPLATE_KEY}, NULL, NULL, NULL, 'put', t.imported_at"
        " FROM checklist_template t"
        " WHERE NOT EXISTS (SELECT 1 FROM sync_change c"
        f" WHERE c.kind = 'template' AND c.entity_id = {_TEMPLATE_KEY})"
    ),
}


def upgrade() -> None:
    bind = op.get_bind()
    # take the clock's row lock first, as feed.take_seq does, so positions follow commit order
    locked = bind.execute(
        sa.text("UPDATE sync_clock SET value = value WHERE id = 1 RETURNING value")
    ).first()
    if locked is None:  # a database whose clock row was never written
        bind.execute(
            sa.text("INSERT INTO sync_clock (id, value, epoch) VALUES (1, 0, :e)"),
            {"e": secrets.token_hex(8)},
        )
    base = max(int(locked[0]) if locked else 0, _top(bind))
    for select_sql in _MISSING.values():
        bind.execute(
            sa.text(
                "INSERT INTO sync_change"
                " (seq, kind, entity_id, hazard_id, district_id, site_id, op, at) " + select_sql
            ),
            {"base": base},
        )
        base = max(base, _top(bind))
    bind.execute(sa.text("UPDATE sync_clock SET value = :v WHERE id = 1"), {"v": base})


def _top(bind: sa.Connection) -> int:
    return int(bind.execute(sa.text("SELECT COALESCE(MAX(seq), 0) FROM sync_change")).scalar())


def downgrade() -> None:
    """Nothing to undo: the rows describe data that exists, and devices may have pulled them."""
