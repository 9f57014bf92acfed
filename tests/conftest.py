"""Fixtures: a real database on each backend (SQLite and PostgreSQL) and a real server on
loopback. Under CI the PostgreSQL leg must run; locally it is skipped only when no server can
be started, and the skip says so."""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_server import CliServer, drop_database, empty_database

from server.blobs.store import BlobStore
from server.settings import Settings
from server.testing import DatabaseFactory, LiveServer, engine_for, start_embedded_postgres
from shared.clock import FixedClock

BACKENDS = ["sqlite", "postgresql"]
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Wuhai


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_uri(tmp_path_factory):
    url = os.environ.get("HAZARDCHAIN_TEST_PG_URL")
    if url:
        yield url
        return
    # Not under pytest's basetemp: a concurrent pytest run rotates (deletes) old basetemps,
    # and would pull the data directory from under a running server.
    pgdata = Path(tempfile.mkdtemp(prefix="hazardchain-pg-"))
    try:
        uri, handle = start_embedded_postgres(pgdata, throwaway=True)
    except Exception as exc:  # pragma: no cover - depends on the machine
        if _ci():
            pytest.fail(f"PostgreSQL leg is required under CI but could not start: {exc}")
        pytest.skip(f"no PostgreSQL available ({exc}); set HAZARDCHAIN_TEST_PG_URL")
    yield uri
    handle.cleanup()
    shutil.rmtree(pgdata, ignore_errors=True)


@pytest.fixture(scope="session")
def db_factory():
    workdir = Path(tempfile.mkdtemp(prefix="hazardchain-dbs-"))
    yield DatabaseFactory(workdir)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def shared_blob_dir():
    """Blobs are content-addressed, so tests may share one store with the demo's photos."""
    path = Path(tempfile.mkdtemp(prefix="hazardchain-blobs-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _seed_demo(blob_dir):
    def seed(url: str) -> None:
        from sqlmodel import Session

        from server.demo import load_demo

        with engine_for(url) as eng, Session(eng, expire_on_commit=False) as session:
            load_demo(session, password="demo-password", now=T0, store=BlobStore(blob_dir))

    return seed


@pytest.fixture
def db_url(backend, db_factory, request, shared_blob_dir):
    """A fresh migrated database; already holding the demo data when the test asks for it."""
    if backend == "postgresql":
        db_factory.pg_uri = request.getfixturevalue("pg_uri")
    if "demo" in request.fixturenames:
        url = db_factory.fresh(backend, _seed_demo(shared_blob_dir), "demo")
    else:
        url = db_factory.fresh(backend)
    yield url
    db_factory.drop(url)


@pytest.fixture
def engine(db_url):
    with engine_for(db_url) as eng:
        yield eng


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def blob_store(shared_blob_dir) -> BlobStore:
    return BlobStore(shared_blob_dir)


@pytest.fixture
def settings(db_url, shared_blob_dir, tmp_path) -> Settings:
    return Settings(
        env="test",
        database_url=db_url,
        secret_key="test-secret-" + "x" * 40,
        scheduler="off",
        blob_dir=shared_blob_dir,
        backup_dir=tmp_path / "backups",  # the scheduler's start-up run takes one
        # tests move the clock by days; token expiry has its own test with the default
        access_token_minutes=60 * 24 * 90,
    )


@pytest.fixture
def demo(engine):
    """The Wuhai demo data set (loaded through the services once per backend into a template
    database at T0; ``db_url`` copies it)."""
    return engine


@pytest.fixture
def live(settings, engine, clock):
    """A real uvicorn server on 127.0.0.1 serving the app on this test's database and clock."""
    from server.app import create_app

    server = LiveServer(create_app(settings, clock=clock, engine=engine)).start()
    yield server
    server.stop()


@pytest.fixture
def live_demo(demo, live):
    return live


def _cli_server_for(backend: str, pg: str | None):
    workdir = Path(tempfile.mkdtemp(prefix=f"hazardchain-cli-{backend}-"))
    url = empty_database(backend, workdir, pg)
    server = CliServer(url, workdir).start()
    yield server
    server.stop()
    drop_database(url, pg)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def cli_server_sqlite():
    yield from _cli_server_for("sqlite", None)


@pytest.fixture(scope="session")
def cli_server_postgresql(pg_uri):
    yield from _cli_server_for("postgresql", pg_uri)


@pytest.fixture
def cli_server(backend, request) -> CliServer:
    """A server set up exactly as ``make run`` does (``tests/cli_server.py``), one per backend
    for the session, on the real clock: tests on it add their own records and count only
    those, and change nothing others rely on (passwords, scopes). Use ``live`` instead only
    where the test needs the server in its process (a ``FixedClock`` it moves, the app
    object, a fault proxy in between)."""
    return request.getfixturevalue(f"cli_server_{backend}")


@pytest.fixture
def own_cli_server(backend, request):
    """A CLI-built server of this test's own, for a test that changes what others rely on."""
    pg = request.getfixturevalue("pg_uri") if backend == "postgresql" else None
    yield from _cli_server_for(backend, pg)
