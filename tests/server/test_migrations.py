"""Migrations and models agree, and upgrade → downgrade → upgrade works on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import server.models  # noqa: F401
from server.db import make_engine, metadata
from server.migrate import downgrade, upgrade


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_and_models_match(db_url):
    assert _diff(db_url) == [], "models and migrations disagree: add a migration"
    assert _tables(db_url) == set(metadata.tables)
    downgrade(db_url, "base")
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _diff(db_url) == []
    assert "hazard_event" in _tables(db_url)
