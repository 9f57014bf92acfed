"""What every screen shares: parameters from ``app.go`` and a ``refresh`` that reloads
its data through the worker and fills the widgets when the data arrives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, DictProperty, NumericProperty
from kivy.uix.screenmanager import Screen


def load_kv(module_file: str) -> None:
    """Load the screen's own ``.kv`` (same name beside the module); once, at import."""
    Builder.load_file(str(Path(module_file).with_suffix(".kv")))


class BaseScreen(Screen):
    params = DictProperty({})
    loading = BooleanProperty(False)

    @property
    def app(self) -> Any:
        return App.get_running_app()

    def t(self, msgid: str) -> str:
        return self.app.t(msgid)

    def refresh(self) -> None:
        """Reload from the device store; override ``fetch`` and ``show``."""
        self.loading = True
        self.app.call_local(self.fetch, on_done=self._shown)

    def _shown(self, data: Any) -> None:
        self.loading = False
        if self.manager is not None:
            self.show(data)

    def back_within(self) -> bool:
        """Step back inside the screen (a phone's second pane to its first); False when
        there is nowhere to step back to here."""
        return False

    def fetch(self) -> Any:  # runs on the worker thread
        return None

    def show(self, data: Any) -> None:  # runs on the main thread
        pass


class PanedScreen(BaseScreen):
    """A screen a phone shows one pane at a time: back first returns to its home pane."""

    home_pane = 0
    pane = NumericProperty(0)

    def back_within(self) -> bool:
        if self.app.phone and self.pane != self.home_pane:
            self.pane = self.home_pane
            return True
        return False
