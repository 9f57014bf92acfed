"""The Kivy application: a navigation rail beside a ScreenManager, the translator, the worker
lanes and automatic sync. Screens live in ``mobile_app/ui/screens``; data comes from a
``Backend`` (``mobile_app/core/backend.py``) and is only touched from worker threads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import NoTransition, ScreenManager

from mobile_app.core.backend import Backend, SyncProgress, SyncReport
from mobile_app.i18n import DEFAULT_LANGUAGE, Translator
from mobile_app.ui import theme
from mobile_app.ui.worker import Worker

if TYPE_CHECKING:
    from mobile_app.ui.scanner import FrameSource

log = logging.getLogger("hazardchain.app")
Builder.load_file(str(Path(__file__).resolve().parent / "ui" / "shell.kv"))

PROBE_SECONDS = 20  # how often to look for the network while offline or with work pending


class Shell(BoxLayout):
    """Navigation rail + screens + a one-line toast at the bottom; on a phone the rail is a
    bar below the screens."""

    manager = ObjectProperty(None)

    def arrange(self, phone: bool) -> None:
        """Put the navigation where a thumb (phone) or the left hand (tablet) finds it."""
        nav = self.ids.nav
        self.orientation = "vertical" if phone else "horizontal"
        self.remove_widget(nav)
        # BoxLayout lays children out last-added first: index 0 is the bottom (or right) end
        self.add_widget(nav, index=0 if phone else len(self.children))


class HazardChainApp(App):
    title = "隐患一条链 HazardChain"
    lang = StringProperty(DEFAULT_LANGUAGE)
    online = BooleanProperty(False)
    user_name = StringProperty("")
    role = StringProperty("")
    pending = NumericProperty(0)
    syncing = BooleanProperty(False)
    progress = DictProperty({})
    progress_fraction = NumericProperty(0)
    current = StringProperty("login")
    toast_text = StringProperty("")
    phone = BooleanProperty(False)  # the window is phone-sized (theme.is_phone)

    def __init__(
        self,
        backend: Backend,
        auto_sync: bool = True,
        camera: FrameSource | None = None,
        **kw: Any,
    ) -> None:
        """``camera``: where the QR scan's frames come from (``mobile_app.ui.scanner``);
        the device's own camera unless a test or the tour hands in pictures."""
        super().__init__(**kw)
        self.backend = backend
        if camera is None:
            from mobile_app.ui.scanner import device_camera

            camera = device_camera()
        self.camera = camera
        self.worker = Worker()
        self.auto_sync = auto_sync
        self.tr = Translator(backend.setting("lang", DEFAULT_LANGUAGE))
        self.lang = self.tr.lang
        self.last_report: SyncReport | None = None
        self._toast_event = None

    # ---------------------------------------------------------------- translation

    def t(self, msgid: str, *_lang: Any) -> str:
        """Translate; kv passes ``app.lang`` as a second argument so texts rebind on switch."""
        return self.tr(msgid)

    def set_language(self, lang: str) -> None:
        self.tr.lang = lang
        self.lang = lang
        self.call_local(self.backend.set_setting, "lang", lang)
        screen = self.screen()
        if screen is not None:
            screen.refresh()

    # ---------------------------------------------------------------- threads

    def call_local(self, fn: Callable, *args: Any, on_done=None, on_error=None, **kw: Any) -> None:
        """Run on the device-database lane; callbacks run on the main thread."""
        self.worker.local.submit(lambda: fn(*args, **kw), on_done, on_error or self.show_error)

    def call_network(
        self, fn: Callable, *args: Any, on_done=None, on_error=None, **kw: Any
    ) -> None:
        self.worker.network.submit(lambda: fn(*args, **kw), on_done, on_error or self.show_error)

    def show_error(self, exc: BaseException) -> None:
        from mobile_app.ui.messages import plain_error

        self.toast(plain_error(self, exc))

    # ---------------------------------------------------------------- building

    def load_kv(self, filename: str | None = None) -> bool:
        return True  # every .kv is loaded once by the module that owns it

    def build(self) -> Shell:
        theme.register_fonts()
        from mobile_app.ui.screens import SCREENS

        Window.clearcolor = theme.BG
        shell = Shell()
        sm = ScreenManager(transition=NoTransition())
        for name, cls in SCREENS.items():
            sm.add_widget(cls(name=name))
        shell.manager = sm
        shell.ids.screens.add_widget(sm)
        self.root = shell  # before build() returns: go() below needs it
        Window.bind(size=self._window_resized)
        self._window_resized(Window, Window.size)
        Clock.schedule_interval(self.worker.drain, 0)
        if self.auto_sync:
            Clock.schedule_interval(self._probe, PROBE_SECONDS)
        self.go("login")  # every start asks for the password (offline: checked on the device)
        return shell

    def _window_resized(self, _window: Any, size: tuple[float, float]) -> None:
        phone = theme.is_phone(size[0])
        if phone != self.phone or self.root.orientation != ("vertical" if phone else "horizontal"):
            self.phone = phone
            self.root.arrange(phone)

    def on_stop(self) -> None:
        Window.unbind(size=self._window_resized)  # a later app in this process owns the window

    def on_phone(self, *_: Any) -> None:
        screen = self.screen()
        if screen is not None and self.current != "login":
            screen.refresh()  # row heights and panes follow the new width

    def back(self, screen_name: str) -> None:
        """The top bar's back: a phone first steps back within the screen (to its first
        pane), then to ``screen_name``."""
        screen = self.screen()
        if screen is not None and screen.back_within():
            return
        if screen_name:
            self.go(screen_name)

    @property
    def manager(self) -> ScreenManager:
        return self.root.manager

    def screen(self):
        return self.manager.current_screen if self.root else None

    def go(self, name: str, **params: Any) -> None:
        """Show a screen; it loads its data through the worker and fills in when ready."""
        screen = self.manager.get_screen(name)
        screen.params = params
        self.manager.current = name
        self.current = name
        screen.refresh()

    # ---------------------------------------------------------------- session

    def on_login(self, user: dict[str, Any]) -> None:
        self._logged_in(user)
        if self.auto_sync:
            self.start_sync()

    def _logged_in(self, user: dict[str, Any]) -> None:
        self.user_name = user.get("display_name") or user.get("username", "")
        self.role = user.get("role", "")
        self.go("home")
        self.update_pending()

    def logged_out(self) -> None:
        self.user_name = ""
        self.role = ""
        self.pending = 0
        self.go("login")

    def update_pending(self) -> None:
        def done(state: dict) -> None:
            self.pending = state["only_copy"]

        self.call_local(self.backend.sync_state, on_done=done)

    # ---------------------------------------------------------------- sync

    def _probe(self, *_: Any) -> None:
        if not self.role or self.syncing:
            return

        def seen(online: bool) -> None:
            was = self.online
            self.online = online
            if online and (not was or self.pending) and self.pending:
                self.start_sync()  # the network is back and records wait: send them

        self.call_network(self.backend.probe, on_done=seen, on_error=lambda e: None)

    def start_sync(self, on_done: Callable[[SyncReport], None] | None = None) -> bool:
        if self.syncing:
            return False
        self.syncing = True
        self.progress = {"phase": "push", "records_done": 0, "records_total": 0}

        def report_progress(p: SyncProgress) -> None:
            # called on the network thread: hand over through the queue
            self.worker.results.put((self._set_progress, p))

        def finished(report: SyncReport) -> None:
            self.syncing = False
            self.last_report = report
            self.online = not any(e.startswith("offline:") for e in report.errors)
            self.update_pending()
            if report.errors:
                from mobile_app.ui.messages import sync_error

                self.toast(sync_error(self, report.errors[0]))
                if report.errors[0].startswith(("auth_expired", "device_revoked")):
                    self.logged_out()  # the server ended the session; the records stay
                    return
            screen = self.screen()
            if screen is not None:
                screen.refresh()
            if on_done:
                on_done(report)

        def failed(exc: BaseException) -> None:
            self.syncing = False
            self.show_error(exc)

        self.call_network(self.backend.sync, report_progress, on_done=finished, on_error=failed)
        return True

    def _set_progress(self, p: SyncProgress) -> None:
        self.progress = dict(vars(p))
        # records and bytes both move the bar: a photo counts like a record per 64 KiB
        total = p.records_total + p.bytes_total / 65536
        done = p.records_done + p.bytes_done / 65536
        self.progress_fraction = 1.0 if p.phase == "done" else (done / total if total else 0.0)

    # ---------------------------------------------------------------- feedback

    def toast(self, text: str, seconds: float = 5) -> None:
        self.toast_text = text
        if self._toast_event is not None:
            self._toast_event.cancel()
        self._toast_event = Clock.schedule_once(lambda *_: self._clear_toast(), seconds)

    def _clear_toast(self) -> None:
        self.toast_text = ""


class ToastLabel(Label):
    pass
