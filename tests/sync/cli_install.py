"""An installation driven only through ``hazardchain`` commands in subprocesses, as an
operator would (README's commands): used by the restore drill and the database move."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from server.testing import _pg_exec, pg_admin_uri

CLI = [sys.executable, "-m", "server.cli"]


class CliInstall:
    """One installation driven only through ``hazardchain`` commands, as an operator would."""

    def __init__(self, root: Path, database_url: str) -> None:
        self.root, self.database_url = root, database_url
        self.blob_dir = root / "blobs"
        self.env = {
            **os.environ,
            "HAZARDCHAIN_DATABASE_URL": database_url,
            "HAZARDCHAIN_BLOB_DIR": str(self.blob_dir),
            "HAZARDCHAIN_SECRET_KEY": "drill-secret-" + "y" * 40,
            "HAZARDCHAIN_SCHEDULER": "off",
            "HAZARDCHAIN_ENV": "test",
        }
        self.proc: subprocess.Popen | None = None
        self.port = _free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [*CLI, *args], env=self.env, cwd=self.root, capture_output=True, text=True, timeout=300
        )
        if check:
            assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
        return proc

    def serve(self) -> None:
        log = open(self.root / "serve.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, (self.root / "serve.log").read_text()
            time.sleep(0.2)
        raise AssertionError("server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_database(pg_uri: str, prefix: str) -> tuple[str, str]:
    """A new empty database on the test PostgreSQL server: (SQLAlchemy URL, name)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _pg_exec(pg_uri, f'CREATE DATABASE "{name}"')
    return pg_admin_uri(pg_uri, name).replace("postgresql://", "postgresql+psycopg://", 1), name


def server_state(inst: CliInstall) -> tuple[dict[str, list[tuple[str, str]]], set[str]]:
    """Every hazard's event types in order and every stored photo hash, read over the API as
    an admin sees them."""
    with httpx.Client(base_url=f"{inst.url}/api/v1", timeout=30) as http:
        token = http.post(
            "/auth/token", data={"username": "admin", "password": "demo-password"}
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        chains: dict[str, list[str]] = {}
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = http.get("/hazards", params=params).json()
            for item in page["items"]:
                detail = http.get(f"/hazards/{item['id']}").json()
                chains[item["id"]] = [(e["type"], e["id"]) for e in detail["events"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    photos = {p.name for p in inst.blob_dir.glob("??/*") if len(p.name) == 64}
    return chains, photos
