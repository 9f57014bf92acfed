"""Whole-record verification: every chain, every projection against its fold, every hazard
against its events, every event against the log, and the log against a signed checkpoint.

Each finding names what was done, in the words an inquiry would use:

- ``hash_mismatch`` / ``prev_hash_mismatch`` / ``sequence_mismatch``: a chain edited in place;
- ``projection_mismatch``: a hazard's stored fields differ from what its events fold to;
- ``missing_events``: a hazard with no events left;
- ``event_not_in_log``: an event the log never received (forged into the database);
- ``logged_event_missing``: the log holds an event the database no longer has (cut off);
- ``logged_hazard_missing``: the log holds a hazard the database no longer has (deleted);
- ``log_leaf_mismatch``: an event differs from the one the log received (rewritten, even with
  every hash recomputed);
- ``checkpoint_mismatch`` / ``log_truncated`` / ``checkpoint_invalid``: the log itself was
  rewritten or cut against a checkpoint signed by the key outside the database.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from server.hazards import service as hazards
from server.hazards.models import Hazard, HazardEvent
from server.settings import Settings
from server.sites.models import Site
from server.tlog import log as tlog
from server.tlog.checkpoints import latest
from server.tlog.keys import public_key
from server.tlog.models import LogLeaf
from shared import checkpoint as note
from shared import merkle
from shared.chain import fold

logger = logging.getLogger("hazardchain.tlog")


@dataclass(frozen=True)
class Finding:
    reason: str
    hazard_id: str | None = None
    event_id: str | None = None
    seq: int | None = None
    detail: str = ""

    def line(self) -> str:
        where = " ".join(
            part
            for part in (
                f"hazard {self.hazard_id}" if self.hazard_id else "",
                f"event {self.event_id}" if self.event_id else "",
                f"(seq {self.seq})" if self.seq else "",
            )
            if part
        )
        return (
            f"TAMPERED {self.reason}: {where or 'log'}{': ' + self.detail if self.detail else ''}"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def projection_findings(session: Session, hazard: Hazard, events: list[Any]) -> list[Finding]:
    """The stored projection against the fold of its chain, every column."""
    try:
        view = fold(events)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return [Finding("unfoldable", hazard.id, events[0].id if events else None, 1, str(exc))]
    site = session.get(Site, view.site_id)
    if site is None:
        return [Finding("projection_mismatch", hazard.id, detail="site missing")]
    wrong = [
        name
        for name, value in hazards.projection_of(view, site).items()
        if getattr(hazard, name) != value
    ]
    if not wrong:
        return []
    return [
        Finding(
            "projection_mismatch",
            hazard.id,
            events[-1].id if events else None,
            len(events) or None,
            "fields " + ", ".join(sorted(wrong)),
        )
    ]


def chain_findings(
    session: Session, hazard_id: str
) -> tuple[Hazard | None, list[Any], list[Finding]]:
    """One hazard's chain (hashes, links, a chain at all) and then its projection."""
    hazard = session.get(Hazard, hazard_id)
    events = hazards.load_events(session, hazard_id)
    brk = hazards.check_chain(hazard, events)
    if brk is not None:
        return hazard, events, [Finding(brk.reason, hazard_id, brk.event_id or None, brk.seq)]
    if hazard is not None and events:
        return hazard, events, projection_findings(session, hazard, events)
    return hazard, events, []


def hazard_findings(session: Session, hazard_id: str) -> list[Finding]:
    """One hazard: chain, projection, and its events against the log's leaves for it."""
    hazard, events, found = chain_findings(session, hazard_id)
    leaves = session.execute(
        select(LogLeaf.event_id, LogLeaf.leaf_hash).where(LogLeaf.hazard_id == hazard_id)
    ).all()
    found += _against_log(
        {e.id: (hazard_id, e.hash, e.seq) for e in events},
        {eid: (hazard_id, h) for eid, h in leaves},
        {hazard_id} if hazard is not None else set(),
    )
    return found


def _against_log(
    events: dict[str, tuple[str, str, int]],
    leaves: dict[str, tuple[str, str]],
    hazard_ids: set[str],
) -> list[Finding]:
    """Events (id → hazard, hash, seq) against logged leaves (event id → hazard, leaf hash)."""
    found: list[Finding] = []
    for eid, (hid, h, seq) in events.items():
        logged = leaves.get(eid)
        if logged is None:
            found.append(Finding("event_not_in_log", hid, eid, seq, "not in the log"))
        elif logged[1] != tlog.event_leaf(h).hex() or logged[0] != hid:
            found.append(
                Finding("log_leaf_mismatch", hid, eid, seq, "differs from the logged event")
            )
    missing_hazards: set[str] = set()
    for eid, (hid, _) in leaves.items():
        if eid in events:
            continue
        if hid not in hazard_ids:
            if hid not in missing_hazards:
                missing_hazards.add(hid)
                found.append(Finding("logged_hazard_missing", hid, detail="hazard deleted"))
            continue
        found.append(Finding("logged_event_missing", hid, eid, detail="logged event deleted"))
    return found


@dataclass
class Report:
    hazards: int
    log_size: int
    checkpoint_size: int | None
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_record(
    session: Session, settings: Settings, kept_note: str | None = None, key: bytes | None = None
) -> Report:
    """Everything: each hazard, the whole log against the events, and the log against the
    latest stored checkpoint (or ``kept_note``, a checkpoint someone kept, checked with
    ``key`` or the server's own public key)."""
    findings: list[Finding] = []
    hazard_ids = set(session.execute(select(Hazard.id)).scalars())
    for hid in sorted(hazard_ids):
        findings += chain_findings(session, hid)[2]
    events = {
        eid: (hid, h, seq)
        for eid, hid, h, seq in session.execute(
            select(HazardEvent.id, HazardEvent.hazard_id, HazardEvent.hash, HazardEvent.seq)
        )
    }
    rows = session.execute(
        select(LogLeaf.idx, LogLeaf.event_id, LogLeaf.hazard_id, LogLeaf.leaf_hash).order_by(
            LogLeaf.idx
        )
    ).all()
    findings += _against_log(events, {r[1]: (r[2], r[3]) for r in rows}, hazard_ids)
    conn = session.connection()
    size = tlog.log_size(conn)
    tree = merkle.MemoryTree.of_hashes(bytes.fromhex(r[3]) for r in rows)
    if [r[0] for r in rows] != list(range(len(rows))) or len(rows) != size:
        findings.append(Finding("log_truncated", detail=f"{len(rows)} leaves, head says {size}"))
    elif size and tlog.root_at(conn, size) != tree.root():
        findings.append(Finding("log_nodes_mismatch", detail="stored subtrees differ"))
    cp_size = _against_checkpoint(session, settings, tree, kept_note, key, findings)
    by_reason: dict[str, int] = defaultdict(int)
    for f in findings:
        by_reason[f.reason] += 1
    logger.info(
        "record verified",
        extra={"hazards": len(hazard_ids), "log_size": size, "findings": dict(by_reason)},
    )
    return Report(len(hazard_ids), size, cp_size, findings)


def _against_checkpoint(
    session: Session,
    settings: Settings,
    tree: merkle.MemoryTree,
    kept_note: str | None,
    key: bytes | None,
    findings: list[Finding],
) -> int | None:
    text = kept_note
    if text is None:
        row = latest(session)
        if row is None:
            return None
        text = row.note
    try:
        cp = note.verify(text, key or public_key(settings), settings.log_origin)
    except note.NoteError as exc:
        findings.append(Finding("checkpoint_invalid", detail=str(exc)))
        return None
    if cp.size > tree.size:
        findings.append(
            Finding("log_truncated", detail=f"checkpoint has {cp.size} leaves, log {tree.size}")
        )
    elif tree.root(cp.size) != cp.root:
        findings.append(
            Finding("checkpoint_mismatch", detail=f"first {cp.size} leaves differ from checkpoint")
        )
    return cp.size
