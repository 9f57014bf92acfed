"""Helpers for the sync tests: tablets (a real local store, outbox and sync client each, talking
HTTP to a real uvicorn server on loopback, directly or through the fault proxy), raw pushes,
and the server's state to compare devices with."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

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
