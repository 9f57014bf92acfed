"""Drive the real app without a person: build it on the current window, pump frames until the
worker lanes are idle, press widgets, take screenshots. The screenshot tour, the tests and the
benchmark use it; with no display, SDL's offscreen driver renders the same pixels."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import global_idmap
from kivy.uix.behaviors import ToggleButtonBehavior
from kivy.uix.recycleview import views

from mobile_app.app import HazardChainApp


class Driver:
    def __init__(self, app: HazardChainApp) -> None:
        self.app = app
        self.stopped = False

    def start(self) -> Driver:
        # kv's ``app`` is a proxy that caches the running app; a second app in the same
        # process (tests, the tour) must not see the first one through it
        object.__setattr__(global_idmap["app"], "_obj", None)
        # and RecycleView keeps spare rows in a cache shared by the process: this app would
        # reuse rows whose kv bindings still follow the earlier one (its size class, language)
        views._cached_views.clear()
        views._cache_count = 0
        # and an earlier app's late callbacks (a screen whose data arrived after its app
        # stopped) may have put widgets on the shared window since: start on an empty one
        for leftover in list(Window.children):
            Window.remove_widget(leftover)
        self.app._run_prepare()  # build() and attach the root to the window
        if EventLoop.status != "started":
            EventLoop.start()
        self.pump()
        return self

    def stop(self) -> None:
        """Once: a test may stop its app itself (a restart) before the fixture's teardown."""
        if self.stopped:
            return
        self.stopped = True
        app = self.app
        Clock.unschedule(app.worker.drain)
        Clock.unschedule(app._probe)
        for popup in list(Window.children):
            if popup is not app.root:
                Window.remove_widget(popup)
        if app.root is not None:
            Window.remove_widget(app.root)
        app.dispatch("on_stop")
        self.pump(frames=2, until_idle=False)

    def idle(self) -> bool:
        w = self.app.worker
        return w.local._idle.is_set() and w.network._idle.is_set() and w.results.empty()

    def pump(self, frames: int = 3, until_idle: bool = True, timeout: float = 60.0) -> None:
        """Run frames until the lanes are idle and their results handled (at least ``frames``)."""
        deadline = time.monotonic() + timeout
        done = 0
        settled = 0
        while True:
            EventLoop.idle()
            done += 1
            if not until_idle:
                if done >= frames:
                    return
                continue
            settled = settled + 1 if self.idle() else 0
            if done >= frames and settled >= 2:
                return
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not settle")
            if not self.idle():
                time.sleep(0.005)

    def press(self, widget: Any) -> None:
        """What a tap does: a toggle changes state as Kivy's touch handling changes it
        (releasing the rest of its group, keeping one down where none may be empty)."""
        if isinstance(widget, ToggleButtonBehavior):
            widget._do_press()
        widget.dispatch("on_press")
        widget.dispatch("on_release")
        self.pump()

    def go(self, name: str, **params: Any) -> Any:
        self.app.go(name, **params)
        self.pump()
        return self.app.screen()

    def screenshot(self, path: Path | str) -> Path:
        """Render the current frame and write it to ``path`` (a PNG)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.pump(frames=2)
        tmp = Window.screenshot(name=str(path.with_name(path.stem + "_.png")))
        shutil.move(tmp, path)
        return path

    def settle_popups(self, timeout: float = 15.0) -> list[Any]:
        """Pump until dismissed popups have finished closing (ModalView animates its exit,
        which takes longer on a loaded machine); returns the popups still open."""
        deadline = time.monotonic() + timeout
        while self.popups() and time.monotonic() < deadline:
            self.pump(frames=2)
            time.sleep(0.02)
        return self.popups()

    def popups(self) -> list[Any]:
        from kivy.uix.modalview import ModalView

        return [w for w in Window.children if isinstance(w, ModalView)]
