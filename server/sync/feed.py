"""The change feed: every write a device may need gets a position from the one-row clock,
taken inside the writing transaction, so positions follow commit order.

Chain events are recorded by ``server.hazards.service`` (the only writer of chains); sites,
districts and checklist templates by ``record_reference_changes``, run at every flush of every
session by the hook ``server.db`` registers, whoever writes them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, true, union_all, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from server.auth.scope import Scope
from server.checklists.models import ChecklistTemplate
from server.hazards.models import HazardEvent
from server.scoping import scope_filter
from server.sites.models import District, Site
from server.sync.models import SyncChange, SyncClock
from shared.clock import SystemClock
from shared.errors import DomainError

_clock = SyncClock.__table__
SEQS_TAKEN = "sync_seqs_taken"


def new_epoch() -> str:
    return secrets.token_hex(8)


def take_seq(session: Session) -> int:
    """The next feed position; holds the clock row's lock until this transaction ends."""
    conn = session.connection()
    row = conn.execute(
        update(_clock)
        .where(_clock.c.id == 1)
        .values(value=_clock.c.value + 1)
        .returning(_clock.c.value)
    ).first()
    if row is None:  # a database created without the migration's first row
        conn.execute(insert(_clock).values(id=1, value=1, epoch=new_epoch()))
        return 1
    return int(row[0])


def take_seqs(session: Session, n: int) -> list[int]:
    """``n`` consecutive feed positions in one statement (a batch takes its positions once,
    last, and holds the clock row's lock only from then to its commit)."""
    if n <= 0:
        return []
    conn = session.connection()
    row = conn.execute(
        update(_clock)
        .where(_clock.c.id == 1)
        .values(value=_clock.c.value + n)
        .returning(_clock.c.value)
    ).first()
    if row is None:
        conn.execute(insert(_clock).values(id=1, value=n, epoch=new_epoch()))
        top = n
    else:
        top = int(row[0])
    return list(range(top - n + 1, top + 1))


def record_changes(session: Session, changes: list[dict[str, Any]]) -> list[int]:
    """``record_change`` for many rows (keyword dicts of it), with one take of the clock."""
    seqs = take_seqs(session, len(changes))
    session.info.setdefault(SEQS_TAKEN, []).extend(seqs)
    session.add_all(
        SyncChange(seq=seq, op=c.pop("op", "put"), **c)
        for seq, c in zip(seqs, changes, strict=True)
    )
    return seqs


def record_change(
    session: Session,
    *,
    kind: str,
    entity_id: str,
    at: datetime,
    hazard_id: str | None = None,
    district_id: str | None = None,
    site_id: str | None = None,
    op: str = "put",
) -> int:
    seq = take_seq(session)
    session.info.setdefault(SEQS_TAKEN, []).append(seq)  # lets push name the op's position
    session.add(
        SyncChange(
            seq=seq,
            kind=kind,
            entity_id=entity_id,
            hazard_id=hazard_id,
            district_id=district_id,
            site_id=site_id,
            op=op,
            at=at,
        )
    )
    return seq


def template_key(template_id: str, version: int) -> str:
    return f"{template_id}:{version}"


def _reference_change(obj: Any) -> dict[str, Any] | None:
    if isinstance(obj, Site):
        return {
            "kind": "site",
            "entity_id": obj.id,
            "district_id": obj.district_id,
            "site_id": obj.id,
        }
    if isinstance(obj, District):
        return {"kind": "district", "entity_id": obj.id}
    if isinstance(obj, ChecklistTemplate):
        return {"kind": "template", "entity_id": template_key(obj.id, obj.version)}
    return None


def record_reference_changes(session: OrmSession) -> None:
    """Sites, districts and templates are written by several services (and the CLI); catch
    them all at flush. Called by the one ``before_flush`` hook in ``server.db``, which every
    model module imports, so no process can write these without recording them."""
    found = []
    for obj in session.new:
        found.append((obj, "put"))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            found.append((obj, "put"))
    for obj in session.deleted:
        found.append((obj, "delete"))
    for obj, op in found:
        change = _reference_change(obj)
        if change is not None:
            record_change(session, at=SystemClock().now(), op=op, **change)  # type: ignore[arg-type]


# ------------------------------------------------------------------ reading


def visible(scope: Scope) -> Any:
    """Changes a user with this scope may pull: their districts' or sites' rows, and the
    rows every user gets (no district, no site)."""
    shared = and_(SyncChange.district_id.is_(None), SyncChange.site_id.is_(None))
    if scope.everything:
        return True
    return or_(shared, scope_filter(scope, SyncChange.district_id, SyncChange.site_id))


def scope_key(scope: Scope) -> str:
    """Short fingerprint of a scope: a cursor taken under another scope cannot continue."""
    parts = [
        "all" if scope.everything else "",
        ",".join(sorted(scope.district_ids)),
        ",".join(sorted(scope.site_ids)),
    ]
    text = "|".join(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _check(session: Session, row: SyncChange | Row[Any] | None) -> str:
    """Fingerprint of the change at a position: which entity, and for an (immutable) event
    its hash too, so a restored server that re-applied the same op differently is caught."""
    if row is None:
        return "-"
    text = row.entity_id
    if row.kind == "event":
        event = session.get(HazardEvent, row.entity_id)
        text += ":" + (event.hash if event is not None else "")
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Cursor:
    epoch: str
    seq: int
    check: str
    scope: str

    def encode(self) -> str:
        return f"1.{self.epoch}.{self.seq}.{self.check}.{self.scope}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        parts = text.split(".")
        if len(parts) != 5 or parts[0] != "1" or not parts[2].isdigit():
            return None
        return cls(parts[1], int(parts[2]), parts[3], parts[4])


def renew_epoch(session: Session) -> str:
    """Make every device download everything again (run after restoring a backup)."""
    epoch = new_epoch()
    session.connection().execute(update(_clock).where(_clock.c.id == 1).values(epoch=epoch))
    return epoch


def reset_required(reason: str) -> DomainError:
    return DomainError.of(
        "reset_required",
        "服务器数据已重建或您的权限已变更，设备将重新下载全部数据（未上传的记录会保留）",
        f"the device must download everything again ({reason}); unsent records are kept",
        fields={"cursor": reason},
    )


def clock_state(session: Session) -> tuple[int, str]:
    """The feed's last committed position and its epoch."""
    row = session.connection().execute(select(_clock.c.value, _clock.c.epoch)).first()
    return (int(row[0]), row[1]) if row else (0, "")


def cursor_at(session: Session, epoch: str, seq: int, scope: Scope) -> Cursor:
    check = _check(session, session.get(SyncChange, seq)) if seq else "-"
    return Cursor(epoch, seq, check, scope_key(scope))


def position_of(session: Session, text: str | None, scope: Scope, *, top: int, epoch: str) -> int:
    """Where a device's cursor points, or ``410 reset_required`` when the feed behind it can
    no longer be trusted: another epoch, another scope, a position the server never reached
    or one that now names another change (both: restored from a backup)."""
    if not text:
        return 0
    cur = Cursor.decode(text)
    if cur is None:
        raise reset_required("unreadable cursor")
    if cur.epoch != epoch:
        raise reset_required("feed epoch changed")
    if cur.scope != scope_key(scope):
        raise reset_required("scope changed")
    if cur.seq > top:
        raise reset_required("cursor ahead of the server (restored from a backup?)")
    if cur.seq:
        row = session.get(SyncChange, cur.seq)
        if row is None or _check(session, row) != cur.check:
            raise reset_required("cursor names another change (restored from a backup?)")
    return cur.seq


# past this many branches one OR query is cheaper than a branch per district and site
MAX_PAGE_BRANCHES = 32
_feed = SyncChange.__table__
PAGE_COLUMNS = (_feed.c.seq, _feed.c.kind, _feed.c.entity_id, _feed.c.op)


def _branches(scope: Scope) -> list[Any] | None:
    """One WHERE clause per index range a scope's page reads: the rows every user gets
    (``district_id IS NULL``, then ``site_id IS NULL``), and one per district and site. Each is
    an equality on the first column of a ``(…, seq)`` index, so each branch is read in seq
    order from its index and stops at the page size; an ``IN`` or ``OR`` over them made the
    databases read every visible row after the cursor and sort it."""
    if scope.everything:
        return [true()]
    shared = and_(_feed.c.district_id.is_(None), _feed.c.site_id.is_(None))
    return (
        [shared]
        + [_feed.c.district_id == d for d in sorted(scope.district_ids)]
        + [_feed.c.site_id == s for s in sorted(scope.site_ids)]
    )


def page_query(scope: Scope, after: int, top: int, limit: int) -> Any:
    """The statement ``page`` runs: ``UNION ALL`` of the scope's branches, each ordered by seq
    and cut at ``limit + 1`` (their merge holds the page's first ``limit + 1`` positions)."""
    branches = _branches(scope)
    in_range = and_(_feed.c.seq > after, _feed.c.seq <= top)
    if len(branches) > MAX_PAGE_BRANCHES:
        branches = [visible(scope)]
    parts = [
        select(*PAGE_COLUMNS).where(in_range, b).order_by(_feed.c.seq).limit(limit + 1).subquery()
        for b in branches
    ]
    if len(parts) == 1:
        return select(*parts[0].c)
    return union_all(*(select(*p.c) for p in parts))


def page(session: Session, scope: Scope, after: int, top: int, limit: int) -> list[Row[Any]]:
    """Up to ``limit + 1`` visible changes after ``after`` and no later than ``top`` (a
    position read before this query, so every change up to it has committed), as plain
    ``(seq, kind, entity_id, op)`` rows. A change both in a district and a site of the scope
    comes from two branches; it is kept once."""
    rows = session.connection().execute(page_query(scope, after, top, limit)).all()
    rows.sort(key=lambda r: r[0])
    out: list[Row[Any]] = []
    last = None
    for r in rows:
        if r[0] != last:
            out.append(r)
            last = r[0]
            if len(out) > limit:
                break
    return out
