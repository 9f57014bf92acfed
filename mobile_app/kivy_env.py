"""Kivy's environment and window, set before Kivy is first imported (it reads both then)."""

from __future__ import annotations

import os
from pathlib import Path


def configure(data_dir: Path, size: str, headless: bool) -> None:
    """Kivy reads its environment at import: set it first."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", str(data_dir / "kivy"))
    if headless and not os.environ.get("DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
        os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
    w, h = size.lower().split("x")
    from kivy.config import Config

    Config.set("graphics", "width", w)
    Config.set("graphics", "height", h)
    Config.set("graphics", "resizable", "1")
    Config.set("input", "mouse", "mouse,multitouch_on_demand")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "log_level", "warning")
    import logging

    logging.getLogger("urllib3").setLevel(logging.WARNING)  # one line per request otherwise
