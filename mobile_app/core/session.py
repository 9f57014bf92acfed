"""Who is using the tablet: the first login needs the server; afterwards the password unlocks
the cached session with no network (a mine has none), and every start asks for it again.

The password is kept only as a PBKDF2-SHA256 verifier (``hashlib``: no native library to build
for Android), salted per login. Logging out refuses to drop records only this tablet holds
unless the user says so explicitly; the server can end the session too (token revoked or the
device withdrawn), which locks the app but keeps every record for the next login.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from mobile_app.core.store import LocalStore, dumps, get_meta, set_meta

PBKDF2_ROUNDS = 200_000
# what survives a logout: the tablet's identity (its id and key pair), settings and op
# numbering (the server expects the next number from this device, whoever uses it), and what
# it witnessed of the server's log (pinned key, last checkpoint: no logout resets that trust)
KEPT_META = (
    "device_id",
    "device_key",
    "server_url",
    "lang",
    "next_seq",
    "log_key",
    "log_origin",
    "log_checkpoint",
)
LOCAL_TABLES = (
    "answer",
    "draft",
    "provisional",
    "outbox_blob",
    "outbox",
    "photo_original",
    "blob",
    "photo_cache",
    "event",
    "hazard",
    "site",
    "district",
    "template",
    "task",
    "inspection",
)


class UnlockFailed(Exception):
    """``code``: ``offline_first_login`` (no cached session) or ``bad_credentials``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class UnsyncedRecords(Exception):
    """Logging out would lose records only this tablet holds; ask, then ``force``."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} records exist only on this tablet")
        self.count = count


@dataclass(frozen=True)
class Verifier:
    username: str
    salt: str
    digest: str

    @classmethod
    def make(cls, username: str, password: str) -> Verifier:
        salt = os.urandom(16).hex()
        return cls(username, salt, _digest(password, salt))

    def matches(self, username: str, password: str) -> bool:
        same_user = hmac.compare_digest(self.username.lower(), username.strip().lower())
        return same_user and hmac.compare_digest(self.digest, _digest(password, self.salt))


def _digest(password: str, salt: str) -> str:
    raw = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), PBKDF2_ROUNDS)
    return raw.hex()


def unsynced_count(db: Database) -> int:
    """Records that would be lost with this tablet: unsent ops and unsubmitted drafts."""
    ops = db.execute("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sent')")
    drafts = db.execute("SELECT count(*) FROM draft WHERE status IN ('draft', 'rejected')")
    return int(ops.fetchone()[0]) + int(drafts.fetchone()[0])


def clear_local_data(db: Database) -> None:
    """Every record and copy on the tablet; the caller has made sure nothing unsent is lost.
    The cursor goes too, so the next user's pull starts from the beginning."""
    for table in LOCAL_TABLES:
        db.execute(f"DELETE FROM {table}")
    set_meta(db, "cursor", None)


class DeviceSession:
    """The unlocked state lives in memory only: a restarted app is locked."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.unlocked = False

    def user(self) -> dict[str, Any] | None:
        raw = self.store.meta("user")
        return json.loads(raw) if raw else None

    def current_user(self) -> dict[str, Any] | None:
        return self.user() if self.unlocked else None

    def remember(self, username: str, password: str) -> None:
        """After an online login: keep what unlocks the tablet offline next time."""
        v = Verifier.make(username, password)
        self.store.set_meta("unlock", dumps(vars(v)))
        self.unlocked = True

    def unlock_offline(self, username: str, password: str) -> dict[str, Any]:
        raw, user = self.store.meta("unlock"), self.user()
        if not raw or not user:
            raise UnlockFailed("offline_first_login", "the first login needs the network")
        if not Verifier(**json.loads(raw)).matches(username, password):
            raise UnlockFailed("bad_credentials", "wrong user name or password")
        self.unlocked = True
        return user

    def lock(self) -> None:
        """The server ended the session: ask for the password, keep every record."""
        self.unlocked = False
        self.store.write(lambda db: [set_meta(db, k, None) for k in ("access_token", "unlock")])

    def logout(self, force: bool = False) -> None:
        """Forget the user; with nothing unsynced (or ``force``), forget their data too."""

        def out(db: Database) -> None:
            n = unsynced_count(db)
            if n and not force:
                raise UnsyncedRecords(n)
            clear_local_data(db)
            keep = [k for k in KEPT_META if get_meta(db, k) is not None]
            marks = ", ".join("?" for _ in keep) or "''"
            db.execute(f"DELETE FROM meta WHERE key NOT IN ({marks})", keep)

        self.store.write(out)
        self.unlocked = False
        for entry in os.scandir(self.store.blob_dir):
            if entry.is_dir():  # fetched photos and camera originals (core.photo_cache)
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.remove(entry.path)
