"""``hazardchain serve``: uvicorn with limits that keep slow or idle clients from using up the
server (docs/deploy.md, "Serving limits").

uvicorn alone waits forever for a request's headers and body, so a few hundred connections
that send a byte now and then (or nothing) held every file descriptor: new connections failed
with "Too many open files", logged once per attempt. Here a connection gets
``header_timeout_seconds`` for its whole request head (trickling bytes does not extend it),
may pause at most ``body_timeout_seconds`` while sending a body, and at most
``max_connections`` are open (kept below the process's file limit): a new connection over the
limit displaces the one that has waited longest without sending a whole request head, so a real
request gets through a slow-client flood. Repeated warnings of one kind are logged once a
minute with a count, not once per connection.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, ClassVar

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from server.settings import Settings

log = logging.getLogger("hazardchain.serve")
# file descriptors kept for everything but client connections (database, logs, blobs, sqlite)
FD_RESERVE = 64
# asyncio accepts up to ``backlog`` connections in one go before any of them is looked at, and
# a displaced one closes an event-loop turn later: a few bursts may be open beyond the limit
# for a moment, so the burst is small and the limit leaves room for three
ACCEPT_BURST = 32
NOISY_LOGGERS = ("asyncio", "uvicorn.error", "hazardchain.serve")
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
WORKER_HEALTHCHECK_SECONDS = 60


class RateLimitFilter(logging.Filter):
    """Lets one record of each kind (logger, message, exception type) through per ``window``
    seconds; the next one that passes says how many were held back (``suppressed``)."""

    def __init__(self, window: float = 60.0, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.window, self.clock = window, clock
        self._seen: dict[tuple[str, str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        # asyncio puts the socket into the message: its first line is the kind
        key = (record.name, str(record.msg).split("\n", 1)[0], type(exc).__name__ if exc else "")
        now = self.clock()
        since, held = self._seen.get(key, (float("-inf"), 0))
        if now - since < self.window:
            self._seen[key] = (since, held + 1)
            return False
        self._seen[key] = (now, 0)
        if held:
            record.suppressed = held
        return True


def limit_noisy_logs(window: float = 60.0) -> RateLimitFilter:
    """Attach one rate limit to the loggers a connection flood makes noisy."""
    limiter = RateLimitFilter(window)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).addFilter(limiter)
    return limiter


def connection_limit(wanted: int) -> int:
    """``wanted``, lowered to what the process's file limit leaves for connections."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE - 3 * ACCEPT_BURST))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head, an idle limit while a body
    arrives, and a cap on open connections (set on a subclass by ``guarded_protocol``)."""

    header_timeout: ClassVar[float] = 10.0
    body_timeout: ClassVar[float] = 30.0
    max_connections: ClassVar[int] = 1000

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_since: float | None = None  # waiting for a request head since
        self._kept_alive = False  # has answered a request and waits for the next one
        super().connection_made(transport)
        self._watch()
        if len(self.connections) > self.max_connections:
            open_now = [c for c in self.connections if not c.transport.is_closing()]
            if len(open_now) > self.max_connections:  # displaced ones close a turn later
                self._make_room(open_now)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch(arrived=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._kept_alive = True
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _watch(self, arrived: bool = False) -> None:
        """Arm the deadline that fits where the request is."""
        if self.transport.is_closing():
            self._cancel()
            return
        state = self.conn.their_state
        if state is h11.IDLE:  # waiting for a request head: one deadline for all of it
            if self._waiting_since is None:
                self._cancel()
                self._waiting_since = self.loop.time()
                # a kept-alive connection may idle as long as the keep-alive allows (uvicorn
                # closes it then); its next head's deadline starts at that head's first byte.
                # Timing its idle time as a head closed tablets' connections under load just
                # as they sent on them (the load test's RemoteDisconnected)
                if not self._kept_alive or arrived:
                    self._deadline = self.loop.call_later(self.header_timeout, self._expire, "head")
            elif arrived and self._deadline is None:
                self._deadline = self.loop.call_later(self.header_timeout, self._expire, "head")
            return
        self._waiting_since = None
        if state is h11.SEND_BODY and (arrived or self._deadline is None):
            self._cancel()  # the body is still coming: a pause may last so long
            self._deadline = self.loop.call_later(self.body_timeout, self._expire, "body")
        elif state is not h11.SEND_BODY:
            self._cancel()  # the whole request is in: the app's turn

    def _expire(self, what: str) -> None:
        self._deadline = None
        if what == "body" and self.flow.read_paused:  # the app is not reading: not the client
            self._watch()
            return
        log.warning(
            "slow client disconnected",
            extra={
                "waiting_for": what,
                "client": self._peer(),
                "connections": len(self.connections),
            },
        )
        self.transport.close()

    def _make_room(self, open_now: list[Any]) -> None:
        """Over the limit: drop the connection waiting longest for its request head (a
        slow-client flood), else this new one (every other one is doing real work)."""
        waiting = [
            c
            for c in open_now
            if isinstance(c, GuardedH11Protocol) and c is not self and c._waiting_since is not None
        ]
        victim = min(waiting, key=lambda c: c._waiting_since or 0.0) if waiting else self
        log.warning(
            "connection limit reached",
            extra={"limit": self.max_connections, "dropped": victim._peer()},
        )
        victim._cancel()
        victim.transport.close()

    def _peer(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else ""


def _limits(settings: Settings) -> dict[str, Any]:
    return {
        "header_timeout": settings.header_timeout_seconds,
        "body_timeout": settings.body_timeout_seconds,
        "max_connections": connection_limit(settings.max_connections),
    }


def guarded_protocol(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class with this deployment's limits."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), _limits(settings))


class WorkerH11Protocol(GuardedH11Protocol):
    """The guarded protocol for ``serve --workers N``: uvicorn hands its config to each worker
    by pickling it, and a class made at run time (``guarded_protocol``) cannot travel that way,
    so each connection takes the limits of its own worker's settings (the same environment).
    ``max_connections`` is then per worker, as the file limit it guards is per process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from server.settings import get_settings

        vars(self).update(_limits(get_settings()))
        super().__init__(*args, **kwargs)


def worker_app() -> FastAPI:
    """The app factory each worker process calls (``server.serving:worker_app``): it builds
    its own app, engine and pools from the environment, which ``serve_workers`` has set so
    that no worker runs the scheduler and all sign with the same key."""
    from server.app import create_app

    app = create_app()
    limit_noisy_logs()
    return app


class _Announcing(uvicorn.Server):
    """Prints the banner once the socket listens, so it comes after the start-up logs
    (migrations, scheduler, uvicorn's own lines) instead of scrolling away above them."""

    banner = ""

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        if self.banner and self.started and not self.should_exit:
            print(self.banner, flush=True)


def _options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    return {
        "host": host,
        "port": port,
        "log_level": "info",
        "timeout_keep_alive": settings.keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "backlog": ACCEPT_BURST,
        # no limit_concurrency: it answers 503 once that many connections are open, which
        # would refuse the very request that displaced a slow client; the cap is the protocol's
    }


def _log_serving(settings: Settings, workers: int) -> None:
    limits = _limits(settings)
    log.info(
        "serving",
        extra={**limits, "keep_alive": settings.keep_alive_seconds, "workers": workers},
    )


def serve(app: FastAPI, settings: Settings, host: str, port: int, banner: str = "") -> None:
    """Run ``app`` with uvicorn under the limits in ``settings``."""
    config = uvicorn.Config(app, http=guarded_protocol(settings), **_options(settings, host, port))
    limit_noisy_logs()  # after uvicorn.Config has set up its loggers
    _log_serving(settings, 1)
    server = _Announcing(config)
    server.banner = banner
    server.run()


def serve_workers(
    settings: Settings,
    host: str,
    port: int,
    workers: int,
    banner: str = "",
    scheduler: bool = True,
) -> None:
    """``workers`` processes on one socket, each with its own app from ``worker_app``; the
    scheduler never runs in them, but in a process of its own (``hazardchain scheduler``,
    started here when ``scheduler``). Whatever the workers must agree on lives in the database
    (docs/operations.md §7)."""
    # the workers read their settings from the environment they inherit: the same key signs
    # everywhere (a development key generated into var/ would race between fresh workers)
    os.environ["HAZARDCHAIN_SECRET_KEY"] = settings.secret_key
    os.environ["HAZARDCHAIN_SCHEDULER"] = "off"
    # /metrics adds up the counters of every worker and of the scheduler started here, whichever
    # worker answers the scrape (prometheus_client's multiprocess mode: a file per process)
    own_metrics_dir = not os.environ.get(METRICS_DIR)
    if own_metrics_dir:
        os.environ[METRICS_DIR] = tempfile.mkdtemp(prefix="hazardchain-metrics-")
    from server.logs import setup_logging

    setup_logging(settings.log_level, settings.log_format)
    _log_serving(settings, workers)
    jobs = None
    if scheduler:
        jobs = subprocess.Popen([sys.executable, "-m", "server.cli", "scheduler"])
    if banner:
        threading.Thread(target=_announce_when_up, args=(host, port, banner), daemon=True).start()
    try:
        uvicorn.run(
            "server.serving:worker_app",
            factory=True,
            workers=workers,
            http=WorkerH11Protocol,
            # uvicorn kills a worker that has not answered its health ping in this long (5 s by
            # default), dropping every request in flight: on a loaded machine a busy worker
            # answered late, and tablets' pulls ended in RemoteDisconnected (the load test)
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **_options(settings, host, port),
        )
    finally:
        if jobs is not None:
            jobs.send_signal(signal.SIGTERM)
            try:
                jobs.wait(timeout=15)
            except subprocess.TimeoutExpired:
                jobs.kill()
        if own_metrics_dir:
            shutil.rmtree(os.environ.pop(METRICS_DIR), ignore_errors=True)


def _announce_when_up(host: str, port: int, banner: str, wait: float = 120.0) -> None:
    """The banner once a worker answers (the parent process serves nothing itself)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((shown, port), timeout=2) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/1.1 200"):
                    print(banner, flush=True)
                    return
        except OSError:
            pass
        time.sleep(0.2)
