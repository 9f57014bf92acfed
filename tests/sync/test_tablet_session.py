"""Who uses the tablet: the first login needs the server, later ones unlock offline with the
same password (and only with it); log out keeps records only this tablet holds unless told
explicitly; the op numbering survives a log out, since the server expects it to go on."""

from __future__ import annotations

import json

import pytest
from tablets import MALL, PASSWORD, sqlite_only

from mobile_app.core.session import DeviceSession, UnlockFailed, UnsyncedRecords, Verifier
from mobile_app.core.store import LocalStore


def test_verifier_matches_only_the_password_it_was_made_from():
    v = Verifier.make("Inspector", "secret-1")
    assert v.matches("inspector", "secret-1") and v.matches(" INSPECTOR ", "secret-1")
    assert not v.matches("inspector", "secret-2")
    assert not v.matches("officer", "secret-1")
    assert Verifier.make("inspector", "secret-1").salt != v.salt  # salted per login
    assert "secret-1" not in json.dumps(vars(v))


def test_the_first_login_needs_the_network(tmp_path):
    store = LocalStore(tmp_path / "fresh.db")
    try:
        with pytest.raises(UnlockFailed) as failed:
            DeviceSession(store).unlock_offline("inspector", PASSWORD)
        assert failed.value.code == "offline_first_login"
    finally:
        store.close()


@sqlite_only
def test_offline_unlock_and_logout_keep_what_only_this_tablet_holds(cli_server, tablets):
    t = tablets(cli_server.url, "inspector")
    t.sync()
    assert t.store.read("SELECT count(*) AS n FROM template")[0]["n"] > 0  # so logout clears it
    session = DeviceSession(t.store)
    session.remember("inspector", PASSWORD)  # what the app does after an online login
    assert session.current_user()["username"] == "inspector"

    restarted = DeviceSession(t.store)  # a new start is locked until the password is typed
    assert restarted.current_user() is None
    with pytest.raises(UnlockFailed) as wrong:
        restarted.unlock_offline("inspector", "not-the-password")
    assert wrong.value.code == "bad_credentials" and restarted.current_user() is None
    assert restarted.unlock_offline("inspector", PASSWORD)["role"] == "inspector"

    t.outbox.report_hazard(site_id=MALL, title="消防通道堆放杂物", severity="general")
    with pytest.raises(UnsyncedRecords) as unsynced:
        restarted.logout()
    assert unsynced.value.count == 1
    assert t.store.read("SELECT count(*) AS n FROM outbox")[0]["n"] == 1  # nothing dropped

    assert t.sync().ok
    restarted.logout()  # everything is on the server now
    assert restarted.current_user() is None and restarted.user() is None
    for table in ("outbox", "event", "hazard", "site", "template"):
        assert t.store.read(f"SELECT count(*) AS n FROM {table}")[0]["n"] == 0
    assert t.store.meta("access_token") is None and t.store.meta("unlock") is None
    assert t.store.meta("next_seq") == "2" and t.store.meta("device_id")


@sqlite_only
def test_forced_logout_drops_unsynced_records_and_their_photos(cli_server, tablets):
    t = tablets(cli_server.url, "inspector")
    t.sync()
    refs = t.outbox.add_photo(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    t.outbox.report_hazard(
        site_id=MALL, title="灭火器过期", severity="general", photos=[refs["sha256"]]
    )
    session = DeviceSession(t.store)
    session.logout(force=True)
    assert t.store.read("SELECT count(*) AS n FROM outbox")[0]["n"] == 0
    assert not t.store.blob_path(refs["sha256"]).exists()
