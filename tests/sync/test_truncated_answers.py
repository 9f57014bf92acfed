"""A connection cut at any byte of the server's answer: the tablet never crashes and loses
nothing. A real socket server on loopback answers each of the client's calls (log in, token
refresh, push, pull, upload HEAD and PATCH) with a valid answer cut after ``k`` bytes, for
every ``k`` from 0 to the whole answer. The client may only succeed (then with the right
result) or raise its own retryable ``SyncFailed``; the outbox, the photos and the cursor stay
as they were until an answer arrives whole.

(A cut inside the headers is the nasty one: ``http.client`` takes it for the end of the
headers, so the tablet saw ``Upload-Offset:`` with nothing after it and crashed on ``int('')``.)
"""

from __future__ import annotations

import contextlib
import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate

import pytest
from tablets import MALL, photo

from mobile_app.core.outbox import Outbox
from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import SyncClient, SyncFailed, SyncResult

API = "/api/v1"
USER = {
    "id": "7d1f8f4e-5d55-4f0b-9a0c-3b2f6f0c8a11",
    "username": "inspector",
    "display_name": "张检查",
    "role": "inspector",
    "unit": "海勃湾区应急管理局",
    "phone": "",
    "email": "",
    "active": True,
    "district_ids": ["150302"],
    "site_ids": [],
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _answer(status: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Date: {formatdate(usegmt=True)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def _json(data: object, status: str = "200 OK", gzipped: bool = False) -> bytes:
    body = json.dumps(data, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if gzipped:
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return _answer(status, headers, body)


@dataclass
class CuttingServer:
    """A small HTTP/1.1 server on loopback (one request per connection) speaking the sync API:
    it really keeps uploaded bytes and checks offsets, like the real one. Answers on the route
    named ``cut_route`` are cut after ``cut_at`` bytes and the connection closed."""

    cut_route: str | None = None
    cut_at: int | None = None
    last_length: int = 0  # the whole answer's length, last time the cut route answered
    held: dict[str, bytearray] = field(default_factory=dict)
    pushed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):  # OSError: the client gave up first
                self._one(conn)

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines)}
        while len(body) < int(headers.get("content-length", 0)):
            body += conn.recv(65536)
        method, target, _ = line.split(" ")
        req = Request(method, target.split("?")[0].removeprefix(API), headers, body)
        route, whole = self._route(req)
        out = whole
        if route == self.cut_route:
            self.last_length = len(whole)
            if self.cut_at is not None:
                out = whole[: self.cut_at]
        conn.sendall(out)
        conn.shutdown(socket.SHUT_WR)  # a clean close, not a reset

    def _route(self, req: Request) -> tuple[str, bytes]:
        if req.path == "/auth/token":
            tokens = {"access_token": "access-1", "refresh_token": "refresh-1-" + "r" * 30}
            return "token", _json(
                tokens | {"token_type": "bearer", "expires_in": 900} | {"user": USER}
            )
        if req.path == "/auth/refresh":
            tokens = {"access_token": "access-2", "refresh_token": "refresh-2-" + "r" * 30}
            return "refresh", _json(tokens | {"token_type": "bearer", "expires_in": 900})
        if req.headers.get("authorization") == "Bearer stale":
            return "stale", _json(
                {"code": "not_authenticated", "message": "x", "fields": {}}, "401 Unauthorized"
            )
        if req.path == "/sync/push":
            raw = req.body
            if req.headers.get("content-encoding") == "gzip":
                raw = gzip.decompress(raw)
            ops = json.loads(raw)["ops"]
            results = [
                {
                    "op_id": op["op_id"],
                    "device_seq": op["device_seq"],
                    "status": "applied",
                    "outcome": "applied",
                    "server_seq": 100 + i,
                    "received_at": "2026-03-02T01:00:00.000000Z",
                }
                for i, op in enumerate(ops)
            ]
            self.pushed += [op["op_id"] for op in ops]
            last = max(op["device_seq"] for op in ops)
            page = {"results": results, "last_seq": last, "server_time": "2026-03-02T01:00:00Z"}
            return "push", _json(page)
        if req.path == "/sync/pull":
            sites = [
                {
                    "seq": i + 1,
                    "kind": "site",
                    "id": f"site-{i}",
                    "data": {"id": f"site-{i}", "name": f"场所{i}", "district_id": "150302"},
                }
                for i in range(40)
            ]
            page = {
                "changes": sites,
                "next_cursor": "cursor-1",
                "has_more": False,
                "server_time": "2026-03-02T01:00:00Z",
                "device_last_seq": 0,
            }
            gz = "gzip" in req.headers.get("accept-encoding", "")
            return "pull", _json(page, gzipped=gz)
        if req.path.startswith("/blobs/"):
            return self._blob(req)
        return "other", _answer("404 Not Found", {})

    def _blob(self, req: Request) -> tuple[str, bytes]:
        sha = req.path.removeprefix("/blobs/")
        held = self.held.setdefault(sha, bytearray())
        if req.method == "HEAD":
            return "head", _answer("200 OK", {"Upload-Offset": str(len(held))})
        offset, length = int(req.headers["upload-offset"]), int(req.headers["upload-length"])
        if offset != len(held):
            problem = json.dumps({"code": "offset_mismatch", "message": "x", "fields": {}})
            return "patch", _answer(
                "409 Conflict", {"Upload-Offset": str(len(held))}, problem.encode()
            )
        held += req.body
        done = {"Upload-Complete": "1"} if len(held) == length else {}
        return "patch", _answer("204 No Content", {"Upload-Offset": str(len(held))} | done)


@pytest.fixture
def server() -> Iterator[CuttingServer]:
    s = CuttingServer()
    yield s
    s.close()


@pytest.fixture
def client(server, tmp_path) -> Iterator[SyncClient]:
    store = LocalStore(tmp_path / "tablet.db")
    c = SyncClient(
        store, server.url, max_attempts=2, sleep=lambda _: None, timeout=(2.0, 2.0), chunk_size=32
    )
    c.login("inspector", "demo-password")
    yield c
    c.http.close()
    store.close()


def every_cut(server: CuttingServer, route: str, call: Callable[[], object]) -> Iterator[int]:
    """Run ``call`` with ``route``'s answer cut at 0, 1, 2, ... bytes, then whole; yield each
    ``k`` after the call (the caller checks the device), and only ``SyncFailed`` may escape."""
    server.cut_route, k = route, 0
    while True:
        server.cut_at = k
        with contextlib.suppress(SyncFailed):  # retryable: the sync screen says "try again"
            call()
        yield k
        assert server.last_length > 0, f"the {route} route was never called"
        if k >= server.last_length:
            return
        k += 1


def test_login_answer_cut_anywhere(server, tmp_path):
    store = LocalStore(tmp_path / "fresh.db")
    c = SyncClient(store, server.url, max_attempts=2, sleep=lambda _: None, timeout=(2.0, 2.0))
    try:
        for k in every_cut(server, "token", lambda: c.login("inspector", "demo-password")):
            if k < server.last_length:
                assert store.meta("access_token") is None, k  # nothing half-kept
        assert store.meta("access_token") == "access-1" and store.meta("user_id") == USER["id"]
    finally:
        c.http.close()
        store.close()


def test_refresh_answer_cut_anywhere(server, client):
    """A stale access token: the client refreshes (answer cut), then pulls."""

    def stale_pull() -> None:
        client.store.set_meta("access_token", "stale")
        client.store.set_meta("refresh_token", "refresh-1-" + "r" * 30)
        client.pull(SyncResult())

    for k in every_cut(server, "refresh", stale_pull):
        if k < server.last_length:  # the old refresh token is kept to try again
            assert client.store.meta("refresh_token") == "refresh-1-" + "r" * 30, k
    assert client.store.meta("access_token") == "access-2"
    assert client.store.meta("cursor") == "cursor-1"


def test_push_answer_cut_anywhere(server, client):
    outbox = Outbox(client.store)
    ops = [
        outbox.report_hazard(site_id=MALL, title=f"隐患{i}", severity="general") for i in range(3)
    ]
    unsent = "SELECT op_id FROM outbox WHERE status IN ('pending', 'sent') ORDER BY device_seq"

    def push() -> None:
        client.store.write(lambda db: db.execute("UPDATE outbox SET status = 'pending'"))
        client.push(SyncResult())

    for k in every_cut(server, "push", push):
        if k < server.last_length:
            assert [r["op_id"] for r in client.store.read(unsent)] == ops, k
    acknowledged = client.store.read("SELECT op_id FROM outbox WHERE status = 'acknowledged'")
    assert sorted(r["op_id"] for r in acknowledged) == sorted(ops)
    assert set(server.pushed) == set(ops)


def test_pull_answer_cut_anywhere(server, client):
    """The pull page is gzip-compressed: cuts land inside the compressed stream too."""

    def pull() -> None:
        client.store.write(lambda db: db.execute("DELETE FROM site"))
        client.store.set_meta("cursor", None)
        client.pull(SyncResult())

    for k in every_cut(server, "pull", pull):
        if k < server.last_length:
            assert client.store.meta("cursor") is None, k
            assert client.store.read("SELECT count(*) AS n FROM site")[0]["n"] == 0, k
    assert client.store.meta("cursor") == "cursor-1"
    assert client.store.read("SELECT count(*) AS n FROM site")[0]["n"] == 40


@pytest.mark.parametrize("route", ["head", "patch"])
def test_upload_answer_cut_anywhere(server, client, route):
    """A photo of several chunks, the server already holding part of it: whatever the cut,
    the bytes the server ends up with are exactly the photo's."""
    data = photo("cut-anywhere")
    sha = Outbox(client.store).add_photo(data)["sha256"]
    assert len(data) > 3 * client.chunk_size
    completed = 0

    def upload() -> None:
        nonlocal completed
        server.held[sha] = bytearray(data[: client.chunk_size])
        client.store.write(lambda db: db.execute("UPDATE blob SET server_complete = 0"))
        completed += client.upload_blobs(SyncResult())
        assert bytes(server.held[sha]) == data[: len(server.held[sha])]  # never a wrong byte

    for k in every_cut(server, route, upload):
        assert client.store.blob_intact(sha), k  # the tablet's copy is untouched
        row = client.store.read("SELECT server_complete, error FROM blob")[0]
        assert row["error"] is None, k
        if row["server_complete"]:
            assert bytes(server.held[sha]) == data, k
    assert bytes(server.held[sha]) == data and completed
