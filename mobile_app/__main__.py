"""``python -m mobile_app``: run the tablet app (the screenshot tours are
``python -m devtools.tablet_tour``)."""

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
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    from mobile_app.kivy_env import configure

    configure(data_dir, args.size, headless=False)
    from mobile_app.app import HazardChainApp
    from mobile_app.core.device_backend import DeviceBackend

    backend = DeviceBackend(data_dir, args.server)
    HazardChainApp(backend).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
