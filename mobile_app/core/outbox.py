"""Changes made on the tablet. Each is an op numbered gap-free (``device_seq``), written in the
same local transaction as its effect on the screens, and checked first with the server's own
rules so an action that cannot work is refused on the spot, with the reason.

Per-record status: ``pending`` (not sent yet) → ``sent`` (on its way, answer unknown) →
``acknowledged`` (the server applied it; ``server_seq`` and ``received_at`` are its receipt) or
``rejected`` (a rule refused it; ``code`` and the message say why). Until acknowledged or
rejected, this device holds the only copy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from mobile_app.core.chains import local_view, op_as_event, refold
from mobile_app.core.evidence_copy import evidence_copy, keep_original
from mobile_app.core.location import LocationProvider, NoLocation
from mobile_app.core.store import LocalStore, dumps, get_meta, set_meta
from shared.chain import Actor, Refused, decide
from shared.clock import Clock, SystemClock, to_iso
from shared.errors import Refusal
from shared.responsibility import not_responsible
from shared.roles import Role
from shared.sync_wire import (
    CURRENT_OP_VERSION,
    HazardEventPayload,
    HazardReportPayload,
    OpType,
    PhotoAddPayload,
    referenced_photos,
    sniff_mime,
)


class LocalRefusal(Exception):
    """The action breaks a rule already on the device; nothing was queued."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.en)
        self.refusal = refusal


@dataclass(frozen=True)
class OnlyCopy:
    """What would be lost with this tablet: records and photos the server has not confirmed."""

    records: int
    photos: int
    photo_bytes: int

    @property
    def total(self) -> int:
        return self.records + self.photos


def actor_of(db: Database) -> Actor:
    user_id, role = get_meta(db, "user_id"), get_meta(db, "role")
    if not user_id or not role:
        raise RuntimeError("no user on this device: log in first")
    return Actor(user_id, Role(role), get_meta(db, "user_name") or "")


def photo_stamps(store: LocalStore, shas: Sequence[str]) -> dict[str, Any]:
    """The GPS stamps of those photos that have one (taken where the device had a fix)."""
    if not shas:
        return {}
    marks = ",".join("?" * len(shas))
    rows = store.read(
        f"SELECT sha256, gps FROM blob WHERE gps IS NOT NULL AND sha256 IN ({marks})", list(shas)
    )
    return {r["sha256"]: json.loads(r["gps"]) for r in rows}


class Outbox:
    def __init__(
        self,
        store: LocalStore,
        *,
        clock: Clock | None = None,
        location: LocationProvider | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.location = location or NoLocation()

    # ---------------------------------------------------------------- photos

    def add_photo(self, data: bytes) -> dict[str, Any]:
        """Keep photo bytes on the device (durably, before any record cites them). A large
        camera photo is kept as its evidence copy, which records cite and sync uploads; its
        original waits beside it until the copy is uploaded (``core.evidence_copy``)."""
        mime = sniff_mime(data[:16])
        if mime is None:
            raise LocalRefusal(
                Refusal("unsupported_type", "只接受PNG、JPEG或WebP图片", "only PNG, JPEG or WebP")
            )
        now = to_iso(self.clock.now())
        copy = evidence_copy(data)
        original, data = (data, copy) if copy is not None else (None, data)
        mime = sniff_mime(data[:16]) or mime
        sha = self.store.put_blob_file(data)
        if original is not None:
            keep_original(self.store, sha, original, now)
        stamp = self.location.current()  # where it was taken; kept from the first time

        def row(db: Database) -> None:
            db.execute(
                "INSERT INTO blob (sha256, size, mime, created_at, gps) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (sha256) DO NOTHING",
                [sha, len(data), mime, now, dumps(stamp.wire()) if stamp else None],
            )

        self.store.write(row)
        return {"sha256": sha, "size": len(data), "mime": mime}

    # ---------------------------------------------------------------- changes

    def report_hazard(
        self,
        *,
        site_id: str,
        title: str,
        severity: str,
        description: str = "",
        photos: Sequence[str] = (),
        location: str | None = None,
        hazard_id: str | None = None,
    ) -> str:
        """Report a hazard; returns its id (also the id of the op and of its first event)."""
        hazard_id = hazard_id or str(uuid.uuid4())
        body = HazardReportPayload(
            hazard_id=hazard_id,
            site_id=site_id,
            title=title,
            description=description,
            severity=severity,
            photos=list(photos),
            location=location,
            gps=self.location.current(),
            photo_gps=photo_stamps(self.store, list(photos)) or None,
        )
        self.enqueue(OpType.hazard_report, body.model_dump(exclude_none=True), op_id=hazard_id)
        return hazard_id

    def append_event(
        self, hazard_id: str, event_type: str, payload: dict[str, Any] | None = None
    ) -> str:
        """Any chain event the user's role allows now; returns the op id (= the event id). The
        photos it cites (整改 evidence, before photos) carry the GPS stamps they were taken
        with, as a finding's do."""
        payload = dict(payload or {})
        cited = [
            sha
            for key in ("photos", "evidence")
            if isinstance(payload.get(key), list)
            for sha in payload[key]
            if isinstance(sha, str)
        ]
        stamps = photo_stamps(self.store, cited)
        if stamps and "photo_gps" not in payload:
            payload["photo_gps"] = stamps
        body = HazardEventPayload(hazard_id=hazard_id, type=event_type, payload=payload)
        return self.enqueue(OpType.hazard_event, body.model_dump())

    def add_photos(self, hazard_id: str, photos: list[bytes], caption: str | None = None) -> str:
        refs = [self.add_photo(p) for p in photos]
        stamps = photo_stamps(self.store, [r["sha256"] for r in refs])
        for ref in refs:
            ref["gps"] = stamps.get(ref["sha256"])
        body = PhotoAddPayload(hazard_id=hazard_id, photos=refs, caption=caption)
        return self.enqueue(OpType.photo_add, body.model_dump(exclude_none=True))

    def submit_inspection(self, payload: dict[str, Any]) -> str:
        """A finished inspection (the ``POST /inspections`` JSON, with the client's UUID)."""
        return self.enqueue(OpType.inspection_submit, payload)

    def enqueue(self, op_type: OpType, payload: dict[str, Any], *, op_id: str | None = None) -> str:
        """Queue one op and apply it to the local screens, in one transaction."""
        return self.store.write(lambda db: enqueue_in(db, op_type, payload, self.clock, op_id))

    # ---------------------------------------------------------------- reading

    def record(self, op_id: str) -> dict[str, Any] | None:
        rows = self.store.read("SELECT * FROM outbox WHERE op_id = ?", [op_id])
        return _record(rows[0]) if rows else None

    def records(self, status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        if status:
            rows = self.store.read(
                "SELECT * FROM outbox WHERE status = ? ORDER BY device_seq LIMIT ?",
                [status, limit],
            )
        else:
            rows = self.store.read("SELECT * FROM outbox ORDER BY device_seq LIMIT ?", [limit])
        return [_record(r) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self.store.read("SELECT status, count(*) AS n FROM outbox GROUP BY status")
        out = {"pending": 0, "sent": 0, "acknowledged": 0, "rejected": 0}
        out.update({r["status"]: r["n"] for r in rows})
        return out

    def only_copy(self) -> OnlyCopy:
        records = self.store.read(
            "SELECT count(*) AS n FROM outbox WHERE status IN ('pending', 'sent')"
        )[0]["n"]
        photos = self.store.read(
            "SELECT count(*) AS n, coalesce(sum(size), 0) AS b FROM blob WHERE server_complete = 0"
        )[0]
        return OnlyCopy(records, photos["n"], photos["b"])

    def rejections(self) -> list[dict[str, Any]]:
        """Every refused record with the server's reason, for the screen that lists them."""
        return self.records("rejected", limit=10_000)


def enqueue_in(
    db: Database,
    op_type: OpType,
    payload: dict[str, Any],
    clock: Clock,
    op_id: str | None = None,
) -> str:
    """Queue one op inside the caller's write, so a change and its effect on the screens (a
    locked draft, provisional hazards) commit together or not at all."""
    op_id = op_id or str(uuid.uuid4())
    now = to_iso(clock.now())
    hazard_id = payload.get("hazard_id") if op_type is not OpType.inspection_submit else None
    event_id = hazard_id if op_type is OpType.hazard_report else op_id
    actor = actor_of(db)
    if hazard_id is not None:
        _check_locally(db, op_type, payload, hazard_id, actor, clock)
    seq = int(get_meta(db, "next_seq") or 1)
    set_meta(db, "next_seq", str(seq + 1))
    db.execute(
        "INSERT INTO outbox (op_id, device_seq, type, v, payload, device_time,"
        " created_at, hazard_id, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [op_id, seq, op_type.value, CURRENT_OP_VERSION, dumps(payload), now, now, hazard_id,
         event_id if hazard_id else None],
    )  # fmt: skip
    for sha in referenced_photos(op_type, payload):
        if db.execute("SELECT 1 FROM blob WHERE sha256 = ?", [sha]).fetchone() is None:
            raise LocalRefusal(
                Refusal("photo_missing", "照片不在本机", f"photo {sha[:12]} is not here")
            )
        db.execute("INSERT OR IGNORE INTO outbox_blob VALUES (?, ?)", [op_id, sha])
    if hazard_id is not None:
        refold(db, hazard_id, actor)
    return op_id


def _record(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["payload"] = json.loads(row["payload"])
    return row


def _check_locally(
    db: Database,
    op_type: OpType,
    payload: dict[str, Any],
    hazard_id: str,
    actor: Actor,
    clock: Clock,
) -> None:
    """Refuse at once what the rules already refuse on this device's view of the chain."""
    view, _, _, _ = local_view(db, hazard_id, actor)
    if op_type is OpType.hazard_report and view is not None:
        raise LocalRefusal(Refusal("already_exists", "该隐患编号已存在", "hazard id in use"))
    event_type, body = op_as_event(db, {"type": op_type, "payload": dumps(payload)})
    if view is not None:  # first, as the server asks it first
        refusal = not_responsible(actor.role, actor.id, event_type, view.responsible_user_id)
        if refusal is not None:
            raise LocalRefusal(refusal)
    try:
        decide(view, event_type, actor, body, clock.now())
    except Refused as exc:
        raise LocalRefusal(exc.refusal) from None
