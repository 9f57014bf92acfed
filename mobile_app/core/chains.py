"""Chains on the tablet, folded with the server's own rules (``shared.chain``).

The ``event`` table holds the chain as the server confirmed it; every pulled event is checked
against its hash and its predecessor before it is stored. The ``hazard`` row shown on screen is
the fold of those events plus this device's ops the server has not confirmed yet, each decided
with the same transition table; an op the rules would now refuse (another device got there
first) is listed under ``conflicts`` so the screen can say so before the server does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from mobile_app.core.store import dumps
from shared.chain import (
    GENESIS_HASH,
    Actor,
    ChainEvent,
    EventType,
    HazardView,
    Refused,
    State,
    canonical_json,
    decide,
    event_hash,
    fold,
    fold_one,
    seal_event,
    verify_chain,
)
from shared.clock import parse_iso
from shared.sync_wire import chain_op

UNCONFIRMED = """
    SELECT * FROM outbox
    WHERE hazard_id = ? AND (
        status IN ('pending', 'sent')
        OR (status = 'acknowledged' AND NOT EXISTS (SELECT 1 FROM event e WHERE e.id = outbox.event_id))
    )
    ORDER BY device_seq
"""


class ChainLinkError(Exception):
    """A pulled event that does not fit the chain the device holds (never stored)."""


def store_event(db: Database, data: dict[str, Any], server_seq: int) -> bool:
    """Check one pulled event and store it; False if it was already here (a re-applied page)."""
    ev = ChainEvent.from_mapping(data)
    row = db.execute("SELECT hash FROM event WHERE id = ?", [ev.id]).fetchone()
    if row is not None:
        if row[0] != ev.hash:
            raise ChainLinkError(f"event {ev.id} differs from the copy on this device")
        return False
    if ev.hash != event_hash(ev.body()):
        raise ChainLinkError(f"event {ev.id}: hash does not match its content")
    if ev.seq == 1:
        expected = GENESIS_HASH
    else:
        prev = db.execute(
            "SELECT hash FROM event WHERE hazard_id = ? AND seq = ?", [ev.hazard_id, ev.seq - 1]
        ).fetchone()
        expected = prev[0] if prev else None
    if ev.prev_hash != expected:
        raise ChainLinkError(f"event {ev.id} does not follow event {ev.seq - 1} of its chain")
    db.execute(
        "INSERT INTO event (id, hazard_id, seq, server_seq, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
        [ev.id, ev.hazard_id, ev.seq, server_seq, dumps(ev.body()), ev.hash],
    )
    return True


def store_events(db: Database, items: list[tuple[dict[str, Any], int]]) -> set[str]:
    """``store_event`` for a page's events at once (pulled data and its feed position): the
    copies already here read in one query per 500, the links checked against the page itself
    and the device's chains, every new row in one ``executemany``. Raises on the first event
    ``store_event`` would refuse, before writing any; returns the hazards of all the events."""
    events = [(ChainEvent.from_mapping(data), seq) for data, seq in items]
    have: dict[str, str] = {}
    ids = [ev.id for ev, _ in events]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        have.update(db.execute(f"SELECT id, hash FROM event WHERE id IN ({marks})", chunk))
    links: dict[tuple[str, int], str] = {}
    rows = []
    for ev, server_seq in events:
        known = have.get(ev.id)
        if known is not None:
            if known != ev.hash:
                raise ChainLinkError(f"event {ev.id} differs from the copy on this device")
            continue
        text = canonical_json(ev.body())  # hashed, and stored as it is (``dumps``'s form)
        if ev.hash != hashlib.sha256(text).hexdigest():
            raise ChainLinkError(f"event {ev.id}: hash does not match its content")
        expected = GENESIS_HASH if ev.seq == 1 else links.get((ev.hazard_id, ev.seq - 1))
        if expected is None:
            prev = db.execute(
                "SELECT hash FROM event WHERE hazard_id = ? AND seq = ?",
                [ev.hazard_id, ev.seq - 1],
            ).fetchone()
            expected = prev[0] if prev else None
        if ev.prev_hash != expected:
            raise ChainLinkError(f"event {ev.id} does not follow event {ev.seq - 1} of its chain")
        links[(ev.hazard_id, ev.seq)] = have[ev.id] = ev.hash
        rows.append((ev.id, ev.hazard_id, ev.seq, server_seq, text.decode(), ev.hash))
    db.conn.executemany(
        "INSERT INTO event (id, hazard_id, seq, server_seq, body, hash) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    return {ev.hazard_id for ev, _ in events}


def store_numbers(db: Database, items: list[dict[str, Any]]) -> None:
    """Keep the 隐患编号 pulled events carry beside their chains (the server allocates it), in
    one ``executemany`` per page."""
    db.conn.executemany(
        "INSERT INTO hazard_number (hazard_id, number) VALUES (?, ?) "
        "ON CONFLICT (hazard_id) DO UPDATE SET number = excluded.number",
        [
            (data["hazard_id"], number)
            for data in items
            if isinstance(number := data.get("hazard_number"), str) and number
        ],
    )


def confirmed_events(db: Database, hazard_id: str) -> list[ChainEvent]:
    rows = db.execute(
        "SELECT body, hash FROM event WHERE hazard_id = ? ORDER BY seq", [hazard_id]
    ).fetchall()
    return [ChainEvent.from_mapping({**json.loads(body), "hash": h}) for body, h in rows]


def verify_local_chain(db: Database, hazard_id: str):
    """The first broken link of a confirmed chain on this device, or None."""
    return verify_chain(confirmed_events(db, hazard_id))


def op_as_event(db: Database, op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The chain event an unconfirmed op stands for: (event type, payload), as the server will
    apply it; a report gets its site's industry as the server adds it."""
    c = chain_op(op["type"], json.loads(op["payload"]))
    event_type, body = c.event_type, c.payload
    if event_type == EventType.reported:
        site = db.execute("SELECT data FROM site WHERE id = ?", [body.get("site_id")]).fetchone()
        if site is not None:
            body["industry"] = json.loads(site[0]).get("industry")
    return event_type, body


@dataclass
class LocalChain:
    """One hazard as this device sees it: the server's chain, then this device's unconfirmed
    ops sealed on top (``pending``: op id → event), and the ops the rules now refuse."""

    view: HazardView | None
    confirmed: list[ChainEvent]
    pending: list[tuple[dict[str, Any], ChainEvent]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)


PROVISIONAL = """
    SELECT p.body, o.op_id, o.device_time, o.created_at FROM provisional p
    JOIN outbox o ON o.op_id = p.op_id
    WHERE p.hazard_id = ? AND o.status != 'rejected'
"""


def provisional_hazards(db: Database, op_id: str) -> set[str]:
    """The hazards an inspection op will create (none for other ops)."""
    rows = db.execute("SELECT hazard_id FROM provisional WHERE op_id = ?", [op_id]).fetchall()
    return {r[0] for r in rows}


def local_chain(db: Database, hazard_id: str, actor: Actor) -> LocalChain:
    events = confirmed_events(db, hazard_id)
    chain = LocalChain(fold(events) if events else None, events)
    if chain.view is None:
        row = db.execute(PROVISIONAL, [hazard_id]).fetchone()
        if row is not None:  # a finding of an inspection the server has not confirmed yet
            op = {"op_id": row[1], "device_time": row[2], "created_at": row[3]}
            _seal(chain, op, EventType.reported.value, json.loads(row[0]), hazard_id, actor)
    for op in db.query(UNCONFIRMED, [hazard_id]):
        event_type, payload = op_as_event(db, op)
        _seal(chain, op, event_type, payload, hazard_id, actor)
    return chain


def _seal(
    chain: LocalChain,
    op: dict[str, Any],
    event_type: str,
    payload: dict[str, Any],
    hazard_id: str,
    actor: Actor,
) -> None:
    at = _op_time(op)
    try:
        decision = decide(chain.view, event_type, actor, payload, at)
    except Refused as exc:
        r = exc.refusal
        chain.conflicts.append({"op_id": op["op_id"], "code": r.code, "zh": r.zh, "en": r.en})
        return
    ev = seal_event(
        event_id=op.get("event_id") or hazard_id,
        hazard_id=hazard_id,
        decision=decision,
        actor=actor,
        at=at,
        prev=chain.view,
        device_time=op["device_time"],
    )
    chain.view = fold_one(chain.view, ev)  # the view is this chain's own copy
    chain.pending.append((op, ev))


def local_view(
    db: Database, hazard_id: str, actor: Actor
) -> tuple[HazardView | None, list[ChainEvent], list[dict[str, Any]], int]:
    """(view, confirmed events, conflicts, unconfirmed ops folded) for one hazard."""
    c = local_chain(db, hazard_id, actor)
    return c.view, c.confirmed, c.conflicts, len(c.pending)


def _op_time(op: dict[str, Any]) -> datetime:
    try:
        return parse_iso(op["device_time"] or op["created_at"])
    except ValueError:
        return parse_iso(op["created_at"])


UPSERT_HAZARD = """
    INSERT INTO hazard (id, site_id, state, severity, title, deadline, overdue, updated_at,
                        confirmed_count, pending_count, conflicts, view)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET
        site_id = excluded.site_id, state = excluded.state, severity = excluded.severity,
        title = excluded.title, deadline = excluded.deadline, overdue = excluded.overdue,
        updated_at = excluded.updated_at, confirmed_count = excluded.confirmed_count,
        pending_count = excluded.pending_count, conflicts = excluded.conflicts,
        view = excluded.view
"""


def _hazard_row(
    hazard_id: str, view: HazardView, confirmed: int, pending: int, conflicts: list[Any]
) -> list[Any]:
    return [
        hazard_id,
        view.site_id,
        view.state.value,
        view.severity,
        view.title,
        view.deadline,
        int(view.overdue),
        view.updated_at,
        confirmed,
        pending,
        dumps(conflicts) if conflicts else None,
        dumps(_view_dict(view)),
    ]


def refold(db: Database, hazard_id: str, actor: Actor) -> HazardView | None:
    """Rewrite one hazard's screen row from its confirmed chain and unconfirmed ops."""
    view, events, conflicts, folded = local_view(db, hazard_id, actor)
    if view is None:
        db.execute("DELETE FROM hazard WHERE id = ?", [hazard_id])
        return None
    db.execute(UPSERT_HAZARD, _hazard_row(hazard_id, view, len(events), folded, conflicts))
    return view


def _in_chunks(db: Database, sql: str, ids: list[str], copies: int = 1) -> list[tuple]:
    """``sql`` with ``{marks}`` run for 500 ids at a time (SQLite's variable limit)."""
    out: list[tuple] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        out += db.execute(sql.format(marks=marks), chunk * copies).fetchall()
    return out


def refold_pulled(db: Database, pulled: dict[str, list[ChainEvent]], actor: Actor) -> None:
    """``refold`` for the hazards of a stored page (their newly pulled events, in seq order),
    without re-reading chains: a hazard this device has no ops for folds its new events onto
    its stored row (or from nothing, for a chain that starts in the page), all rows written in
    one ``executemany``. Any other (local ops, a provisional finding, a row that does not end
    where the page begins) is refolded from its chain as ``refold`` does."""
    ids = list(pulled)
    local = {
        r[0]
        for r in _in_chunks(
            db,
            "SELECT hazard_id FROM outbox WHERE hazard_id IN ({marks})"
            " UNION SELECT hazard_id FROM provisional WHERE hazard_id IN ({marks})",
            ids,
            copies=2,
        )
    }
    stored = {
        r[0]: (r[1], r[2], r[3], r[4])
        for r in _in_chunks(
            db,
            "SELECT id, confirmed_count, pending_count, conflicts, view FROM hazard"
            " WHERE id IN ({marks})",
            ids,
        )
    }
    rows, slow = [], []
    for hazard_id, events in pulled.items():
        count, pending, conflicts, view_json = stored.get(hazard_id, (0, 0, None, None))
        new = [ev for ev in events if ev.seq > count]
        if hazard_id in local or pending or conflicts or (count and view_json is None):
            slow.append(hazard_id)
            continue
        if not new:
            continue  # a page applied again: the row already folds these events
        if [ev.seq for ev in new] != list(range(count + 1, count + 1 + len(new))):
            slow.append(hazard_id)
            continue
        view = stored_view(json.loads(view_json)) if count else None
        for ev in new:
            view = fold_one(view, ev)
        rows.append(_hazard_row(hazard_id, view, new[-1].seq, 0, []))
    db.conn.executemany(UPSERT_HAZARD, rows)
    for hazard_id in slow:
        refold(db, hazard_id, actor)


def stored_view(data: dict[str, Any]) -> HazardView:
    """A ``hazard.view`` column back as the view it was written from."""
    return HazardView(**{**data, "state": State(data["state"])})


def _view_dict(view: HazardView) -> dict[str, Any]:
    """Shallow (written as JSON at once; ``asdict``'s deep copy was a third of applying a
    pulled page) and the same JSON: the view holds no nested dataclasses."""
    data = {name: getattr(view, name) for name in _VIEW_FIELDS}
    data["state"] = view.state.value
    return data


_VIEW_FIELDS = tuple(f.name for f in fields(HazardView))
