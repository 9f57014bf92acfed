"""Run by test_kill_mid_checklist.py in its own process: log in, start a checklist, answer
items through the widgets, print what was answered once the app has saved it, then keep
running until killed."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="hc-kivy-"))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from kivy.config import Config  # noqa: E402

Config.set("graphics", "width", "1280")
Config.set("graphics", "height", "800")

from devtools.kivy_driver import Driver  # noqa: E402
from mobile_app.app import HazardChainApp  # noqa: E402
from mobile_app.core.device_backend import DeviceBackend  # noqa: E402


def main(server_url: str, data_dir: str) -> None:
    backend = DeviceBackend(Path(data_dir), server_url)
    d = Driver(HazardChainApp(backend, auto_sync=False)).start()
    login = d.app.manager.get_screen("login")
    login.ids.username.text = "inspector"
    login.ids.password.text = "demo-password"
    d.press(login.ids.login_button)
    d.app.start_sync()
    d.pump()
    site = next(s for s in backend.sites() if s["name"] == "万达广场乌海店")
    draft = backend.open_draft(site["id"], "crowded_venue", 1, None)
    screen = d.go("checklist", draft_id=draft["id"])
    given: dict[str, object] = {}
    note_item = ""
    for index, row in enumerate(screen.rows):
        if row["viewclass"] == "SectionRow":
            continue
        screen.scroll_to(max(index - 1, 0))
        d.pump(frames=2)
        view = screen._view(index)
        item = screen.template.item(row["item_id"])
        if row["viewclass"] == "YesNoRow":
            choice = "no" if len(given) % 3 == 0 else "yes"
            d.press(view.ids[choice])
            given[item.id] = choice
        elif row["viewclass"] == "NumberRow":
            view.ids.entry.text = "42"
            view.flush()
            given[item.id] = 42
        if not note_item:
            note_item = item.id
            screen.set_answer(index, item.id, note="消防通道有杂物")
        if len(given) >= 10:
            break
    d.pump()
    assert d.idle()  # every answer written and committed by the local lane
    print(
        "ANSWERED "
        + json.dumps(
            {
                "draft_id": draft["id"],
                "answers": given,
                "note_item": note_item,
                "note": "消防通道有杂物",
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    while True:  # still "in the checklist" when the test kills the process
        d.pump(frames=1, until_idle=False)
        time.sleep(0.05)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
