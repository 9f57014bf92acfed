"""Every site, district and checklist template reaches the change feed, whichever process
wrote it: the ``hazardchain`` commands in fresh processes (which never import the feed module),
and migration 0008 for databases whose templates were imported before that was so."""

from __future__ import annotations

import pytest
from cli_server import cli_env, drop_database, empty_database, hazardchain
from sqlalchemy import text
from sqlmodel import Session, select

from server.blobs.store import BlobStore
from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo import load_demo
from server.migrate import downgrade, upgrade
from server.sites.models import District, Site
from server.sync.feed import clock_state, template_key
from server.sync.models import SyncChange
from server.testing import engine_for
from shared.checklist import load_all
from shared.clock import SystemClock

EXPECTED = sorted(template_key(tid, v) for tid, v in load_all(DEFAULT_ROOT))
BEFORE_0008 = "0004"  # 0008's parent on its own branch: downgrading to it removes 0008 alone


@pytest.fixture
def fresh_url(backend, tmp_path, request):
    """A database no process has touched yet."""
    pg = request.getfixturevalue("pg_uri") if backend == "postgresql" else None
    url = empty_database(backend, tmp_path, pg)
    yield url
    drop_database(url, pg)


def _feed(url: str, kind: str) -> list[SyncChange]:
    with engine_for(url) as eng, Session(eng) as s:
        return list(s.exec(select(SyncChange).where(SyncChange.kind == kind)).all())


def _keys(rows: list[SyncChange]) -> list[str]:
    """Sorted entity ids, repeated when an entity has more than one row."""
    return sorted(r.entity_id for r in rows)


def test_db_upgrade_records_every_template_in_the_feed(fresh_url, tmp_path):
    env = cli_env(fresh_url, tmp_path)
    out = hazardchain(env, tmp_path, "db", "upgrade").stdout
    assert f"{len(EXPECTED)} imported" in out
    assert EXPECTED and _keys(_feed(fresh_url, "template")) == EXPECTED  # one row each
    hazardchain(env, tmp_path, "demo")
    with engine_for(fresh_url) as eng, Session(eng) as s:
        sites = sorted(s.exec(select(Site.id)).all())
        districts = sorted(s.exec(select(District.id)).all())
    assert sites and _keys(_feed(fresh_url, "site")) == sites
    assert districts and _keys(_feed(fresh_url, "district")) == districts


def test_checklists_import_records_every_template_in_the_feed(fresh_url, tmp_path):
    env = cli_env(fresh_url, tmp_path)
    hazardchain(env, tmp_path, "db", "upgrade", "--no-checklists")
    assert _feed(fresh_url, "template") == []
    out = hazardchain(env, tmp_path, "checklists", "import").stdout
    assert f"{len(EXPECTED)} imported" in out
    assert _keys(_feed(fresh_url, "template")) == EXPECTED
    again = hazardchain(env, tmp_path, "checklists", "import").stdout
    assert "0 imported" in again
    assert _keys(_feed(fresh_url, "template")) == EXPECTED  # nothing new, nothing twice


def test_migration_0008_backfills_what_the_feed_missed(fresh_url, tmp_path):
    # the demo needs today's tables, so: everything, then 0008 alone taken back off (its
    # downgrade keeps the rows), then the rows it exists to restore deleted
    upgrade(fresh_url)
    with engine_for(fresh_url) as eng:
        with Session(eng, expire_on_commit=False) as s:
            now = SystemClock().now()
            load_demo(s, password="demo-password", now=now, store=BlobStore(tmp_path))
        import_into(eng, DEFAULT_ROOT, now)
        # in this process too, each template has exactly one row (no second hook)
        assert _keys(_feed(fresh_url, "template")) == EXPECTED
    downgrade(fresh_url, BEFORE_0008)
    # what the old command line left: templates the feed lacks, and a lost site
    with engine_for(fresh_url) as eng, eng.begin() as conn:
        conn.execute(text("DELETE FROM sync_change WHERE kind = 'template'"))
        site = conn.execute(text("SELECT MIN(id) FROM site")).scalar()
        conn.execute(text("DELETE FROM sync_change WHERE entity_id = :s"), {"s": site})
        before = conn.execute(text("SELECT MAX(seq) FROM sync_change")).scalar()
        clock_before = conn.execute(text("SELECT value FROM sync_clock")).scalar()
    assert _feed(fresh_url, "template") == []

    upgrade(fresh_url)
    templates = _feed(fresh_url, "template")
    assert _keys(templates) == EXPECTED
    # new positions after everything a device may already hold, and the clock moved past them
    assert min(r.seq for r in templates) > max(before, clock_before)
    sites = [r for r in _feed(fresh_url, "site") if r.entity_id == site]
    assert len(sites) == 1 and sites[0].seq > clock_before
    with engine_for(fresh_url) as eng, Session(eng) as s:
        top, _ = clock_state(s)
        assert top == s.exec(text("SELECT MAX(seq) FROM sync_change")).scalar()
        total = s.exec(text("SELECT COUNT(*) FROM sync_change")).scalar()

    # running it again (stamped back, upgraded again) adds nothing
    downgrade(fresh_url, BEFORE_0008)
    upgrade(fresh_url)
    with engine_for(fresh_url) as eng, Session(eng) as s:
        assert s.exec(text("SELECT COUNT(*) FROM sync_change")).scalar() == total
        assert clock_state(s)[0] == top
