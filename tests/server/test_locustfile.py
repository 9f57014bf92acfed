"""The load test's tablets (loadtest/locustfile.py) against a server built by the CLI: a
handful of them — inspectors, an officer, the verifying officer — do their day for a few
seconds, headless, and not one request, op or sync fails; what they did is on the server.
(The figures come from ``make loadtest``; this keeps the locustfile working.)"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

LOCUST = Path(sys.executable).parent / "locust"
LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtest" / "locustfile.py"


def test_a_handful_of_tablets_do_their_day_without_a_failure(own_cli_server, tmp_path):
    server = own_cli_server  # the verifying officer judges the demo's rectifications too
    prefix = tmp_path / "run"
    env = {**os.environ, "LOADTEST_DIR": str(tmp_path / "tablets"), "LOADTEST_WAIT": "0.1,0.3"}
    r = subprocess.run(
        [str(LOCUST), "-f", str(LOCUSTFILE), "--headless", "--only-summary"]
        + ["--host", server.url, "-u", "5", "-r", "5", "-t", "45s", "--stop-timeout", "60"]
        + ["--csv", str(prefix), "--loglevel", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    with open(f"{prefix}_stats.csv", newline="") as f:
        rows = {f"{row['Type']} {row['Name']}": row for row in csv.DictReader(f)}
    failures = {k: int(v["Failure Count"]) for k, v in rows.items() if int(v["Failure Count"])}
    assert r.returncode == 0 and not failures, (failures, r.stdout[-3000:], r.stderr[-3000:])
    done = {k: int(v["Request Count"]) for k, v in rows.items()}
    assert done["SYNC first sync"] == 5 and done["POST POST /auth/refresh"] == 5
    for visit in ("inspection", "note and photo", "report and assign", "verification"):
        assert done.get(f"SYNC {visit}", 0) >= 1, done
    assert done["PATCH PATCH /blobs/{id}"] >= 3  # photos went up the tablet's way

    with server.login("officer") as officer:
        items = officer.get("/hazards", params={"limit": 200, "q": "负载测试"}).json()["items"]
    reported = [h for h in items if h["title"].startswith("负载测试")]
    assert reported and {h["state"] for h in reported} <= {"assigned", "in_review", "verified"}
