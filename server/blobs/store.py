"""Photo and signature bytes on disk, addressed by SHA-256; type is checked by content."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from shared.sync_wire import MAX_BLOB_BYTES, sniff_mime

__all__ = ["MAX_BLOB_BYTES", "BlobStore", "digest", "sniff_mime"]


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def put(self, sha256: str, data: bytes) -> None:
        """Write atomically: a crash never leaves a half file under the final name."""
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    # resumable uploads (tus-style): bytes received so far live under partial/<uploader>/ until
    # the whole file is there and hashes to its name; then it moves to its final name at once.
    # Each user's unfinished upload is their own: nobody else sees its offset or finishes it.

    def partial(self, sha256: str, owner: str) -> Path:
        return self.root / "partial" / owner_key(owner) / sha256

    def partial_size(self, sha256: str, owner: str) -> int:
        try:
            return self.partial(sha256, owner).stat().st_size
        except FileNotFoundError:
            return 0

    @contextlib.contextmanager
    def upload_lock(self, sha256: str, owner: str) -> Iterator[bool]:
        """One writer per partial file, across threads and processes; yields False if busy."""
        lock = self.partial(sha256, owner).with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = True
            except BlockingIOError:
                locked = False
            yield locked
        finally:
            os.close(fd)  # releases the lock

    def open_partial(self, sha256: str, owner: str) -> BinaryIO:
        path = self.partial(sha256, owner)
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "ab")

    def hash_partial(self, sha256: str, owner: str) -> tuple[str, bytes]:
        """SHA-256 of the received bytes and their first 16 bytes (for the type check)."""
        h = hashlib.sha256()
        with open(self.partial(sha256, owner), "rb") as fh:
            head = fh.read(16)
            h.update(head)
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest(), head

    def promote(self, sha256: str, owner: str) -> None:
        """Move a verified partial file to its final name (already fsynced while written)."""
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # the same bytes arrived another way
            self.drop_partial(sha256, owner)
            return
        os.replace(self.partial(sha256, owner), final)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def drop_partial(self, sha256: str, owner: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.partial(sha256, owner).unlink()

    def drop_partials(self, sha256: str) -> None:
        """Every user's unfinished upload of the file (and one left by a server before 0009)."""
        folder = self.root / "partial"
        if not folder.is_dir():
            return
        for path in [folder / sha256, *(d / sha256 for d in folder.iterdir() if d.is_dir())]:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def partials(self) -> Iterator[tuple[Path, str, float]]:
        """(file, sha256, last modified) of every unfinished upload, whoever's."""
        folder = self.root / "partial"
        if not folder.is_dir():
            return
        for entry in folder.iterdir():
            files = entry.iterdir() if entry.is_dir() else [entry]  # flat: before per-user
            for p in files:
                if p.suffix != ".lock":
                    with contextlib.suppress(FileNotFoundError):
                        yield p, p.name, p.stat().st_mtime

    def remove(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def owner_key(user_id: str) -> str:
    """A user's folder under partial/: a digest, so no user id can name a path."""
    return hashlib.sha256(user_id.encode()).hexdigest()[:32]
