"""``python -m mobile_app``: run the tablet app; ``--screenshot-tour DIR`` renders every screen
with demo data (as inspector and as enterprise user) to PNG files instead."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m mobile_app", description=__doc__)
    p.add_argument(
        "--server", default=os.environ.get("HAZARDCHAIN_SERVER", "http://127.0.0.1:8000")
    )
    p.add_argument(
        "--data-dir",
        default=os.environ.get("HAZARDCHAIN_TABLET_DIR", str(Path("var") / "tablet")),
        help="where the tablet keeps its database, photos and Kivy settings",
    )
    p.add_argument("--size", default="1280x800", help="window size, landscape tablet by default")
    p.add_argument("--screenshot-tour", metavar="DIR", help="render every screen to DIR and exit")
    p.add_argument(
        "--phone-tour",
        metavar="DIR",
        help="render the enterprise's daily fire patrol at phone size (--size, 360x740 unless "
        "given) to DIR and exit",
    )
    return p.parse_args(argv)


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


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    data_dir = Path(args.data_dir).resolve()
    if args.screenshot_tour:
        import tempfile

        work = Path(tempfile.mkdtemp(prefix="hc-tour-"))
        configure(work, args.size, headless=True)
        from mobile_app.ui.tour import run_tour

        paths = run_tour(Path(args.screenshot_tour), work)
        for p in paths:
            print(p)
        return 0
    if args.phone_tour:
        import tempfile

        work = Path(tempfile.mkdtemp(prefix="hc-phone-tour-"))
        size = "360x740" if args.size == "1280x800" else args.size
        configure(work, size, headless=True)
        from mobile_app.ui.tour import run_phone_tour

        w, h = (int(x) for x in size.lower().split("x"))
        for p in run_phone_tour(Path(args.phone_tour), work, (w, h)):
            print(p)
        return 0
    data_dir.mkdir(parents=True, exist_ok=True)
    configure(data_dir, args.size, headless=False)
    from mobile_app.app import HazardChainApp
    from mobile_app.ui.device_backend import DeviceBackend

    backend = DeviceBackend(data_dir, args.server)
    HazardChainApp(backend).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
