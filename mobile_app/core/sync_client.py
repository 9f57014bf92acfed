"""The tablet's sync client (``requests``): upload photos resumably, push the outbox in
batches, pull pages of changes. See docs/sync.md.

Every step is safe to interrupt at any byte: the outbox is only marked from the server's
answer (a lost answer means the op is sent again and comes back ``duplicate``); a pulled page
and its cursor commit in one local transaction (a crash mid-page re-applies it, and applying
is idempotent); an upload resumes from the offset the server reports. Network errors, answers
that do not parse (a connection cut inside the headers still yields a response: ``http.client``
takes the cut as the end of the headers), 5xx and 429 are retried with exponential backoff and
full jitter; a 401 refreshes the token once;
``410`` resets the local copy of server data (never the outbox); ``426`` stops and keeps
everything for after the app update.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests
from pydantic import BaseModel
from sqlite_utils import Database

from mobile_app.core.chains import (
    ChainLinkError,
    provisional_hazards,
    refold,
    refold_pulled,
    store_events,
    store_numbers,
)
from mobile_app.core.outbox import actor_of
from mobile_app.core.store import LocalStore, dumps, get_meta, set_meta
from shared.chain import ChainEvent
from shared.clock import Clock, SystemClock, local_date, to_iso
from shared.device_proof import NONCE_HEADER, PROOF_HEADER, DeviceKey
from shared.sync_wire import (
    SCHEMA_VERSION,
    OpStatus,
    PullResponse,
    PushResponse,
    StopReason,
    header_number,
)

log = logging.getLogger("hazardchain.tablet.sync")
API = "/api/v1"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
GZIP_MIN_BYTES = 1024
TASKS_PAST_DAYS = 31  # missed tasks older than a month are the console's business
TASKS_AHEAD_DAYS = 14
TASK_PAGE = 500  # the server's page limit
MAX_TASKS = 5000
T = TypeVar("T")


@dataclass
class Progress:
    """For the progress bar: records and bytes of the current phase."""

    phase: str  # "upload" | "push" | "pull" | "done"
    records_done: int = 0
    records_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0


@dataclass
class SyncResult:
    pushed: int = 0  # acknowledged by the server in this run
    rejected: int = 0
    uploaded_files: int = 0
    pulled: int = 0
    resets: int = 0
    log_failures: list[str] = field(default_factory=list)  # the log witness's (core.witness)
    bytes_sent: int = 0
    bytes_received: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class SyncFailed(Exception):
    """The server could not be reached (or kept failing) after every retry; nothing is lost."""


class MalformedAnswer(ValueError):
    """An answer that does not parse: cut short or garbled on the way. Retried like a dropped
    connection; after the last attempt it is a ``SyncFailed``."""


def _model(model: type[BaseModel]) -> Callable[[requests.Response], Any]:
    return lambda r: model.model_validate(r.json())  # pydantic's ValidationError is a ValueError


def _json_object(*keys: str) -> Callable[[requests.Response], dict[str, Any]]:
    """A JSON object holding these keys (the rest is the caller's to read)."""

    def read(r: requests.Response) -> dict[str, Any]:
        body = r.json()
        if not isinstance(body, dict) or any(k not in body for k in keys):
            raise MalformedAnswer(f"expected an object with {', '.join(keys)}")
        return body

    return read


def _items(*keys: str) -> Callable[[requests.Response], list[dict[str, Any]]]:
    """A page's ``items``, each an object holding these keys."""

    def read(r: requests.Response) -> list[dict[str, Any]]:
        items = _json_object("items")(r)["items"]
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and all(isinstance(i.get(k), str) for k in keys) for i in items
        ):
            raise MalformedAnswer("expected a list of items")
        return items

    return read


def _page(*keys: str) -> Callable[[requests.Response], tuple[list[dict[str, Any]], str | None]]:
    """A cursor page (``server.paging``): its ``items`` and the cursor of the next page."""
    items = _items(*keys)

    def read(r: requests.Response) -> tuple[list[dict[str, Any]], str | None]:
        nxt = _json_object("items")(r).get("next_cursor")
        if nxt is not None and not (isinstance(nxt, str) and nxt):
            raise MalformedAnswer("expected a cursor or null")
        return items(r), nxt

    return read


def _tokens(r: requests.Response) -> dict[str, Any]:
    body = _json_object("access_token", "refresh_token")(r)
    if not all(isinstance(body[k], str) and body[k] for k in ("access_token", "refresh_token")):
        raise MalformedAnswer("expected tokens")
    return body


def _login_answer(r: requests.Response) -> dict[str, Any]:
    body = _tokens(r)
    user = body.get("user")
    if not isinstance(user, dict) or not all(isinstance(user.get(k), str) for k in ("id", "role")):
        raise MalformedAnswer("expected the user")
    return body


def _held(size: int) -> Callable[[requests.Response], int]:
    """How many bytes of a ``size``-byte file the server holds, from HEAD's or PATCH's answer."""

    def read(r: requests.Response) -> int:
        if r.status_code in (404, 413, 415, 422):  # nothing there yet, or refused (see why)
            return 0
        return _upload_offset(r, size)

    return read


def _upload_offset(r: requests.Response, size: int) -> int:
    """The server's ``Upload-Offset``; a missing, empty or garbled one (a cut inside the
    headers) or one past the file's end is a malformed answer."""
    offset = header_number(r.headers.get("Upload-Offset"))
    if offset is None or offset > size:
        raise MalformedAnswer(f"Upload-Offset {r.headers.get('Upload-Offset')!r}")
    return offset


class LoginRequired(Exception):
    """The session cannot be refreshed; ask for the password. The outbox is kept.

    ``code`` is the server's reason; ``device_key_required`` means a session from before
    device keys: the next login binds one."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class UpgradeRequired(Exception):
    """The server no longer accepts this app version; update it. The outbox is kept."""


class DeviceRevoked(Exception):
    """An administrator revoked this tablet; unsent records stay on it for recovery."""


class ServerRefused(Exception):
    """An answer the client cannot act on (a 4xx other than the ones handled)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class _ResetRequired(Exception):
    pass


def _code(r: requests.Response) -> tuple[str, str]:
    try:
        body = r.json()
    except ValueError:
        return "", r.text[:200]
    if not isinstance(body, dict):
        return "", r.text[:200]
    return str(body.get("code", "")), str(body.get("message", ""))


class SyncClient:
    def __init__(
        self,
        store: LocalStore,
        base_url: str,
        *,
        http: requests.Session | None = None,
        clock: Clock | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        batch_size: int = 100,
        pull_limit: int = 500,
        chunk_size: int = 512 * 1024,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 6,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        app_version: str = "0.1.0",
        schema_version: int = SCHEMA_VERSION,
        relogin: Callable[[], tuple[str, str]] | None = None,
        lang: str = "zh",
    ) -> None:
        self.store = store
        self.base = base_url.rstrip("/") + API
        self.http = http or requests.Session()
        self.clock = clock or SystemClock()
        self.on_progress = on_progress
        self.batch_size = batch_size
        self.pull_limit = pull_limit
        self.chunk_size = chunk_size
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.rng = rng or random.Random()
        self.sleep = sleep
        self.app_version = app_version
        self.schema_version = schema_version
        self.relogin = relogin
        self.lang = lang
        self.http.headers["User-Agent"] = f"HazardChain-tablet/{app_version}"
        self._server_lost_ops = False
        self._fetcher: ThreadPoolExecutor | None = None

    # ---------------------------------------------------------------- HTTP

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with full jitter (AWS architecture blog's recommendation)."""
        self.sleep(self.rng.uniform(0, min(self.backoff_cap, self.backoff_base * 2**attempt)))

    def _headers(self, auth: bool) -> dict[str, str]:
        headers = {"Accept-Language": self.lang}
        token = self.store.meta("access_token") if auth else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _request(
        self,
        method: str,
        path: str,
        *,
        expect: tuple[int, ...] = (),
        auth: bool = True,
        read: Callable[[requests.Response], T] | None = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> tuple[requests.Response, T | None]:
        """Send with retries. Returns (response, ``read(response)``): an answer ``read`` cannot
        parse (``ValueError``) is retried like a network error."""
        refreshed = False
        last: str = ""
        for attempt in range(self.max_attempts):
            try:
                r = self.http.request(
                    method,
                    self.base + path,
                    headers={**self._headers(auth), **(headers or {})},
                    timeout=self.timeout,
                    **kw,
                )
            except NETWORK_ERRORS as exc:
                last = f"{type(exc).__name__}: {exc}"
                self._backoff(attempt)
                continue
            if r.status_code == 401 and auth and not refreshed:
                self._refresh()
                refreshed = True
                continue
            if r.status_code in RETRY_STATUSES:
                last = f"HTTP {r.status_code}"
                self._backoff(attempt)
                continue
            if r.status_code == 426:
                raise UpgradeRequired(_code(r)[1])
            if r.status_code == 410:
                raise _ResetRequired(_code(r)[1])
            if r.status_code in expect or 200 <= r.status_code < 300:
                if read is None:
                    return r, None
                try:
                    return r, read(r)
                except ValueError as exc:  # cut short or garbled on the way
                    last = f"malformed answer: {exc}"
                    self._backoff(attempt)
                    continue
            code, message = _code(r)
            if r.status_code == 401:
                raise LoginRequired(message)
            if code == "device_revoked":
                raise DeviceRevoked(message)
            raise ServerRefused(r.status_code, code, message)
        raise SyncFailed(f"{method} {path}: {last}")

    def _server_time(self, r: requests.Response) -> str:
        """The server's clock from its ``Date`` header, as ISO (the receipt's time); this
        device's clock when the header is missing or unreadable."""
        try:
            return to_iso(parsedate_to_datetime(r.headers["Date"]))
        except (KeyError, TypeError, ValueError):
            return to_iso(self.clock.now())

    @staticmethod
    def _wire_bytes(r: requests.Response) -> int:
        length = header_number(r.headers.get("Content-Length"))
        return len(r.content) if length is None else length

    # ---------------------------------------------------------------- session

    def login(self, username: str, password: str) -> dict[str, Any]:
        """Log in and remember the tokens and the user on the device."""
        r, body = self._request(
            "POST",
            "/auth/token",
            auth=False,
            read=_login_answer,
            data={
                "username": username,
                "password": password,
                "device_id": self.store.device_id,
                "device_key": self.device_key().public_text(),
            },
        )
        user = body["user"]

        def keep(db: Database) -> None:
            owner = get_meta(db, "user_id")
            if owner and owner != user["id"]:
                unsent = db.execute(
                    "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sent')"
                ).fetchone()[0]
                if unsent:
                    raise ServerRefused(
                        409, "other_user", "this tablet holds another user's unsent records"
                    )
            self._keep_tokens(db, body)
            set_meta(db, "user_id", user["id"])
            set_meta(db, "role", user["role"])
            set_meta(db, "user_name", user.get("display_name", ""))
            set_meta(db, "username", user.get("username", username))
            set_meta(db, "user", dumps(user))

        self.store.write(keep)
        self._pin_log_key()
        return user

    def _pin_log_key(self) -> None:
        """Pin the log's public key at login (``core.witness``); the next sync pins it when
        the server cannot be asked now."""
        from mobile_app.core.witness import LogWitness

        try:
            LogWitness(self).pin()
        except (SyncFailed, ServerRefused) as exc:
            log.info("log key not pinned yet", extra={"error": str(exc)})

    @staticmethod
    def _keep_tokens(db: Database, body: dict[str, Any]) -> None:
        set_meta(db, "access_token", body["access_token"])
        set_meta(db, "refresh_token", body["refresh_token"])

    def device_key(self) -> DeviceKey:
        """This tablet's key pair, made on first use and kept in the local store (a logout
        keeps it, like the device id): the server binds each session to its public half."""

        def get_or_make(db: Database) -> str:
            text = get_meta(db, "device_key")
            if not text:
                text = DeviceKey.generate().text()
                set_meta(db, "device_key", text)
            return text

        return DeviceKey.from_text(self.store.meta("device_key") or self.store.write(get_or_make))

    def _refresh(self) -> None:
        """A new pair for the stored refresh token, proving this tablet holds its key.

        A lost answer leaves the old token stored: the next refresh sends it again with a new
        proof, which the server accepts until the successor it never delivered is used. A
        ``stale_proof`` answer (this tablet's clock is off) is signed again once with the
        server's nonce."""
        token = self.store.meta("refresh_token")
        code, message = "", "session expired; log in again"
        if token:
            url, nonce = self.base + "/auth/refresh", None
            for _ in range(2):
                proof = self.device_key().proof(
                    method="POST", url=url, refresh_token=token, now=self.clock.now(), nonce=nonce
                )
                try:
                    r = self.http.post(
                        url,
                        json={"refresh_token": token},
                        headers={PROOF_HEADER: proof, "Accept-Language": self.lang},
                        timeout=self.timeout,
                    )
                except NETWORK_ERRORS as exc:
                    raise SyncFailed(f"token refresh: {exc}") from exc
                if r.status_code == 200:
                    try:
                        body = _tokens(r)
                    except ValueError as exc:  # the new tokens were lost on the way: retry later
                        raise SyncFailed(f"token refresh: malformed answer: {exc}") from exc
                    self.store.write(lambda db, body=body: self._keep_tokens(db, body))
                    return
                if r.status_code in RETRY_STATUSES:
                    raise SyncFailed(f"token refresh: HTTP {r.status_code}")
                code, message = _code(r)
                nonce = r.headers.get(NONCE_HEADER)
                if code != "stale_proof" or not nonce:
                    break
        if self.relogin is not None:
            username, password = self.relogin()
            self.login(username, password)
            return
        raise LoginRequired(message, code)

    # ---------------------------------------------------------------- sync

    def _tell(self, progress: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(**vars(progress)))

    def tell(self, progress: Progress) -> None:
        """Show progress of work that rides on a sync (the photo prefetch) as the sync's own."""
        self._tell(progress)

    def fetch_blob(self, sha256: str, *, thumb: bool = False) -> bytes | None:
        """A photo's bytes (or its preview), with the client's retries and token refresh;
        ``None`` when the server holds none this user may see (403 and 404 look alike)."""
        path = f"/blobs/{sha256}" + ("/thumb" if thumb else "")
        r, _ = self._request("GET", path, expect=(403, 404))
        return None if r.status_code in (403, 404) else r.content

    def sync(self) -> SyncResult:
        """Upload photos, push the outbox, pull changes. Network trouble ends the run with an
        error in the result (retry later); what needs the user raises."""
        result = SyncResult()
        self._server_lost_ops = False
        try:
            self.upload_blobs(result)
            self.push(result)
            self.pull(result)
            self.pull_lists(result)
            if self._server_lost_ops:  # a restored server: give it back what it lost
                self.upload_blobs(result)
                self.push(result)
                self.pull(result)
            self.witness_log(result)
        except (SyncFailed, ServerRefused) as exc:
            result.errors.append(str(exc))
            log.info("sync incomplete", extra={"error": str(exc)})
        self._tell(Progress("done"))
        if result.ok:
            self.store.set_meta("last_sync", to_iso(self.clock.now()))
        return result

    def witness_log(self, result: SyncResult) -> None:
        """Hold the server to the log this tablet saw before (``core.witness``)."""
        from mobile_app.core.witness import LogWitness

        result.log_failures = [f.reason for f in LogWitness(self).check()]

    # ---------------------------------------------------------------- photos

    def upload_blobs(self, result: SyncResult, only: list[str] | None = None) -> bool:
        """Upload every photo the server does not hold yet; True when all are there."""
        rows = self.store.read(
            "SELECT * FROM blob WHERE server_complete = 0 AND error IS NULL ORDER BY created_at"
        )
        if only is not None:
            rows = [r for r in rows if r["sha256"] in set(only)]
        progress = Progress(
            "upload",
            records_total=len(rows),
            bytes_total=sum(r["size"] - r["server_offset"] for r in rows),
        )
        self._tell(progress)
        for row in rows:
            if self._upload_one(row, result, progress):
                result.uploaded_files += 1
                progress.records_done += 1
                self._tell(progress)
        wanted = [r["sha256"] for r in rows] if only is None else list(only)
        held = {
            r["sha256"]
            for r in self.store.read("SELECT sha256 FROM blob WHERE server_complete = 1")
        }
        return all(sha in held for sha in wanted)

    def _upload_one(self, row: dict[str, Any], result: SyncResult, progress: Progress) -> bool:
        sha, size = row["sha256"], row["size"]
        path = f"/blobs/{sha}"
        r, offset = self._request("HEAD", path, expect=(404,), read=_held(size))
        restarts = busy = 0
        # done only on the server's word: all bytes there but unchecked (it crashed before
        # hashing them) still takes a PATCH, an empty one, to finish
        for _ in range(10 * (size // max(1, self.chunk_size) + 1) + 20):
            if r.headers.get("Upload-Complete") == "1":
                break
            chunk = self.store.blob_chunks(sha, offset, self.chunk_size)
            r, new_offset = self._request(
                "PATCH",
                path,
                expect=(409, 413, 415, 422),
                read=_held(size),
                data=chunk,
                headers={
                    "Upload-Offset": str(offset),
                    "Upload-Length": str(size),
                    "Content-Type": "application/offset+octet-stream",
                },
            )
            result.bytes_sent += len(chunk)
            if r.status_code == 409:  # another offset, or the same file still arriving
                offset = new_offset
                if _code(r)[0] == "upload_busy":
                    busy += 1
                    self._backoff(min(busy, 6))
                continue
            if r.status_code in (413, 415, 422):
                # the server assembled bytes that do not hash to the name: start again, unless
                # the copy on this device is itself damaged (then a person must look at it)
                restarts += 1
                if r.status_code != 422 or not self.store.blob_intact(sha) or restarts > 3:
                    code, message = _code(r)
                    self._mark_blob(sha, error=f"{code}: {message}")
                    return False
                offset = 0
                continue
            progress.bytes_done += max(0, new_offset - offset)
            offset = new_offset
            self._tell(progress)
        else:
            raise SyncFailed(f"upload of {sha[:12]} makes no progress")
        self._mark_blob(sha, complete=True, receipt=self._server_time(r))
        return True

    def _mark_blob(
        self, sha: str, *, complete: bool = False, receipt: str = "", error: str | None = None
    ) -> None:
        def mark(db: Database) -> None:
            if complete:
                db.execute(
                    "UPDATE blob SET server_complete = 1, server_offset = size, receipt_at = ?,"
                    " error = NULL WHERE sha256 = ?",
                    [receipt, sha],
                )
            else:
                db.execute("UPDATE blob SET error = ? WHERE sha256 = ?", [error, sha])

        self.store.write(mark)

    # ---------------------------------------------------------------- push

    def _unsent(self, limit: int) -> list[dict[str, Any]]:
        return self.store.read(
            "SELECT * FROM outbox WHERE status IN ('pending', 'sent') ORDER BY device_seq LIMIT ?",
            [limit],
        )

    def push(self, result: SyncResult) -> None:
        """Send unsent ops in device_seq order, in batches, until none is left (or a photo
        they need cannot be uploaded yet)."""
        total = self.store.read(
            "SELECT count(*) AS n FROM outbox WHERE status IN ('pending', 'sent')"
        )[0]["n"]
        progress = Progress("push", records_total=total)
        self._tell(progress)
        stops = 0
        while True:
            batch = self._unsent(self.batch_size)
            if not batch:
                return
            sent_at = to_iso(self.clock.now())
            self.store.write(lambda db, b=batch, t=sent_at: _mark_sent(db, b, t))
            body = {
                "device_id": self.store.device_id,
                "schema_version": self.schema_version,
                "app_version": self.app_version,
                "device_now": to_iso(self.clock.now()),
                "ops": [_wire_op(op) for op in batch],
            }
            raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json"}
            if len(raw) >= GZIP_MIN_BYTES:
                raw = gzip.compress(raw, compresslevel=5, mtime=0)
                headers["Content-Encoding"] = "gzip"
            try:
                r, resp = self._request(
                    "POST", "/sync/push", data=raw, headers=headers, read=_model(PushResponse)
                )
            except (UpgradeRequired, DeviceRevoked, LoginRequired, ServerRefused):
                # refused before anything was applied: not on its way after all
                self.store.write(lambda db, b=batch: _mark_unsent(db, b))
                raise
            result.bytes_sent += len(raw)
            result.bytes_received += self._wire_bytes(r)
            counts = self.store.write(lambda db, b=batch, x=resp: self._apply_push(db, b, x))
            result.pushed += counts["acknowledged"]
            result.rejected += counts["rejected"]
            progress.records_done += counts["acknowledged"] + counts["rejected"]
            progress.bytes_done += len(raw)
            self._tell(progress)
            stop = resp.stopped
            if stop is None:
                continue
            stops += 1
            if stops > 20:
                raise SyncFailed(f"push keeps stopping at {stop.at_seq} ({stop.reason})")
            if stop.reason is StopReason.missing_blob:
                missing = [
                    sha
                    for x in resp.results
                    if x.status is OpStatus.missing_blob
                    for sha in x.data.get("missing_blobs", [])
                ]
                if not self.upload_blobs(result, only=missing):
                    return  # the op waits for its photos; later ops wait behind it

    def _apply_push(
        self, db: Database, batch: list[dict[str, Any]], resp: PushResponse
    ) -> dict[str, int]:
        """Record the server's answers, all in one local transaction."""
        by_id = {op["op_id"]: op for op in batch}
        counts = {"acknowledged": 0, "rejected": 0}
        hazards: set[str] = set()
        for res in resp.results:
            op = by_id.get(res.op_id)
            if op is None:
                continue
            if op["hazard_id"]:
                hazards.add(op["hazard_id"])
            hazards |= provisional_hazards(db, res.op_id)
            if res.status is OpStatus.missing_blob:
                missing = res.data.get("missing_blobs", [])
                db.execute(
                    "UPDATE outbox SET status = 'pending', blocked = ? WHERE op_id = ?",
                    ["missing_blob:" + ",".join(missing), res.op_id],
                )
                for sha in missing:  # the server has lost or never finished them: send again
                    db.execute(
                        "UPDATE blob SET server_complete = 0, server_offset = 0 WHERE sha256 = ?",
                        [sha],
                    )
                continue
            status = "acknowledged" if res.outcome == "applied" else "rejected"
            counts[status] += 1
            db.execute(
                "UPDATE outbox SET status = ?, result_status = ?, code = ?, message_zh = ?,"
                " message_en = ?, server_seq = ?, received_at = ?, blocked = NULL"
                " WHERE op_id = ?",
                [status, res.status.value, res.code, res.message_zh, res.message_en,
                 res.server_seq, res.received_at, res.op_id],
            )  # fmt: skip
            if status == "rejected" and op["type"] == "inspection.submit":
                # the inspection created nothing: its draft opens again to be put right
                db.execute("UPDATE draft SET status = 'rejected' WHERE op_id = ?", [res.op_id])
        answered = {res.op_id for res in resp.results}
        for op in batch:
            if op["op_id"] not in answered:
                db.execute(
                    "UPDATE outbox SET status = 'pending' WHERE op_id = ? AND status = 'sent'",
                    [op["op_id"]],
                )
        stop = resp.stopped
        if stop is not None and stop.reason in (StopReason.seq_gap, StopReason.seq_behind):
            hazards |= _renumber(db, stop.expected_seq)
        if hazards:
            actor = actor_of(db)
            for hazard_id in hazards:
                refold(db, hazard_id, actor)
        return counts

    # ---------------------------------------------------------------- pull

    def _fetch_page(self, cursor: str | None) -> tuple[requests.Response, PullResponse]:
        params: dict[str, Any] = {
            "device_id": self.store.device_id,
            "schema_version": self.schema_version,
            "app_version": self.app_version,
            "device_now": to_iso(self.clock.now()),
            "limit": self.pull_limit,
        }
        if cursor:
            params["cursor"] = cursor
        r, page = self._request("GET", "/sync/pull", params=params, read=_model(PullResponse))
        return r, page

    def _prefetcher(self) -> ThreadPoolExecutor:
        """One thread for the client's life (it keeps one store reader, not one per sync)."""
        if self._fetcher is None:
            self._fetcher = ThreadPoolExecutor(1, thread_name_prefix="sync-prefetch")
        return self._fetcher

    def _next_page(
        self, cursor: str | None, ahead: tuple[str | None, Future] | None
    ) -> tuple[requests.Response, PullResponse]:
        """The page after ``cursor``: the one fetched ahead if it was asked from there (its
        failure raised now, as if fetched now), else fetched now, once the fetch ahead is
        over (one request at a time on the session)."""
        if ahead is not None:
            asked_from, fetch = ahead
            if asked_from == cursor:
                return fetch.result()
            with contextlib.suppress(Exception):
                fetch.result()
        return self._fetch_page(cursor)

    def pull(self, result: SyncResult) -> None:
        """Pull pages until the server has nothing more; each page commits with its cursor.

        The next page is fetched on another thread while one is applied, from the cursor that
        page will leave; it is used only if the applied page did leave that cursor, and a
        fetch that failed is raised here as if it had been made now: the stored cursor only
        moves when a page is applied, so no page is lost or skipped."""
        progress = Progress("pull")
        self._tell(progress)
        resets = 0
        ahead: tuple[str | None, Future] | None = None  # (the cursor it was asked from, fetch)
        try:
            while True:
                cursor = self.store.meta("cursor")
                try:
                    r, page = self._next_page(cursor, ahead)
                except _ResetRequired as exc:
                    resets = self._reset(resets, result, "the server keeps asking for a reset", exc)
                    continue
                finally:
                    ahead = None
                if page.has_more:
                    ahead = (
                        page.next_cursor,
                        self._prefetcher().submit(self._fetch_page, page.next_cursor),
                    )
                size = self._wire_bytes(r)
                try:
                    self.store.write(lambda db, p=page, c=cursor: self._apply_page(db, p, c))
                except ChainLinkError as exc:
                    # the server's chains and this copy disagree (a restore the cursor could
                    # not reveal): start again from the server's data, as for a 410
                    resets = self._reset(resets, result, "pulled chains do not fit", exc)
                    continue
                result.pulled += len(page.changes)
                result.bytes_received += size
                progress.records_done += len(page.changes)
                progress.bytes_done += size
                self._tell(progress)
                if not page.has_more:
                    return
        finally:
            if ahead is not None:  # left early: wait for the fetch, drop its page
                with contextlib.suppress(Exception):
                    ahead[1].result()

    def _reset(self, resets: int, result: SyncResult, why: str, exc: Exception) -> int:
        """Forget the server's data and pull again from the start; twice at most per run."""
        if resets >= 2:
            raise SyncFailed(f"{why}: {exc}") from exc
        log.warning("resetting the local copy", extra={"why": why, "reason": str(exc)})
        self.store.write(_reset_local)
        result.resets += 1
        return resets + 1

    def _apply_page(self, db: Database, page: PullResponse, cursor: str | None) -> None:
        """One page and its cursor, all or nothing; re-applying a page changes nothing. Its
        events are checked and stored at once, their numbers in one ``executemany``, and
        their hazards folded on from their stored rows (``refold_pulled``)."""
        if get_meta(db, "cursor") != cursor:
            return  # another run moved on meanwhile
        events = []  # stored together, after the page's sites and templates (they are apart)
        for ch in page.changes:
            if ch.kind == "event":
                if ch.op == "put" and ch.data is not None:
                    events.append((ch.data, ch.seq))
            else:
                _store_reference(db, ch.kind, ch.id, ch.op, ch.data)
        store_events(db, events)
        store_numbers(db, [data for data, _ in events])
        set_meta(db, "cursor", page.next_cursor)
        set_meta(db, "last_pull", page.server_time)
        acked = db.execute(
            "SELECT max(device_seq) FROM outbox WHERE status IN ('acknowledged', 'rejected')"
        ).fetchone()[0]
        hazards: set[str] = set()
        if acked is not None and page.device_last_seq < acked:
            log.warning(
                "server lost acknowledged ops",
                extra={"server_last_seq": page.device_last_seq, "acknowledged": acked},
            )
            hazards |= _renumber(db, page.device_last_seq + 1)
            _recheck_blobs(db)
            self._server_lost_ops = True
        pulled: dict[str, list[ChainEvent]] = {}
        for data, _ in events:
            ev = ChainEvent.from_mapping(data)
            if ev.hazard_id not in hazards:
                pulled.setdefault(ev.hazard_id, []).append(ev)
        actor = actor_of(db)
        for chain in pulled.values():
            chain.sort(key=lambda ev: ev.seq)
        refold_pulled(db, pulled, actor)
        for hazard_id in hazards:
            refold(db, hazard_id, actor)

    # ---------------------------------------------------------------- lists

    def _get_json(
        self, path: str, result: SyncResult, read: Callable[[requests.Response], T], **params: Any
    ) -> T:
        r, data = self._request("GET", path, params=params, read=read)
        result.bytes_received += self._wire_bytes(r)
        return data

    def _my_tasks(self, result: SyncResult, timezone: str | None) -> list[dict[str, Any]]:
        """The open and missed tasks Home can show: missed ones of the last month and what is
        due in the coming fortnight (days offline in a mine), every page of them. Asking for
        the first page of all tasks ever gave a daily plan's oldest tasks and never today's."""
        today = local_date(self.clock.now(), timezone)
        window = {
            "mine": "true",
            "status": ["open", "missed"],
            "date_from": (today - timedelta(days=TASKS_PAST_DAYS)).isoformat(),
            "date_to": (today + timedelta(days=TASKS_AHEAD_DAYS)).isoformat(),
            "limit": TASK_PAGE,
        }
        tasks: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(tasks) < MAX_TASKS:  # by the server's cursor: a task made meanwhile
            more = {"cursor": cursor} if cursor else {}  # neither repeats nor hides one
            page, cursor = self._get_json("/tasks", result, _page("id"), **window, **more)
            tasks += page
            if not cursor:
                break
        return tasks

    def pull_lists(self, result: SyncResult) -> None:
        """What is not in the change feed, read whole: the user (role, scope, name may have
        changed), the user's inspection tasks and the newest inspections in scope."""
        me = self._get_json("/me", result, _json_object("id", "role"))
        try:
            tasks = self._my_tasks(result, me.get("timezone"))
        except ServerRefused as exc:
            if exc.status not in (403, 404):
                raise
            tasks = []  # a role without tasks (enterprise users)
        inspections = self._get_json("/inspections", result, _items("id", "site_id"), limit=200)

        def keep(db: Database) -> None:
            set_meta(db, "user", dumps(me))
            db.execute("DELETE FROM task")
            for t in tasks:
                db.execute("INSERT INTO task (id, data) VALUES (?, ?)", [t["id"], dumps(t)])
            for i in inspections:
                db.execute(
                    "INSERT INTO inspection (id, site_id, data) VALUES (?, ?, ?)"
                    " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                    [i["id"], i["site_id"], dumps(i)],
                )

        self.store.write(keep)
        result.pulled += len(tasks) + len(inspections)

    # ---------------------------------------------------------------- state

    def state(self) -> dict[str, Any]:
        """Counts for the sync screen, including what only this device holds."""
        from mobile_app.core.outbox import Outbox

        box = Outbox(self.store)
        only = box.only_copy()
        return {
            "counts": box.counts(),
            "only_copy": {
                "records": only.records,
                "photos": only.photos,
                "bytes": only.photo_bytes,
            },
            "last_sync": self.store.meta("last_sync"),
            "rejected": box.rejections(),
        }


def _wire_op(op: dict[str, Any]) -> dict[str, Any]:
    return {
        "op_id": op["op_id"],
        "device_seq": op["device_seq"],
        "type": op["type"],
        "v": op["v"],
        "payload": json.loads(op["payload"]),
        "device_time": op["device_time"],
    }


def _mark_sent(db: Database, batch: list[dict[str, Any]], at: str) -> None:
    for op in batch:
        db.execute(
            "UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?"
            " WHERE op_id = ? AND status IN ('pending', 'sent')",
            [at, op["op_id"]],
        )


def _mark_unsent(db: Database, batch: list[dict[str, Any]]) -> None:
    for op in batch:
        db.execute(
            "UPDATE outbox SET status = 'pending' WHERE op_id = ? AND status = 'sent'",
            [op["op_id"]],
        )


def _renumber(db: Database, expected: int) -> set[str]:
    """The server expects ``expected`` next: number every op it has not recorded from there.

    Ahead of the server (it was restored from a backup and lost ops): ops from ``expected`` on
    are sent again, acknowledged ones included. Behind it (this device was restored from a
    backup): the unsent ops move up to the server's next number. Order is kept either way.
    """
    tail = [
        (row[0], row[1])
        for row in db.execute(
            "SELECT op_id, hazard_id FROM outbox WHERE device_seq >= ?"
            " OR status IN ('pending', 'sent') ORDER BY device_seq",
            [expected],
        ).fetchall()
    ]
    for i, (op_id, _) in enumerate(tail):  # two steps keep device_seq unique throughout
        db.execute("UPDATE outbox SET device_seq = ? WHERE op_id = ?", [-1 - i, op_id])
    for i, (op_id, _) in enumerate(tail):
        db.execute(
            "UPDATE outbox SET device_seq = ?, status = 'pending' WHERE op_id = ?",
            [expected + i, op_id],
        )
    set_meta(db, "next_seq", str(expected + len(tail)))
    log.warning("outbox renumbered", extra={"from": expected, "ops": len(tail)})
    return {h for _, h in tail if h}


def _recheck_blobs(db: Database) -> None:
    """A restored server may have lost photos it had confirmed: ask again for every one this
    device still holds (a HEAD each; those the server has are confirmed at once)."""
    db.execute(
        "UPDATE blob SET server_complete = 0, server_offset = 0, receipt_at = NULL"
        " WHERE server_complete = 1 AND error IS NULL"
    )


def _store_reference(
    db: Database, kind: str, entity_id: str, op: str, data: dict[str, Any] | None
) -> None:
    table = {"site": "site", "district": "district", "template": "template"}.get(kind)
    if table is None:
        return  # a kind this app version does not know: skip it, keep going
    if op == "delete" or data is None:
        db.execute(f"DELETE FROM {table} WHERE id = ?", [entity_id])
        return
    if table == "site":
        db.execute(
            "INSERT INTO site (id, district_id, data) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET district_id = excluded.district_id,"
            " data = excluded.data",
            [entity_id, data.get("district_id"), dumps(data)],
        )
    else:
        db.execute(
            f"INSERT INTO {table} (id, data) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            [entity_id, dumps(data)],
        )


def _reset_local(db: Database) -> None:
    """Forget the server's data (it will be pulled again), never the outbox or photos."""
    for table in ("event", "hazard", "site", "district", "template"):
        db.execute(f"DELETE FROM {table}")
    set_meta(db, "cursor", None)
    hazards = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT hazard_id FROM outbox WHERE hazard_id IS NOT NULL"
            " AND status IN ('pending', 'sent', 'acknowledged')"
            " UNION SELECT hazard_id FROM provisional"
        ).fetchall()
    ]
    if hazards:
        actor = actor_of(db)
        for hazard_id in hazards:
            refold(db, hazard_id, actor)
