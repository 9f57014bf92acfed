"""Photo and signature bytes on disk, addressed by SHA-256; type is checked by content."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

MAX_BLOB_BYTES = 20 * 1024 * 1024


def sniff_mime(head: bytes) -> str | None:
    """The image type the bytes really are, or None (names and headers are not trusted)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


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


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
