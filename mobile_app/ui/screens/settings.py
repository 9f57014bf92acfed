"""Settings: language, server address, this tablet's device id, and log out, which refuses to
drop records the server has not received unless the user explicitly confirms."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from mobile_app.core.backend import NeedsConfirmation
from mobile_app.core.photo_cache import MB
from mobile_app.ui import labels
from mobile_app.ui.screens.base import BaseScreen, load_kv
from mobile_app.ui.screens.sync import human_bytes
from mobile_app.ui.widgets import confirm

load_kv(__file__)


class SettingsScreen(BaseScreen):
    device_id = StringProperty("")
    user_line = StringProperty("")
    photo_line = StringProperty("")
    photo_budget = StringProperty("")

    def fetch(self) -> dict[str, Any]:
        b = self.app.backend
        return {
            "server": b.server_url(),
            "device": b.device_id,
            "user": b.current_user() or {},
            "photos": b.photo_storage(),
        }

    def show(self, data: dict[str, Any]) -> None:
        self.show_photos(data["photos"])
        self.ids.server.text = data["server"]
        self.device_id = data["device"]
        u = data["user"]
        self.user_line = f"{u.get('display_name', '')} ({u.get('username', '')}) · {labels.role_name(self.app, u.get('role', ''))} · {u.get('unit', '')}"

    def show_photos(self, storage: dict[str, int]) -> None:
        """Others' photos kept for offline use: how much, of what budget (the choices)."""
        self.photo_budget = str(storage["budget"] // MB)
        self.photo_line = self.t("{used} of {budget} used").format(
            used=human_bytes(storage["used"]), budget=human_bytes(storage["budget"])
        )

    def set_photo_budget(self, mb: str) -> None:
        if mb.isdigit() and mb != self.photo_budget:
            self.app.call_local(
                self.app.backend.set_photo_budget, int(mb), on_done=self.show_photos
            )

    def save_server(self) -> None:
        url = self.ids.server.text.strip()
        if not url.startswith(("http://", "https://")):
            self.app.toast(self.t("The server address starts with http:// or https://"))
            return
        self.app.call_local(
            self.app.backend.set_server_url, url, on_done=lambda _: self.app.toast(self.t("Saved."))
        )

    def logout(self, force: bool = False) -> None:
        def done(_: Any) -> None:
            self.app.logged_out()

        def refused(exc: BaseException) -> None:
            if isinstance(exc, NeedsConfirmation):
                confirm(
                    self.t("Unsynced records"),
                    self.t(
                        "This tablet holds the only copy of {n} records. Logging out now deletes them for good. Sync first if you can."
                    ).format(n=exc.count),
                    lambda: self.logout(force=True),
                    yes=self.t("Delete them and log out"),
                    no=self.t("Keep them"),
                    danger=True,
                )
            else:
                self.app.show_error(exc)

        self.app.call_local(self.app.backend.logout, force, on_done=done, on_error=refused)
