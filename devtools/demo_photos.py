"""Small real PNG "photos" for the tour, tests and benchmark (a desktop has no camera)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def png(width: int, height: int, rgb: tuple[int, int, int], seed: int = 0) -> bytes:
    """A PNG with a diagonal stripe pattern; ``seed`` makes distinct files."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            on = ((x + y + seed * 7) // 16) % 2 == 0
            r, g, b = (
                rgb if on else (min(rgb[0] + 40, 255), min(rgb[1] + 40, 255), min(rgb[2] + 40, 255))
            )
            rows += bytes((r, g, b))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(rows)))
        + chunk(b"IEND", b"")
    )


def write_demo_photos(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "before.png").write_bytes(png(160, 120, (170, 60, 50), 1))
    (folder / "after.png").write_bytes(png(160, 120, (50, 140, 70), 2))
    return folder
