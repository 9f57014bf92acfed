"""Login: online the first time (the server checks the password and returns the user); after
that the cached session unlocks offline with the same password."""

from __future__ import annotations

from mobile_app.ui.screens.base import BaseScreen, load_kv

load_kv(__file__)


class LoginScreen(BaseScreen):
    def fetch(self):
        b = self.app.backend
        return {
            "server": b.server_url(),
            "cached": b.cached_username(),
        }

    def show(self, data) -> None:
        self.ids.server.text = data["server"]
        if data["cached"] and not self.ids.username.text:
            self.ids.username.text = data["cached"]
        self.ids.message.text = ""

    def submit(self) -> None:
        username = self.ids.username.text.strip()
        password = self.ids.password.text
        if not username or not password:
            self.ids.message.text = self.t("Enter your user name and password.")
            return
        self.ids.message.text = self.t("Logging in…")
        self.ids.login_button.disabled = True
        b = self.app.backend
        server = self.ids.server.text.strip()

        def work():
            if server and server != b.server_url():
                b.set_server_url(server)
            return b.login(username, password)

        def done(user) -> None:
            self.ids.login_button.disabled = False
            self.ids.password.text = ""
            self.ids.message.text = ""
            self.app.on_login(user)

        def failed(exc) -> None:
            from mobile_app.ui.messages import plain_error

            self.ids.login_button.disabled = False
            self.ids.message.text = plain_error(self.app, exc)

        # login talks to the server: network lane
        self.app.call_network(work, on_done=done, on_error=failed)
