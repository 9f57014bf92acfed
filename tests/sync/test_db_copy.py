"""Moving a pilot from SQLite to PostgreSQL with ``hazardchain db copy``: tablets that synced
with the SQLite server carry on against the PostgreSQL one with the cursors they hold (no
reset, nothing pulled twice), and every chain verifies there."""

from __future__ import annotations

from tablets import MALL, photo

from shared.clock import SystemClock
from tests.cli_server import CliServer, drop_database, empty_database, server_state


def test_a_sqlite_pilot_moves_to_postgresql_unnoticed(pg_uri, tablets, tmp_path):
    pilot = CliServer(f"sqlite:///{tmp_path / 'pilot.db'}", tmp_path)
    pilot.env["HAZARDCHAIN_SCHEDULER"] = "off"  # every event is one the test made
    target_url = empty_database("postgresql", tmp_path, pg_uri)
    try:
        pilot.start()
        t = tablets(pilot.url, "inspector", clock=SystemClock())
        hid = t.outbox.report_hazard(site_id=MALL, title="迁移前：配电箱无防护", severity="general")
        t.outbox.add_photos(hid, [photo("before-move")])
        assert t.sync().ok
        before, photos = server_state(pilot, pilot.blob_dir)
        cursor = t.store.meta("cursor")
        pilot.stop()

        # a target someone already filled is refused
        copied = pilot.run("db", "copy", "--to", target_url)
        assert "every chain verified" in copied.stdout
        again = pilot.run("db", "copy", "--to", target_url, ok=False)
        assert again.returncode == 2 and "already holds data" in again.stderr

        production = CliServer(target_url, tmp_path)  # same folder: the photos stay put
        production.env["HAZARDCHAIN_SCHEDULER"] = "off"
        production.port = pilot.port  # same address: the tablet is not reconfigured
        production.serve()
        try:
            after, photos_after = server_state(production, pilot.blob_dir)
            assert after == before and photos_after == photos
            t.outbox.append_event(hid, "note", {"text": "迁移后继续工作"})
            result = t.sync()
            assert result.ok, result.errors
            assert result.resets == 0  # the cursor it held is still good
            assert t.store.meta("cursor") != cursor
            assert t.chains_verify() == []
            moved, _ = server_state(production, pilot.blob_dir)
            assert [e for e, _ in moved[hid]][-1] == "note"
            assert "BROKEN" not in production.run("chains", "verify").stdout
        finally:
            production.stop()
    finally:
        pilot.stop()
        drop_database(target_url, pg_uri)


def test_copy_refuses_a_source_behind_the_code(pg_uri, tmp_path):
    pilot = CliServer(f"sqlite:///{tmp_path / 'old.db'}", tmp_path)
    target_url = empty_database("postgresql", tmp_path, pg_uri)
    try:
        pilot.run("db", "upgrade", "0001", "--no-checklists")
        out = pilot.run("db", "copy", "--to", target_url, ok=False)
        assert out.returncode == 2 and "upgrade it first" in out.stderr
    finally:
        drop_database(target_url, pg_uri)
