"""The front door: ``/`` leads to the console, the API docs are served from the server's own
assets, and ``hazardchain serve`` says where to go once it listens, after its start-up noise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import httpx

from server.testing import free_port


def test_root_leads_to_the_console(live_demo):
    with httpx.Client(base_url=live_demo.url, timeout=30) as c:
        r = c.get("/")
        assert r.status_code == 307 and r.headers["location"] == "/console/"
        page = c.get("/", follow_redirects=True)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert 'name="password"' in page.text  # signed out: the console's login


def test_docs_use_only_local_assets(live_demo):
    with httpx.Client(base_url=live_demo.url, timeout=30) as c:
        for path in ("/docs", "/redoc"):
            html = c.get(path).text
            refs = re.findall(r'(?:src|href|url)\s*[=:]\s*["\']([^"\']+)["\']', html)
            assert refs, path
            outside = [u for u in refs if "//" in u and not u.startswith(live_demo.url)]
            assert outside == [], (path, outside)
            for ref in refs:
                if ref.startswith("/") and not ref.startswith("/openapi"):
                    assert c.get(ref).status_code == 200, ref
        assert c.get("/openapi.json").json()["paths"]


def test_serve_prints_console_and_logins_last(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "HAZARDCHAIN_DATABASE_URL": f"sqlite:///{tmp_path / 'door.db'}",
        "HAZARDCHAIN_BLOB_DIR": str(tmp_path / "b"),
        "HAZARDCHAIN_SECRET_KEY": "k" * 40,
        "HAZARDCHAIN_SCHEDULER": "off",
        "PYTHONUNBUFFERED": "1",
    }
    cli = [sys.executable, "-m", "server.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=300)
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--demo-logins"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, so the order is what a terminal shows
        text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Ctrl-C stops"):
                break
        out = "\n".join(lines)
        assert f"open the console at http://127.0.0.1:{port}/" in out, out
        running = next(i for i, s in enumerate(lines) if "Uvicorn running" in s)
        console = next(i for i, s in enumerate(lines) if "open the console" in s)
        logins = next(i for i, s in enumerate(lines) if s.strip().startswith("officer2"))
        assert running < console < logins, out  # after uvicorn's own lines, logins last
        assert httpx.get(f"http://127.0.0.1:{port}/console/login").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
