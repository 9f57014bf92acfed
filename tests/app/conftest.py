"""Fixtures for the tablet app: Kivy with no display (SDL's offscreen driver), a landscape
1280×800 window, the demo server as ``make run`` sets it up, and the real app driven through
its widgets (``devtools.kivy_driver``)."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

# Kivy reads its environment when first imported: configure before anything imports it.
_KIVY_HOME = Path(tempfile.mkdtemp(prefix="hc-kivy-"))
os.environ.setdefault("KIVY_HOME", str(_KIVY_HOME))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from kivy.config import Config  # noqa: E402

Config.set("graphics", "width", "1280")
Config.set("graphics", "height", "800")
Config.set("kivy", "log_level", "warning")
Config.set("input", "mouse", "mouse,multitouch_on_demand")

import pytest  # noqa: E402

from devtools.demo_photos import write_demo_photos  # noqa: E402


@pytest.fixture(params=["sqlite"])
def backend(request):
    """The app tests run against the SQLite server (the sync suite covers PostgreSQL)."""
    return request.param


@pytest.fixture
def server(cli_server):
    """The demo server as ``make run`` sets it up (``tests/cli_server.py``), shared by the app
    tests: the tablet meets what a district's first start gives it, checklists included."""
    return cli_server


@pytest.fixture
def photo_dir(tmp_path, monkeypatch):
    folder = write_demo_photos(tmp_path / "photos")
    monkeypatch.setenv("HAZARDCHAIN_PHOTO_DIR", str(folder))
    return folder


class ThreadLog:
    """Wraps a backend and records the thread of every call (the UI must never block)."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.main_thread_calls: list[str] = []

    def __getattr__(self, name):
        value = getattr(self._inner, name)
        if not callable(value):
            return value

        def call(*args, **kw):
            if threading.current_thread() is threading.main_thread():
                self.main_thread_calls.append(name)
            return value(*args, **kw)

        return call


@pytest.fixture
def start_app(tmp_path):
    """``start_app(server_url, name)`` → a started Driver on a fresh device; stopped after.
    The device has no camera unless the test hands one in (``mobile_app.ui.scanner``): a
    developer's webcam must not change what a test sees."""
    from devtools.kivy_driver import Driver
    from mobile_app.app import HazardChainApp
    from mobile_app.core.device_backend import DeviceBackend
    from mobile_app.ui.scanner import NoCamera

    drivers = []

    def start(
        server_url: str,
        name: str = "tablet",
        data_dir: Path | None = None,
        camera=None,
        location=None,
    ):
        backend = ThreadLog(
            DeviceBackend(data_dir or tmp_path / name, server_url, location=location)
        )
        app = HazardChainApp(backend, auto_sync=False, camera=camera or NoCamera())
        d = Driver(app).start()
        backend.main_thread_calls.clear()  # start-up reads (language) happen before any frame
        drivers.append(d)
        return d

    yield start
    for d in drivers:  # every app the test started, unless it stopped it itself: a running
        d.stop()  # one stays bound to the shared window, and a later resize reaches its widgets
