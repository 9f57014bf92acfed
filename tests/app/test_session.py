"""Login online first, then the cached session unlocks offline; log out refuses to drop
unsynced records unless the user explicitly confirms."""

from __future__ import annotations

from app_helpers import DEAD_SERVER, dialog_button, login, sync


def test_first_login_needs_network(tmp_path, start_app):
    d = start_app(DEAD_SERVER, "fresh")
    login(d, "inspector")
    assert d.app.manager.current == "login"
    assert "首次登录" in d.app.manager.get_screen("login").ids.message.text


def test_cached_session_unlocks_offline(server, start_app, tmp_path):
    d = start_app(server.url, "tablet", tmp_path / "device")
    login(d, "inspector")
    sync(d)
    d.stop()
    # restart with no network: the password is checked against the cached session
    d = start_app(DEAD_SERVER, "tablet", tmp_path / "device")
    d.app.backend._inner.set_server_url(DEAD_SERVER)
    assert d.app.manager.current == "login"
    assert d.app.manager.get_screen("login").ids.username.text == "inspector"
    login(d, "inspector", "wrong-password")
    assert d.app.manager.current == "login"
    assert "密码错误" in d.app.manager.get_screen("login").ids.message.text
    login(d, "inspector")
    assert d.app.manager.current == "home"
    home = d.app.screen()
    assert "张检查" in home.ids.greeting.text
    assert d.app.backend._inner.sites()  # the data pulled before works offline


def test_logout_refuses_to_drop_unsynced_records(server, start_app):
    d = start_app(server.url, "tablet")
    store = d.app.backend._inner
    login(d, "inspector")
    sync(d)
    hazard = next(h for h in store.hazards() if h["is_open"])
    store.set_server_url(DEAD_SERVER)
    store.append_event(hazard["id"], "note", {"text": "离线备注"})
    settings = d.go("settings")
    d.press(settings.ids.logout_button)
    assert d.popups(), "logging out with unsynced records must ask"
    d.press(dialog_button(d, d.app.t("Keep them")))
    assert d.app.manager.current == "settings" and store.sync_state()["pending"] == 1
    d.press(settings.ids.logout_button)
    d.press(dialog_button(d, d.app.t("Delete them and log out")))
    assert d.app.manager.current == "login"
    assert store.sync_state()["pending"] == 0


def test_language_switches_to_english_and_back(server, start_app):
    d = start_app(server.url, "tablet")
    login(d, "inspector")
    settings = d.go("settings")
    d.press(settings.ids.lang_en)
    home = d.go("home")
    assert home.ids.pending_text.text in (
        "Everything is synced.",
        "records exist only on this tablet",
    )
    assert d.app.root.ids.nav_sites.text == "Sites"
    d.press(d.go("settings").ids.lang_zh)
    assert d.app.root.ids.nav_sites.text == "场所"


def _note_written_after_sync(server, start_app, text: str):
    """A logged-in, synced inspector's tablet with one note written and not yet sent."""
    d = start_app(server.url, "tablet")
    store = d.app.backend._inner
    login(d, "inspector")
    sync(d)
    hazard = next(h for h in store.hazards() if h["is_open"])
    store.append_event(hazard["id"], "note", {"text": text})
    return d, store, hazard


def test_the_server_ending_the_session_locks_the_app_and_keeps_records(own_cli_server, start_app):
    """An administrator resets the inspector's password: the next sync cannot refresh the
    session, so the app asks for the password again; the note written offline is kept and
    sent after the new password is typed. (A server of its own: the shared one must keep the
    demo password.)"""
    server = own_cli_server
    d, store, hazard = _note_written_after_sync(server, start_app, "会话过期前写的备注")
    with server.login("admin") as admin:
        uid = next(
            u["id"]
            for u in admin.get("/users", params={"q": "inspector"}).json()["items"]
            if u["username"] == "inspector"
        )
        admin.patch(f"/users/{uid}", json={"password": "new-password-2026"}).raise_for_status()

    d.app.start_sync()
    d.pump()
    assert d.app.manager.current == "login" and d.app.role == ""
    assert "expired" in d.app.toast_text or "过期" in d.app.toast_text
    assert store.sync_state()["pending"] == 1  # nothing lost
    login(d, "inspector")  # the old password no longer opens it, not even offline
    assert d.app.manager.current == "login"
    login(d, "inspector", "new-password-2026")
    assert d.app.manager.current == "home"
    sync(d)
    assert store.sync_state()["pending"] == 0
    with server.login("officer") as officer:
        events = officer.get(f"/hazards/{hazard['id']}").json()["events"]
    assert events[-1]["payload"]["text"] == "会话过期前写的备注"


def test_a_revoked_tablet_keeps_its_records_and_says_why(server, start_app):
    """A tablet reported lost is revoked from the server: the app stops at the login screen
    with the reason; the unsynced note stays on the tablet for recovery."""
    d, store, hazard = _note_written_after_sync(server, start_app, "平板丢失前写的备注")
    with server.login("admin") as admin:
        assert admin.delete(f"/devices/{store.device_id}").status_code == 200
    d.app.start_sync()
    d.pump()
    assert d.app.manager.current == "login"
    login(d, "inspector")
    screen = d.app.manager.get_screen("login")
    assert d.app.manager.current == "login"
    assert "withdrew" in screen.ids.message.text or "停用" in screen.ids.message.text
    assert store.sync_state()["pending"] == 1
