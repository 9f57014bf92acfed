"""Slow clients cannot take the server down: ``hazardchain serve`` in a subprocess with a low
file limit, a few hundred connections that never finish their request, and a normal request
still answered at once; the slow ones are cut off after the header timeout, a stalled body
after the body timeout, and the log says so in a handful of lines, not one per connection.

(Found by a red team: 1,100 slow connections under a 1,024 file limit made uvicorn unreachable
and wrote 124,827 "Too many open files" lines in 20 s.)"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from server.testing import free_port

FILE_LIMIT = 256  # the server's RLIMIT_NOFILE
SLOW = 300  # more slow connections than the server may hold files
HEADER_TIMEOUT, BODY_TIMEOUT = 10, 3


def _low_file_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


@pytest.fixture
def server(db_url, tmp_path) -> Iterator[tuple[str, subprocess.Popen, object]]:
    port = free_port()
    env = {
        **os.environ,
        "HAZARDCHAIN_DATABASE_URL": db_url,
        "HAZARDCHAIN_SECRET_KEY": "slow-clients-" + "x" * 40,
        "HAZARDCHAIN_SCHEDULER": "off",
        "HAZARDCHAIN_BLOB_DIR": str(tmp_path / "blobs"),
        "HAZARDCHAIN_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "HAZARDCHAIN_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - read after the server stops
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_low_file_limit,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                break
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
    yield url, proc, log
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


def _slow_connections(port: int, n: int) -> list[socket.socket]:
    """``n`` connections that send half a request head and then nothing."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


def _closed_by_server(s: socket.socket, within: float) -> bool:
    s.settimeout(within)
    try:
        return s.recv(1024) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_slow_clients_do_not_lock_out_a_normal_request(server):
    url, proc, log = server
    port = int(url.rsplit(":", 1)[1])
    started = time.monotonic()
    slow = _slow_connections(port, SLOW)
    try:
        assert len(slow) > FILE_LIMIT // 2
        for _ in range(3):  # reachable now, not once the flood has timed out
            r = httpx.get(url + "/api/v1/me", timeout=5)
            assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
        assert time.monotonic() - started < HEADER_TIMEOUT
        # the slow ones are all cut off by the header timeout (or displaced before it)
        assert all(_closed_by_server(s, HEADER_TIMEOUT + 5) for s in slow)
    finally:
        for s in slow:
            s.close()
    assert httpx.get(url + "/healthz", timeout=5).status_code == 200
    proc.terminate()
    proc.wait(timeout=20)
    log.seek(0)
    lines = log.read().splitlines()
    assert any("connection limit reached" in line for line in lines), lines[-20:]
    assert any("slow client disconnected" in line for line in lines), lines[-20:]
    assert not any("Too many open files" in line for line in lines)
    assert len(lines) < 40, f"{len(lines)} log lines for one flood:\n" + "\n".join(lines[:60])


def test_a_stalled_body_is_cut_off(server):
    url, _, _ = server
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            b"POST /api/v1/sync/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"ops": ['
        )
        started = time.monotonic()
        s.settimeout(BODY_TIMEOUT + 10)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := s.recv(4096):
                answer += chunk
        assert BODY_TIMEOUT - 1 < time.monotonic() - started < BODY_TIMEOUT + 5
        assert not answer.startswith(b"HTTP/1.1 5")


def test_a_head_sent_a_byte_at_a_time_is_cut_off(server):
    """Trickling bytes does not extend the header deadline."""
    url, _, _ = server
    port = int(url.rsplit(":", 1)[1])
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 400
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        started = time.monotonic()
        closed = False
        for byte in head:
            try:
                s.sendall(bytes([byte]))
            except OSError:
                closed = True
                break
            time.sleep(0.05)
        closed = closed or _closed_by_server(s, 5)
        assert closed and time.monotonic() - started < HEADER_TIMEOUT + 5


def test_rate_limit_lets_one_of_a_kind_through_per_window_with_a_count():
    from server.serving import RateLimitFilter

    now = [0.0]
    limiter = RateLimitFilter(window=60, clock=lambda: now[0])

    def record(msg: str) -> logging.LogRecord:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, msg, (), None)

    burst = [record(f"socket.accept() out of system resource\nsocket: fd={i}") for i in range(500)]
    assert [limiter.filter(r) for r in burst].count(True) == 1  # one kind, whatever the socket
    assert limiter.filter(record("another kind"))
    now[0] = 61
    later = record("socket.accept() out of system resource\nsocket: fd=9")
    assert limiter.filter(later) and later.suppressed == 499
