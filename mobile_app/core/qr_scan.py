"""Reading a site's printed QR code from a camera frame with zbar (``pyzbar``). Kivy-free, so
a tablet's camera, a desktop's webcam and the tests' rendered frames all go through the same
decode; where libzbar is missing the scan screen says so and offers the typed code."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from PIL import Image

from shared.errors import Refusal
from shared.geo import parse_site_qr

log = logging.getLogger("hazardchain.app.qr")
MODES = {"L": 1, "RGB": 3, "RGBA": 4}


@dataclass(frozen=True)
class Frame:
    """One camera frame. ``mode`` ``L`` is 8-bit luma (Android's NV21 preview starts with
    it); ``RGBA`` is what a Kivy texture reads back, whose rows start at the bottom
    (``bottom_up``)."""

    pixels: bytes
    width: int
    height: int
    mode: str = "L"
    bottom_up: bool = False

    def image(self) -> Image.Image:
        """The frame as upright grayscale (zbar reads luma only)."""
        size = self.width * self.height * MODES[self.mode]
        img = Image.frombytes(self.mode, (self.width, self.height), self.pixels[:size])
        img = img.convert("L")
        return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM) if self.bottom_up else img


@cache
def decoder_available() -> bool:
    """False where pyzbar or its libzbar is not installed: the screen offers the typed code."""
    try:
        from pyzbar import pyzbar  # noqa: F401
    except (ImportError, OSError) as exc:  # pyzbar raises ImportError without libzbar
        log.info("no QR decoder on this device: %s", exc)
        return False
    return True


def read_codes(frame: Frame) -> list[str]:
    """Every QR code's text in the frame (QR only: a barcode on a fire extinguisher's label
    is not a site). zbar reads a front camera's mirrored view as it is."""
    from pyzbar.pyzbar import ZBarSymbol, decode

    found = decode(frame.image(), symbols=[ZBarSymbol.QRCODE])
    return [d.data.decode("utf-8", "replace") for d in found]


def site_code_among(codes: list[str]) -> str | None:
    """The code to open: a HazardChain site code if the frame holds one (a poster may carry
    a WeChat code beside ours), else the first code, so a foreign one is refused with its
    reason; None when the frame has no code."""
    for code in codes:
        if not isinstance(parse_site_qr(code), Refusal):
            return code
    return codes[0] if codes else None
