"""Appending chain events to the log, and reading roots and proofs from it.

``record_log_leaves`` runs at every flush of every session (the ``before_flush`` hook in
``server.db``, the one the change feed uses): any ``HazardEvent`` about to be inserted becomes
the next leaf, in the same transaction, so no code path can write a chain event the log misses
and a rolled-back event leaves no leaf. Leaf indexes are taken after the feed clock's row lock
(which the event's transaction takes for its feed row anyway) and then ``log_head``'s, always in
that order, so they follow commit order and two writers never wait on each other crosswise.

Each append stores the leaf and the complete subtrees it completes (on average one more row);
a root or a proof then reads O(log n) stored subtrees in one query, whatever the log's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from server.hazards.models import HazardEvent
from server.sync.models import SyncChange, SyncClock
from server.tlog.models import LogHead, LogLeaf, LogNode
from shared import merkle

T = TypeVar("T")

_head = LogHead.__table__
_leaf = LogLeaf.__table__
_node = LogNode.__table__
_clock = SyncClock.__table__


def event_leaf(event_hash: str) -> bytes:
    """A leaf is the event's hash (which covers its id, hazard, position and every field)."""
    return merkle.leaf_hash(bytes.fromhex(event_hash))


def record_log_leaves(session: OrmSession) -> None:
    events = [o for o in session.new if isinstance(o, HazardEvent)]
    if not events:
        return
    # the feed's order (what the backfill and every reader of the log go by): a batch of
    # events may take its feed positions in another order than its chains'
    feed = {
        c.entity_id: c.seq for c in session.new if isinstance(c, SyncChange) and c.kind == "event"
    }
    events.sort(key=lambda e: (feed.get(e.id, float("inf")), e.hazard_id, e.seq))
    conn = session.connection()
    if conn.dialect.name == "postgresql":  # SQLite has one writer at a time anyway
        # the feed clock first (as every chain write takes it), then the log head
        conn.execute(select(_clock.c.value).where(_clock.c.id == 1).with_for_update())
    row = conn.execute(
        update(_head)
        .where(_head.c.id == 1)
        .values(size=_head.c.size + len(events))
        .returning(_head.c.size, _head.c.frontier)
    ).first()
    if row is None:  # a database created without the migration's row
        conn.execute(insert(_head).values(id=1, size=len(events), frontier=""))
        row = (len(events), "")
    start = int(row[0]) - len(events)
    leaves = [(e.id, e.hazard_id, event_leaf(e.hash)) for e in events]
    known = parse_frontier(start, row[1])
    if known is None:
        known = read_subtrees(conn, frontier_keys(start))
    rows, nodes, edge = plan_leaves(start, leaves, known)
    keep_edge = update(_head).where(_head.c.id == 1).values(frontier=edge)
    if conn.dialect.name == "postgresql":  # one round trip: the inserts ride along as CTEs
        ctes = [insert(_leaf).values(rows).cte("new_leaves")]
        if nodes:
            ctes.append(insert(_node).values(nodes).cte("new_nodes"))
        conn.execute(keep_edge.add_cte(*ctes))
        return
    conn.execute(insert(_leaf), rows)
    if nodes:
        conn.execute(insert(_node), nodes)
    conn.execute(keep_edge)


def frontier_keys(size: int) -> list[tuple[int, int]]:
    """The complete subtrees on the right edge of a tree of ``size`` leaves (lowest level
    first): the left siblings the next appends combine with."""
    return [(lv, (size >> lv) - 1) for lv in range(size.bit_length()) if (size >> lv) & 1]


def parse_frontier(size: int, text: str | None) -> dict[tuple[int, int], bytes] | None:
    """``log_head.frontier`` (the right edge's hashes, hex, lowest level first), or None when
    it does not fit the size (then the subtrees are read from their tables)."""
    keys = frontier_keys(size)
    if text is None or len(text) != 64 * len(keys):
        return None
    return {k: bytes.fromhex(text[64 * i : 64 * (i + 1)]) for i, k in enumerate(keys)}


def plan_leaves(
    start: int,
    leaves: list[tuple[str, str, bytes]],
    frontier: dict[tuple[int, int], bytes],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The rows for leaves ``start, start+1, …`` (event id, hazard id, leaf hash) and every
    subtree they complete, and the new right edge for ``log_head.frontier``: one leaf row and
    on average one subtree row each, whatever the log's size."""
    known = dict(frontier)
    nodes: list[dict[str, Any]] = []
    for offset, (_, _, h) in enumerate(leaves):
        i = start + offset
        known[(0, i)] = h
        level, j = 0, i
        while j & 1:
            parent = merkle.node_hash(known[(level, j - 1)], known[(level, j)])
            level, j = level + 1, j >> 1
            known[(level, j)] = parent
            nodes.append({"level": level, "idx": j, "hash": parent.hex()})
    rows = [
        {"idx": start + k, "event_id": eid, "hazard_id": hid, "leaf_hash": h.hex()}
        for k, (eid, hid, h) in enumerate(leaves)
    ]
    end = start + len(leaves)
    return rows, nodes, "".join(known[k].hex() for k in frontier_keys(end))


def append_leaves(
    conn: Connection,
    start: int,
    leaves: list[tuple[str, str, bytes]],
    frontier: dict[tuple[int, int], bytes] | None = None,
) -> str:
    """Store leaves from ``start`` (``plan_leaves``); returns the new right edge."""
    if frontier is None:
        frontier = read_subtrees(conn, frontier_keys(start))
    rows, nodes, edge = plan_leaves(start, leaves, frontier)
    conn.execute(insert(_leaf), rows)
    if nodes:
        conn.execute(insert(_node), nodes)
    return edge


def read_subtrees(
    conn: Connection, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored subtree hashes by (level, index), in at most two queries."""
    keys = set(keys)
    leaves = [i for lv, i in keys if lv == 0]
    inner = [k for k in keys if k[0] > 0]
    found: dict[tuple[int, int], bytes] = {}
    if leaves:
        for idx, h in conn.execute(
            select(_leaf.c.idx, _leaf.c.leaf_hash).where(_leaf.c.idx.in_(leaves))
        ):
            found[(0, int(idx))] = bytes.fromhex(h)
    if inner:
        by_level: dict[int, list[int]] = {}
        for level, idx in inner:
            by_level.setdefault(level, []).append(idx)
        # one term per level, each an index range on the primary key (a row-value IN makes
        # SQLite scan the table)
        wanted = or_(
            *(
                and_(_node.c.level == level, _node.c.idx.in_(idxs))
                for level, idxs in by_level.items()
            )
        )
        for level, idx, h in conn.execute(
            select(_node.c.level, _node.c.idx, _node.c.hash).where(wanted)
        ):
            found[(int(level), int(idx))] = bytes.fromhex(h)
    missing = keys - found.keys()
    if missing:
        raise LookupError(f"log subtrees missing: {sorted(missing)[:5]}")
    return found


def computed(conn: Connection, build: Callable[[merkle.SubtreeHash], T]) -> T:
    """Run a ``shared.merkle`` computation over the stored subtrees, fetched in one go."""
    known = read_subtrees(conn, merkle.needed_subtrees(build))
    return build(lambda level, idx: known[(level, idx)])


def log_size(conn: Connection) -> int:
    row = conn.execute(select(_head.c.size).where(_head.c.id == 1)).first()
    return int(row[0]) if row else 0


def root_at(conn: Connection, size: int) -> bytes:
    return computed(conn, lambda s: merkle.root(s, size))


def inclusion(conn: Connection, index: int, size: int) -> list[bytes]:
    return computed(conn, lambda s: merkle.inclusion_proof(s, index, size))


def consistency(conn: Connection, old: int, new: int) -> list[bytes]:
    return computed(conn, lambda s: merkle.consistency_proof(s, old, new))


def leaf_of_event(conn: Connection, event_id: str) -> tuple[int, str] | None:
    row = conn.execute(
        select(_leaf.c.idx, _leaf.c.leaf_hash).where(_leaf.c.event_id == event_id)
    ).first()
    return (int(row[0]), row[1]) if row else None
