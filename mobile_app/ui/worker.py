"""Work off the main thread, results back on it.

Kivy is not thread-safe, and results posted to ``Clock`` from many threads were seen lost
(kivy#5202), so workers put ``(callback, value)`` on one queue and the main thread drains it
every frame. Two lanes: ``local`` for the on-device database (answers are saved at once and
must never wait behind a slow network) and ``network`` for login, sync and probes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from mobile_app.core.backend import ActionRefused, LoginFailed, NeedsConfirmation

log = logging.getLogger("hazardchain.app")
EXPECTED = (ActionRefused, LoginFailed, NeedsConfirmation)

Callback = Callable[[Any], None] | None


class Lane:
    """One daemon thread running jobs in submission order."""

    def __init__(self, name: str, results: queue.Queue) -> None:
        self.name = name
        self._jobs: queue.Queue = queue.Queue()
        self._results = results
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"hc-{name}", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], Any], on_done: Callback, on_error: Callback) -> None:
        with self._lock:
            self._pending += 1
            self._idle.clear()
        self._jobs.put((fn, on_done, on_error))

    def _run(self) -> None:
        while True:
            fn, on_done, on_error = self._jobs.get()
            try:
                value = fn()
            except EXPECTED as exc:  # a rule's answer, shown to the user: no stack trace
                log.info("%s job refused: %s", self.name, exc)
                self._results.put((on_error, exc))
            except Exception as exc:  # handed to the UI as a value, never lost
                log.warning("%s job failed: %s", self.name, exc, exc_info=True)
                self._results.put((on_error, exc))
            else:
                self._results.put((on_done, value))
            with self._lock:
                self._pending -= 1
                if self._pending == 0:
                    self._idle.set()

    def wait_idle(self, timeout: float | None = None) -> bool:
        return self._idle.wait(timeout)


class Worker:
    """The app's two lanes plus the main-thread queue they report to."""

    def __init__(self) -> None:
        self.results: queue.Queue = queue.Queue()
        self.local = Lane("local", self.results)
        self.network = Lane("network", self.results)

    def drain(self, *_: Any) -> int:
        """Run every finished job's callback; called on the main thread each frame."""
        n = 0
        while True:
            try:
                callback, value = self.results.get_nowait()
            except queue.Empty:
                return n
            n += 1
            if callback is not None:
                try:
                    callback(value)
                except Exception:
                    log.exception("UI callback failed")

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Both lanes empty (tests and the screenshot tour use this before a frame)."""
        return self.local.wait_idle(timeout) and self.network.wait_idle(timeout)
