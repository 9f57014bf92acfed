"""Moving a pilot from SQLite to PostgreSQL with ``hazardchain db copy``: tablets that synced
with the SQLite server carry on against the PostgreSQL one with the cursors they hold (no
reset, nothing pulled twice), and every chain verifies there."""

from __future__ import annotations

from cli_install import CliInstall, pg_database, server_state
from tablets import MALL, photo

from server.testing import _pg_exec
from shared.clock import SystemClock


def test_a_sqlite_pilot_moves_to_postgresql_unnoticed(pg_uri, tablets, tmp_path):
    pilot = CliInstall(tmp_path, f"sqlite:///{tmp_path / 'pilot.db'}")
    target_url, name = pg_database(pg_uri, "moved")
    try:
        pilot.run("db", "upgrade")
        pilot.run("demo")
        pilot.serve()
        t = tablets(pilot.url, "inspector", clock=SystemClock())
        hid = t.outbox.report_hazard(site_id=MALL, title="迁移前：配电箱无防护", severity="general")
        t.outbox.add_photos(hid, [photo("before-move")])
        assert t.sync().ok
        before, photos = server_state(pilot)
        cursor = t.store.meta("cursor")
        pilot.stop()

        # a target someone already filled is refused
        copied = pilot.run("db", "copy", "--to", target_url)
        assert "every chain verified" in copied.stdout
        again = pilot.run("db", "copy", "--to", target_url, check=False)
        assert again.returncode == 2 and "already holds data" in again.stderr

        production = CliInstall(tmp_path, target_url)
        production.blob_dir = pilot.blob_dir  # the photo store stays where it is
        production.env["HAZARDCHAIN_BLOB_DIR"] = str(pilot.blob_dir)
        production.port = pilot.port  # same address: the tablet is not reconfigured
        production.serve()
        try:
            after, photos_after = server_state(production)
            assert after == before and photos_after == photos
            t.outbox.append_event(hid, "note", {"text": "迁移后继续工作"})
            result = t.sync()
            assert result.ok, result.errors
            assert result.resets == 0  # the cursor it held is still good
            assert t.store.meta("cursor") != cursor
            assert t.chains_verify() == []
            moved, _ = server_state(production)
            assert [e for e, _ in moved[hid]][-1] == "note"
            assert "BROKEN" not in production.run("chains", "verify").stdout
        finally:
            production.stop()
    finally:
        pilot.stop()
        _pg_exec(pg_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_copy_refuses_a_source_behind_the_code(pg_uri, tmp_path):
    pilot = CliInstall(tmp_path, f"sqlite:///{tmp_path / 'old.db'}")
    target_url, name = pg_database(pg_uri, "behind")
    try:
        pilot.run("db", "upgrade", "0001", "--no-checklists")
        out = pilot.run("db", "copy", "--to", target_url, check=False)
        assert out.returncode == 2 and "upgrade it first" in out.stderr
    finally:
        _pg_exec(pg_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
