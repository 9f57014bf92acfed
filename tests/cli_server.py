"""A server set up exactly as ``make run`` sets one up: ``hazardchain db upgrade``, ``hazardchain
demo`` and ``hazardchain serve`` as their own processes, configured only by ``HAZARDCHAIN_*``
variables (docs/deploy.md). Nothing of the test's process (imports, clocks, engines) reaches
them, so a step the command line forgets is a step the test sees missing: in-process servers
once hid that templates imported by ``db upgrade`` never reached a tablet."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from server.testing import Loopback, _pg_exec, free_port, pg_admin_uri

HAZARDCHAIN = Path(sys.executable).parent / "hazardchain"  # $(VENV)/bin/hazardchain


def empty_database(backend: str, workdir: Path, pg_uri: str | None) -> str:
    """A database nothing has touched yet, as on a new machine."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'hazardchain-{uuid.uuid4().hex[:8]}.db'}"
    assert pg_uri is not None, "the PostgreSQL leg needs the pg_uri fixture"
    name = f"cli_{uuid.uuid4().hex[:12]}"
    _pg_exec(pg_uri, f'CREATE DATABASE "{name}"')
    return pg_admin_uri(pg_uri, name)


def drop_database(url: str, pg_uri: str | None) -> None:
    if url.startswith("postgresql") and pg_uri:
        name = url.split("?")[0].rsplit("/", 1)[1]
        _pg_exec(pg_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cli_env(db_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """The environment an operator gives the commands: the test process's own
    ``HAZARDCHAIN_*`` variables are not inherited, the database and blobs are the temp ones,
    everything else is the default (no secret key: development makes one under ``var/``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZARDCHAIN_")}
    env["HAZARDCHAIN_DATABASE_URL"] = db_url
    env["HAZARDCHAIN_BLOB_DIR"] = str(workdir / "blobs")
    env.update(extra)
    return env


def hazardchain(
    env: dict[str, str], cwd: Path, *args: str, ok: bool = True
) -> subprocess.CompletedProcess[str]:
    """One ``hazardchain`` command, as typed; fails the test with its output unless ``ok`` is
    False."""
    r = subprocess.run(
        [str(HAZARDCHAIN), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if ok:
        assert r.returncode == 0, f"hazardchain {' '.join(args)}:\n{r.stdout}\n{r.stderr}"
    return r


class CliServer(Loopback):
    """``make run`` in a temp directory: migrate (which imports the checklists), load the
    demo, then serve (with the scheduler, as ``make run`` does) until ``stop``."""

    serve_args: tuple[str, ...] = ()  # e.g. ("--workers", "2", "--no-scheduler")

    def __init__(self, db_url: str, workdir: Path) -> None:
        self.db_url = db_url
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = cli_env(db_url, workdir)
        self.port = free_port()
        self.log = workdir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def run(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return hazardchain(self.env, self.workdir, *args, ok=ok)

    @property
    def blob_dir(self) -> Path:
        return Path(self.env["HAZARDCHAIN_BLOB_DIR"])

    def start(self) -> CliServer:
        self.run("db", "upgrade")
        self.run("demo")
        return self.serve()

    def serve(self) -> CliServer:
        """``hazardchain serve`` on this installation, until it answers."""
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(HAZARDCHAIN),
                    *("serve", "--host", "127.0.0.1", "--port", str(self.port)),
                    *self.serve_args,
                ],
                env=self.env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 180  # a loaded machine starts slowly
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hazardchain serve exited:\n{self.log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"hazardchain serve never answered:\n{self.log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> int | None:
        """Ctrl-C, as at the end of ``make run``; the exit code (None if it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def server_state(
    server: Loopback, blob_dir: Path
) -> tuple[dict[str, list[tuple[str, str]]], set[str]]:
    """Every hazard's events (type, id) in order, as an admin reads them over the API, and
    every photo the server holds."""
    chains: dict[str, list[tuple[str, str]]] = {}
    with server.login("admin") as http:
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
    photos = {p.name for p in blob_dir.glob("??/*") if len(p.name) == 64}
    return chains, photos


def assigned_to_the_mall(server: Loopback, site_id: str, title: str) -> str:
    """An officer reports a hazard at ``site_id`` and hands it to the demo mall's 安全员 (the
    ``enterprise`` user): a hazard of the test's own on a server tests share."""
    with server.login("enterprise") as ent:
        me = ent.get("/me").json()
    with server.login("officer") as officer:
        body = {"site_id": site_id, "title": title, "severity": "general"}
        hid = officer.post("/hazards", json=body).json()["id"]
        payload = {
            "responsible_unit": "万达广场",
            "responsible_person": "陈安全员",
            "responsible_user_id": me["id"],
        }
        r = officer.post(f"/hazards/{hid}/events", json={"type": "assigned", "payload": payload})
        assert r.status_code == 201, r.text
    return hid
