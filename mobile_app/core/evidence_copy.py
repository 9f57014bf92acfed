"""Camera photos as evidence: a tablet camera gives 4000×3000 px and 5 MB, which a mine's
line cannot send and a 96 dp thumbnail does not need. A photo larger than ``LONG_EDGE`` px
(or ``MAX_BYTES``) is kept as an *evidence copy*: upright (EXIF orientation applied), at most
``LONG_EDGE`` px on its long side, JPEG at ``QUALITY``, the camera's other EXIF tags (time,
GPS) kept.

The evidence copy is the photo: its SHA-256 is what every record cites, what is uploaded and
what the server and every other tablet hold, so the chain's hashes and the bytes agree
everywhere. The camera's original stays on this tablet (``<blobs>/originals/``) until the copy
is on the server, as the source to make the copy again should its file be damaged before it
was sent (Pillow encodes the same pixels to the same bytes); once the server holds the copy the
original is deleted (``drop_uploaded_originals``, after each sync). It is never uploaded: the
server keeps only what records cite.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import time
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from mobile_app.core.store import LocalStore, write_durably

log = logging.getLogger("hazardchain.tablet.photos")
LONG_EDGE = 1600
QUALITY = 85
MAX_BYTES = 2 * 1024 * 1024  # a smaller picture this large (a PNG screenshot) is re-encoded too
MAX_PIXELS = 80_000_000  # as the server's preview: larger is refused before decoding
ORIENTATION = 0x0112
STRAY_SECONDS = 3600  # an original being written has no row yet: only older files are strays


def evidence_copy(data: bytes, long_edge: int = LONG_EDGE, quality: int = QUALITY) -> bytes | None:
    """The evidence copy of a photo too large to send as it is; None when it is small enough
    (or not a picture Pillow reads: then it goes as it is, and the server judges it)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                return None
            if max(img.size) <= long_edge and len(data) <= MAX_BYTES:
                return None
            exif = img.getexif()
            img.draft("RGB", (long_edge, long_edge))  # JPEG: decode at a reduced scale
            upright = ImageOps.exif_transpose(img)
            upright.thumbnail((long_edge, long_edge), Image.Resampling.LANCZOS)
            if upright.mode not in ("RGB", "L"):
                rgba = upright.convert("RGBA")
                upright = Image.new("RGB", rgba.size, "white")
                upright.paste(rgba, mask=rgba.getchannel("A"))
            exif.pop(ORIENTATION, None)  # the pixels are upright now
            out = io.BytesIO()
            upright.save(out, "JPEG", quality=quality, exif=exif.tobytes())
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        log.info("photo kept as taken", extra={"error": str(exc)})
        return None


def originals_dir(store: LocalStore) -> Path:
    return store.blob_dir / "originals"


def keep_original(store: LocalStore, copy_sha: str, original: bytes, now: str) -> None:
    """Write the camera's original (before the copy's row is written) and record it."""
    folder = originals_dir(store)
    folder.mkdir(exist_ok=True)
    name = hashlib.sha256(original).hexdigest()
    write_durably(folder / name, original)
    store.write(
        lambda db: db.execute(
            "INSERT INTO photo_original (sha256, original_sha256, size, created_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            [copy_sha, name, len(original), now],
        )
    )


def original_of(store: LocalStore, copy_sha: str) -> Path | None:
    """The camera's original of an evidence copy, while it is kept."""
    rows = store.read("SELECT original_sha256 FROM photo_original WHERE sha256 = ?", [copy_sha])
    if not rows:
        return None
    path = originals_dir(store) / rows[0]["original_sha256"]
    return path if path.exists() else None


def drop_uploaded_originals(store: LocalStore) -> int:
    """Delete the originals whose evidence copy the server confirmed, and any original no row
    names (left by a crash or by another user's cleared data); returns how many files went."""
    done = store.read(
        "SELECT o.sha256, o.original_sha256 FROM photo_original o"
        " JOIN blob b ON b.sha256 = o.sha256 WHERE b.server_complete = 1"
    )
    for row in done:
        with contextlib.suppress(FileNotFoundError):
            (originals_dir(store) / row["original_sha256"]).unlink()
        store.write(
            lambda db, sha=row["sha256"]: db.execute(
                "DELETE FROM photo_original WHERE sha256 = ?", [sha]
            )
        )
    kept = {r["original_sha256"] for r in store.read("SELECT original_sha256 FROM photo_original")}
    stray = 0
    folder = originals_dir(store)
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in kept and time.time() - path.stat().st_mtime > STRAY_SECONDS:
                path.unlink(missing_ok=True)
                stray += 1
    if done or stray:
        log.info("originals dropped", extra={"uploaded": len(done), "stray": stray})
    return len(done) + stray
