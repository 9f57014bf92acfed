"""Helpers the app tests share: pressing through screens as a person would."""

from __future__ import annotations

PASSWORD = "demo-password"
DEAD_SERVER = "http://127.0.0.1:9"  # discard port: nothing listens, like a tablet in a mine


def login(d, username: str, password: str = PASSWORD) -> None:
    """Type into the login screen and press the button, as a person would."""
    screen = d.app.manager.get_screen("login")
    assert d.app.manager.current == "login"
    screen.ids.username.text = username
    screen.ids.password.text = password
    d.press(screen.ids.login_button)
    d.pump()


def sync(d) -> None:
    """Press Sync now on the sync screen and wait for the run to finish."""
    screen = d.go("sync")
    d.press(screen.ids.sync_button)
    d.pump()
    assert not d.app.syncing


def dialog_button(d, text: str):
    """The button labelled ``text`` in the open popup."""
    from kivy.uix.button import Button

    for popup in d.popups():
        for w in popup.walk():
            if isinstance(w, Button) and w.text == text:
                return w
    raise AssertionError(f"no button {text!r} in {d.popups()}")
