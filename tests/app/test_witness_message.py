"""The sync screen says plainly when the log witness found the server's record inconsistent
(a failure stored by ``mobile_app.core.witness``), in the tablet's language, after a sync that
itself went through; it is not cleared by syncing again."""

from __future__ import annotations

from app_helpers import login, sync

from mobile_app.core.witness import message


def test_a_witness_failure_is_shown_on_the_sync_screen(server, start_app):
    d = start_app(server.url, "tablet")
    store = d.app.backend._inner
    login(d, "officer")
    sync(d)
    screen = d.go("sync")
    assert "tampered" not in screen.ids.errors.text and "篡改" not in screen.ids.errors.text
    store.store.write(
        lambda db: db.execute(
            "INSERT INTO witness_failure (at, reason, detail, reported)"
            " VALUES ('2026-12-03T00:00:00.000000Z', 'consistency_failed', '{}', 1)"
        )
    )
    sync(d)
    screen = d.go("sync")
    assert message("consistency_failed", d.app.lang) in screen.ids.errors.text
