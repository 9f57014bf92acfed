"""Helpers for the sync tests: tablets (a real local store, outbox and sync client each, talking
HTTP to a real uvicorn server on loopback, directly or through the fault proxy), raw pushes,
and the server's state to compare devices with."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from sqlmodel import Session, col, select

from mobile_app.core.chains import confirmed_events, verify_local_chain
from mobile_app.core.outbox import Outbox
from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import SyncClient
from server.auth.scope import scope_of
from server.blobs.store import digest
from server.demo import demo_png, did
from server.hazards.models import Hazard, HazardEvent
from server.scoping import scope_filter
from server.users.models import User

MALL = did("site", "万达广场乌海店")

# for behaviour that does not depend on the server's database (the HTTP layer, the tablet)
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
PASSWORD = "demo-password"


@dataclass
class Tablet:
    name: str
    username: str
    store: LocalStore
    outbox: Outbox
    client: SyncClient

    def sync(self):
        return self.client.sync()

    def events(self) -> dict[str, str]:
        """Confirmed events on the device: id → hash."""
        return {r["id"]: r["hash"] for r in self.store.read("SELECT id, hash FROM event")}

    def hazards(self) -> dict[str, dict]:
        return {
            r["id"]: json.loads(r["view"]) for r in self.store.read("SELECT id, view FROM hazard")
        }

    def chains_verify(self) -> list[str]:
        db = self.store.reader()
        ids = [r["hazard_id"] for r in self.store.read("SELECT DISTINCT hazard_id FROM event")]
        return [h for h in ids if verify_local_chain(db, h) is not None]

    def chain(self, hazard_id: str):
        return confirmed_events(self.store.reader(), hazard_id)


def photo(seed: str) -> bytes:
    return demo_png(seed, (40, 80, 120))


def sha(data: bytes) -> str:
    return digest(data)


def server_events(engine, username: str | None = None) -> dict[str, str]:
    """Server events (id → hash), in the scope of ``username`` when given."""
    with Session(engine) as s:
        q = select(HazardEvent.id, HazardEvent.hash).join(
            Hazard, col(Hazard.id) == HazardEvent.hazard_id
        )
        if username:
            user = s.exec(select(User).where(User.username == username)).one()
            q = q.where(scope_filter(scope_of(s, user), Hazard.district_id, Hazard.site_id))
        return dict(s.exec(q).all())


def server_hazards(engine) -> dict[str, Hazard]:
    with Session(engine) as s:
        return {h.id: h for h in s.exec(select(Hazard)).all()}


def op(seq: int, type_: str, payload: dict, op_id: str | None = None, **extra) -> dict:
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "device_seq": seq,
        "type": type_,
        "payload": payload,
        **extra,
    }


def push_raw(http, device_id: str, ops: list[dict], **body) -> dict:
    """POST /sync/push with an httpx client (from ``LiveServer.login``); returns the JSON."""
    r = http.post(
        "/sync/push",
        json={"device_id": device_id, "schema_version": 1, "app_version": "t", "ops": ops, **body},
    )
    assert r.status_code == 200, r.text
    return r.json()


def report_payload(hazard_id: str, title: str = "疏散通道堵塞", **kw) -> dict:
    return {"hazard_id": hazard_id, "site_id": MALL, "title": title, "severity": "general", **kw}


def restart(live, settings, clock, engine, before_start=None):
    """Stop the server and start a new one (a fresh app) on the same engine and port."""
    from server.app import create_app
    from server.testing import LiveServer

    live.stop()
    if before_start is not None:
        before_start()
    return LiveServer(create_app(settings, clock=clock, engine=engine), port=live.port).start()


class ServerBackup:
    """Back up the server's database and restore it later (what an operator does after a
    disk failure): SQLite through the backup API, PostgreSQL as a template copy."""

    def __init__(self, db_url: str, engine, pg_uri: str | None, workdir) -> None:
        self.db_url, self.engine, self.pg_uri = db_url, engine, pg_uri
        self.file = workdir / "server-backup.db"
        self.pg_name = f"bk_{uuid.uuid4().hex[:12]}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    def _name(self) -> str:
        return self.db_url.split("?")[0].rsplit("/", 1)[1]

    def take(self, stop_and_start) -> None:
        if self.is_sqlite:
            import sqlite3

            src = sqlite3.connect(self.db_url.split("///", 1)[1])
            dst = sqlite3.connect(self.file)
            src.backup(dst)
            src.close()
            dst.close()
            return

        def copy() -> None:
            from server.testing import _pg_exec

            self.engine.dispose()
            _pg_exec(self.pg_uri, f'CREATE DATABASE "{self.pg_name}" TEMPLATE "{self._name()}"')

        stop_and_start(copy)

    def restore(self, stop_and_start):
        def put_back() -> None:
            import os
            import shutil

            self.engine.dispose()
            if self.is_sqlite:
                path = self.db_url.split("///", 1)[1]
                for suffix in ("-wal", "-shm"):
                    if os.path.exists(path + suffix):
                        os.remove(path + suffix)
                shutil.copyfile(self.file, path)
            else:
                from server.testing import _pg_exec

                name = self._name()
                _pg_exec(self.pg_uri, f'DROP DATABASE "{name}" WITH (FORCE)')
                _pg_exec(self.pg_uri, f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_name}"')

        return stop_and_start(put_back)
