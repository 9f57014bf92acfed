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

    def partial(self, sha256: str) -> Path:
        return self.root / "partial" / sha256

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

    # resumable uploads (tus-style): bytes received so far live under partial/ until the
    # whole file is there and hashes to its name; then it moves to its final name at once

    def partial_size(self, sha256: str) -> int:
        try:
            return self.partial(sha256).stat().st_size
        except FileNotFoundError:
            return 0

    @contextlib.contextmanager
    def upload_lock(self, sha256: str) -> Iterator[bool]:
        """One writer per partial file, across threads and processes; yields False if busy."""
        lock = self.root / "partial" / f"{sha256}.lock"
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

    def open_partial(self, sha256: str) -> BinaryIO:
        path = self.partial(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "ab")

    def hash_partial(self, sha256: str) -> tuple[str, bytes]:
        """SHA-256 of the received bytes and their first 16 bytes (for the type check)."""
        h = hashlib.sha256()
        with open(self.partial(sha256), "rb") as fh:
            head = fh.read(16)
            h.update(head)
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest(), head

    def promote(self, sha256: str) -> None:
        """Move a verified partial file to its final name (already fsynced while written)."""
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():  # the same bytes arrived another way
            self.drop_partial(sha256)
            return
        os.replace(self.partial(sha256), final)
        dir_fd = os.open(final.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def drop_partial(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.partial(sha256).unlink()

    def remove(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(sha256).unlink()

    def partials(self) -> Iterator[tuple[str, float]]:
        """(sha256, last modified) of every unfinished upload."""
        folder = self.root / "partial"
        if folder.is_dir():
            for p in folder.iterdir():
                if p.suffix != ".lock":
                    with contextlib.suppress(FileNotFoundError):
                        yield p.name, p.stat().st_mtime


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
