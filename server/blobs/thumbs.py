"""Small JPEG previews of photos for the console: a hazard page with twenty 4 MB camera
photos must open quickly on a county government's line. Made on first request and kept on
disk beside the blobs (``thumbs/``); a blob never changes, so neither does its preview.

Decoding untrusted images is bounded: Pillow refuses images above ``MAX_PIXELS`` (a
decompression bomb) and anything it cannot read yields ``None``, so the caller serves the
original instead of failing the page.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from server.blobs.store import BlobStore

log = logging.getLogger("hazardchain.blobs")
THUMB_SIDE = 480
MAX_PIXELS = 80_000_000  # beyond any tablet camera here; larger is refused before decoding


def thumb_path(store: BlobStore, sha256: str) -> Path:
    return store.root / "thumbs" / sha256[:2] / f"{sha256}.jpg"


def make_thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    """The picture upright (EXIF orientation applied), fitted in ``side``×``side``, as JPEG."""
    with Image.open(io.BytesIO(data)) as img:
        if img.width * img.height > MAX_PIXELS:
            raise ValueError(f"{img.width}×{img.height} is too large to preview")
        img.draft("RGB", (side, side))  # JPEG: decode at a reduced scale, far less memory
        upright = ImageOps.exif_transpose(img)
        upright.thumbnail((side, side))
        if upright.mode not in ("RGB", "L"):
            rgba = upright.convert("RGBA")
            upright = Image.new("RGB", rgba.size, "white")  # transparency on white, as shown
            upright.paste(rgba, mask=rgba.getchannel("A"))
        out = io.BytesIO()
        upright.save(out, "JPEG", quality=80, optimize=True)
        return out.getvalue()


def thumbnail(store: BlobStore, sha256: str) -> bytes | None:
    """The cached preview, made now if needed; None when the image cannot be previewed."""
    path = thumb_path(store, sha256)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    try:
        data = make_thumbnail(store.read(sha256))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        log.info("no preview", extra={"sha256": sha256, "error": str(exc)})
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)  # two requests at once both write whole files; one wins
    return data


def drop_thumbnail(store: BlobStore, sha256: str) -> None:
    thumb_path(store, sha256).unlink(missing_ok=True)
