"""A process killed mid-checklist (SIGKILL: no clean shutdown, like a dead battery) keeps every
answer it showed as given: the restarted app resumes the draft with all of them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from app_helpers import login

HELPER = Path(__file__).with_name("kill_helper.py")


def test_answers_survive_sigkill(server, start_app, tmp_path):
    data_dir = tmp_path / "device"
    # first run (inspector online once), so the second process can start offline too
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), server.url, str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        line = ""
        for line in proc.stdout:
            if line.startswith("ANSWERED "):
                break
        assert line.startswith("ANSWERED "), "the helper did not get to answering"
        given = json.loads(line.split(" ", 1)[1])
        os.kill(proc.pid, signal.SIGKILL)  # mid-checklist: the app is still running
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert len(given["answers"]) >= 8

    # restart on the same device: log in, continue the draft from the home screen
    d = start_app(server.url, "device", data_dir)
    login(d, "inspector")
    home = d.app.screen()
    resume = [w for w in home.ids.tasks.children if getattr(w, "title", "").startswith("继续检查")]
    assert len(resume) == 1
    d.press(resume[0])
    screen = d.app.screen()
    assert d.app.manager.current == "checklist" and screen.draft["id"] == given["draft_id"]
    shown = {
        r["item_id"]: r["value"]
        for r in screen.rows
        if r["viewclass"] != "SectionRow" and r["value"]
    }
    assert shown == {k: str(v) for k, v in given["answers"].items()}
    assert screen.answers[given["note_item"]]["note"] == given["note"]
