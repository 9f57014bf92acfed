"""The tablet's local database (sqlite-utils): WAL, ``synchronous=FULL``, foreign keys on,
its own migrations table, and one writer thread (as Datasette does), so a UI tap and the sync
thread never race for the write lock. Photo bytes live next to it, named by their SHA-256.

Reads run on a per-thread connection and see committed data only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

T = TypeVar("T")
MIGRATION_SET = "hazardchain_tablet"
migrations = Migrations(MIGRATION_SET)


def connect(path: Path) -> Database:
    """One connection with the pragmas every connection needs (they are per connection)."""
    conn = sqlite3.connect(str(path), timeout=5.0, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # evidence data: survive power loss, not just crashes
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return Database(conn)


def _run_script(db: Database, script: str) -> None:
    # not executescript(): it commits first, and a migration must be one transaction
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m001_initial(db: Database) -> None:
    _run_script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        -- every change made on this device, numbered gap-free. Kept after acknowledgement so
        -- a server restored from a backup can be given its lost ops again
        CREATE TABLE outbox (
            op_id TEXT PRIMARY KEY,
            device_seq INTEGER NOT NULL UNIQUE,
            type TEXT NOT NULL,
            v INTEGER NOT NULL,
            payload TEXT NOT NULL,
            device_time TEXT,
            created_at TEXT NOT NULL,
            hazard_id TEXT,
            event_id TEXT,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sent', 'acknowledged', 'rejected')),
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at TEXT,
            result_status TEXT,
            code TEXT,
            message_zh TEXT,
            message_en TEXT,
            server_seq INTEGER,
            received_at TEXT,
            blocked TEXT
        );
        CREATE INDEX ix_outbox_status ON outbox (status, device_seq);
        CREATE INDEX ix_outbox_hazard ON outbox (hazard_id, device_seq);
        CREATE TABLE blob (
            sha256 TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mime TEXT NOT NULL,
            created_at TEXT NOT NULL,
            server_offset INTEGER NOT NULL DEFAULT 0,
            server_complete INTEGER NOT NULL DEFAULT 0,
            receipt_at TEXT,
            error TEXT
        );
        CREATE TABLE outbox_blob (
            op_id TEXT NOT NULL REFERENCES outbox (op_id) ON DELETE CASCADE,
            sha256 TEXT NOT NULL REFERENCES blob (sha256),
            PRIMARY KEY (op_id, sha256)
        );
        -- chains as the server confirmed them (from pulls), checked link by link
        CREATE TABLE event (
            id TEXT PRIMARY KEY,
            hazard_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            server_seq INTEGER NOT NULL,
            body TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (hazard_id, seq)
        );
        -- the fold of confirmed events plus this device's unconfirmed ops, for the screens
        CREATE TABLE hazard (
            id TEXT PRIMARY KEY,
            site_id TEXT,
            state TEXT NOT NULL,
            severity TEXT,
            title TEXT,
            deadline TEXT,
            overdue INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT,
            confirmed_count INTEGER NOT NULL DEFAULT 0,
            pending_count INTEGER NOT NULL DEFAULT 0,
            conflicts TEXT,
            view TEXT NOT NULL
        );
        CREATE INDEX ix_hazard_site ON hazard (site_id);
        CREATE TABLE site (id TEXT PRIMARY KEY, district_id TEXT, data TEXT NOT NULL);
        CREATE TABLE district (id TEXT PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE template (id TEXT PRIMARY KEY, data TEXT NOT NULL);
        """,
    )


@migrations()
def m002_inspections(db: Database) -> None:
    _run_script(
        db,
        """
        -- an inspection being filled in: one row per answer, written at each tap
        CREATE TABLE draft (
            id TEXT PRIMARY KEY,
            site_id TEXT NOT NULL,
            template_id TEXT NOT NULL,
            template_version INTEGER NOT NULL,
            profile TEXT,
            status TEXT NOT NULL DEFAULT 'draft'
                CHECK (status IN ('draft', 'submitted', 'rejected')),
            started_at TEXT NOT NULL,
            ended_at TEXT,
            notes TEXT NOT NULL DEFAULT '',
            extra TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT NOT NULL,
            op_id TEXT
        );
        CREATE INDEX ix_draft_site ON draft (site_id, status);
        CREATE TABLE answer (
            draft_id TEXT NOT NULL REFERENCES draft (id) ON DELETE CASCADE,
            item_id TEXT NOT NULL,
            value TEXT,
            note TEXT NOT NULL DEFAULT '',
            photos TEXT NOT NULL DEFAULT '[]',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (draft_id, item_id)
        );
        -- the reported event each finding of a submitted inspection will create, shown as a
        -- pending hazard until the server's chain arrives (or dropped if it is refused)
        CREATE TABLE provisional (
            hazard_id TEXT PRIMARY KEY,
            op_id TEXT NOT NULL REFERENCES outbox (op_id) ON DELETE CASCADE,
            body TEXT NOT NULL
        );
        CREATE INDEX ix_provisional_op ON provisional (op_id);
        -- server data that is not in the change feed: read whole at each sync
        CREATE TABLE task (id TEXT PRIMARY KEY, data TEXT NOT NULL);
        CREATE TABLE inspection (id TEXT PRIMARY KEY, site_id TEXT, data TEXT NOT NULL);
        CREATE INDEX ix_inspection_site ON inspection (site_id);
        """,
    )


@migrations()
def m003_log_witness(db: Database) -> None:
    _run_script(
        db,
        """
        -- what this tablet found wrong with the server's log (mobile_app.core.witness): kept
        -- through logouts and resets, shown until the server is looked at, sent to it
        CREATE TABLE witness_failure (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            reported INTEGER NOT NULL DEFAULT 0
        );
        -- events whose inclusion in a signed checkpoint this tablet has checked
        CREATE TABLE log_proven (
            event_id TEXT PRIMARY KEY,
            leaf_index INTEGER NOT NULL,
            size INTEGER NOT NULL
        )
        """,
    )


@migrations()
def m004_hazard_numbers(db: Database) -> None:
    """隐患编号 as the server allocated them, from the pull (not part of the hashed chain)."""
    _run_script(
        db,
        """
        CREATE TABLE hazard_number (hazard_id TEXT PRIMARY KEY, number TEXT NOT NULL);
        """,
    )


@migrations()
def m005_photo_cache(db: Database) -> None:
    """Others' photos fetched for offline use, and camera originals awaiting their upload
    (``mobile_app.core.photo_cache``, ``mobile_app.core.evidence_copy``)."""
    _run_script(
        db,
        """
        -- a preview or the full photo of a hazard in scope, fetched from the server, its file
        -- is <blobs>/cache/<variant>/<sha256>. Only these are evicted, lowest ``used`` first
        CREATE TABLE photo_cache (
            sha256 TEXT NOT NULL,
            variant TEXT NOT NULL CHECK (variant IN ('thumb', 'full')),
            size INTEGER NOT NULL DEFAULT 0,
            used INTEGER NOT NULL DEFAULT 0,
            fetched_at TEXT,
            error TEXT,
            PRIMARY KEY (sha256, variant)
        );
        CREATE INDEX ix_photo_cache_used ON photo_cache (used);
        -- the camera's original of a downscaled evidence copy (the copy is what records cite
        -- and what is uploaded), kept as <blobs>/originals/<original> until the copy is uploaded
        CREATE TABLE photo_original (
            sha256 TEXT PRIMARY KEY,
            original_sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            created_at TEXT NOT NULL
        )
        """,
    )


@migrations()
def m006_location(db: Database) -> None:
    """GPS stamps (shared.geo) where the device had a fix: of each photo when it was taken,
    of each answer when it was given (a finding's position), sent with them on submit."""
    _run_script(
        db,
        """
        ALTER TABLE blob ADD COLUMN gps TEXT;
        ALTER TABLE answer ADD COLUMN gps TEXT
        """,
    )


def write_durably(path: Path, data: bytes) -> None:
    """Bytes under ``path`` for good before anything names them: written aside, synced, renamed
    into place and the folder synced, so a crash leaves the whole file or none. An existing
    file is kept (content-addressed names: same name, same bytes)."""
    if path.exists():
        return
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStore:
    """The device's database and photo folder. ``write`` runs a function in one
    ``BEGIN IMMEDIATE`` transaction on the writer thread; ``read`` on this thread's reader."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.blob_dir = self.path.parent / (self.path.stem + "-blobs")
        self.blob_dir.mkdir(exist_ok=True)
        self._jobs: queue.Queue[tuple[Callable[[Database], Any], Future] | None] = queue.Queue()
        self._local = threading.local()
        self._readers: list[Database] = []
        self._readers_lock = threading.Lock()
        self._writer = threading.Thread(target=self._write_loop, name="store-writer", daemon=True)
        self._writer_db = connect(self.path)
        self._writer.start()
        self.write(lambda db: None)  # the migrations ran on the writer before this returns
        self.device_id = self.meta("device_id") or self._new_device_id()

    # ---------------------------------------------------------------- threads

    def _write_loop(self) -> None:
        db = self._writer_db
        migrations.apply(db)
        while True:
            job = self._jobs.get()
            if job is None:
                db.close()
                return
            fn, fut = job
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(db)
                except BaseException:
                    if db.conn.in_transaction:
                        db.conn.execute("ROLLBACK")
                    raise
                db.conn.execute("COMMIT")
            except BaseException as exc:  # handed to the caller's thread
                fut.set_exception(exc)
            else:
                fut.set_result(result)

    def write(self, fn: Callable[[Database], T]) -> T:
        """Run ``fn(db)`` in one transaction on the writer thread: all of it or none."""
        if threading.current_thread() is self._writer:
            raise RuntimeError("write() called from inside a write")
        fut: Future = Future()
        self._jobs.put((fn, fut))
        return fut.result()

    def reader(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
            with self._readers_lock:
                self._readers.append(db)
        return db

    def read(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self.reader().query(sql, params)]

    def close(self) -> None:
        self._jobs.put(None)
        self._writer.join(timeout=10)
        with self._readers_lock:
            for db in self._readers:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._readers.clear()

    # ---------------------------------------------------------------- meta

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", [key])
        return rows[0]["value"] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        self.write(lambda db: set_meta(db, key, value))

    def _new_device_id(self) -> str:
        value = f"tab-{uuid.uuid4().hex}"

        def once(db: Database) -> str:
            current = get_meta(db, "device_id")
            if current:
                return current
            set_meta(db, "device_id", value)
            return value

        return self.write(once)

    # ---------------------------------------------------------------- photo bytes

    def blob_path(self, sha256: str) -> Path:
        return self.blob_dir / sha256

    def put_blob_file(self, data: bytes) -> str:
        """Write photo bytes durably under their hash (before any row names them)."""
        sha = hashlib.sha256(data).hexdigest()
        write_durably(self.blob_path(sha), data)
        return sha

    def blob_chunks(self, sha256: str, offset: int, size: int) -> bytes:
        with open(self.blob_path(sha256), "rb") as fh:
            fh.seek(offset)
            return fh.read(size)

    def blob_intact(self, sha256: str) -> bool:
        h = hashlib.sha256()
        try:
            with open(self.blob_path(sha256), "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except FileNotFoundError:
            return False
        return h.hexdigest() == sha256

    # ---------------------------------------------------------------- backup

    def backup_to(self, target: Path | str) -> None:
        """A consistent copy (the backup API; copying the file would miss the WAL)."""
        dest = sqlite3.connect(str(target))
        try:
            self.reader().conn.backup(dest)
        finally:
            dest.close()


def get_meta(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(db: Database, key: str, value: str | None) -> None:
    if value is None:
        db.execute("DELETE FROM meta WHERE key = ?", [key])
    else:
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@contextlib.contextmanager
def opened(path: Path | str) -> Iterator[LocalStore]:
    store = LocalStore(path)
    try:
        yield store
    finally:
        store.close()
