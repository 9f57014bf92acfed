"""Hazards: the append-only hashed event chain and the projection folded from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime
from shared.chain import DEADLINE_STATES, OPEN_STATES


class Hazard(SQLModel, table=True):
    """Read model of a chain; always rewritten from ``shared.chain.fold`` in the same
    transaction as the event, never edited on its own."""

    __table_args__ = (
        Index("ix_hazard_reported_keyset", "reported_at", "id"),
        Index("ix_hazard_open_deadline", "state", "deadline"),
        Index("ux_hazard_number", "number", unique=True),
    )
    id: str = Field(primary_key=True, max_length=36)
    # 隐患编号 (shared.numbers), allocated at creation; never changes, never reused
    number: str | None = Field(default=None, max_length=32)
    # no single-column indexes on site_id, district_id, state (each leads a composite index
    # below) nor on the few-valued columns no query reads alone (migration 0018_hazard_indexes)
    site_id: str = Field(foreign_key="site.id", max_length=36)
    district_id: str = Field(foreign_key="district.id", max_length=32)
    industry: str = Field(max_length=32)
    severity: str = Field(max_length=16)
    state: str = Field(max_length=16)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=4000)
    reported_by: str = Field(max_length=36)
    reported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    responsible_unit: str | None = Field(default=None, max_length=4000)
    responsible_person: str | None = Field(default=None, max_length=4000)
    responsible_user_id: str | None = Field(default=None, max_length=36)
    deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    overdue: bool = False
    escalation_level: int = 0
    # ``shared.events.acts_next`` of the fold, space-separated ("enterprise officer"), and the
    # roles a 批示 awaits 签收 from: the queues' "待我处理" and their pending-instruction mark
    next_roles: str = Field(default="", max_length=64)
    instruction_for: str = Field(default="", max_length=64)
    plan_complete: bool = False
    # 自查自改 (``shared.chain.ORIGINS``): who found it, from the chain's first event; closed by
    # the enterprise itself; its 抽查 ("drawn", "passed", "reopened"; None: not drawn)
    origin: str = Field(default="regulator", max_length=16, index=True)
    self_closed: bool = False
    spot_check: str | None = Field(default=None, max_length=16, index=True)
    matter_id: str | None = Field(default=None, foreign_key="matter.id", max_length=64)
    link_id: str | None = Field(default=None, foreign_key="matter_link.id", max_length=64)
    inspection_id: str | None = Field(default=None, max_length=36)
    event_count: int = 0
    last_hash: str = Field(max_length=64)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # the fold at ``last_hash`` (``server.hazards.service.head_of``): an append folds one step
    # on from it; None (rows older than migration 0015) means "fold the chain"
    head: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))


class HazardEvent(SQLModel, table=True):
    """One link of a chain. Columns hold exactly what was hashed (times as ISO text)."""

    __tablename__ = "hazard_event"
    __table_args__ = (UniqueConstraint("hazard_id", "seq", name="uq_hazard_event_hazard_seq"),)
    id: str = Field(primary_key=True, max_length=36)
    hazard_id: str = Field(foreign_key="hazard.id", index=True, max_length=36)
    seq: int
    type: str = Field(max_length=32, index=True)
    actor_id: str = Field(max_length=36)
    actor_role: str = Field(max_length=16)
    at: str = Field(max_length=32, index=True)
    device_time: str | None = Field(default=None, max_length=40)
    payload: dict[str, Any] = Field(sa_column=Column(JSONType, nullable=False))
    next_owner: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    next_deadline: str | None = Field(default=None, max_length=32)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    device_id: str | None = Field(default=None, max_length=64)


class Attachment(SQLModel, table=True):
    """A photo or signature, addressed by the SHA-256 of its bytes. ``uploaded_by`` is who
    first announced or sent it (for the log); who may use it is ``BlobOwner``'s and the
    citations' business, never the hash's."""

    sha256: str = Field(primary_key=True, max_length=64)
    mime: str = Field(default="", max_length=64)
    size: int = 0
    received: int = 0
    complete: bool = False
    uploaded_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class BlobOwner(SQLModel, table=True):
    """A user who sent the server a blob's bytes (or, for blobs older than migration 0009,
    its recorded uploader): they may see and cite it. Several users may send the same bytes;
    each becomes an owner by sending them, none by naming the hash."""

    __tablename__ = "blob_owner"
    sha256: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(primary_key=True, max_length=36, index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class HazardPhoto(SQLModel, table=True):
    """Which hazard cites which blob; lets a blob download be checked against scope.

    A link grants the photo to the hazard's scope only when ``waiting_for`` is null. A citer
    who neither owns the blob nor can see it (an unknown hash, or someone else's) gets a link
    waiting for them: it grants nothing until that user sends the bytes themselves."""

    __tablename__ = "hazard_photo"
    hazard_id: str = Field(foreign_key="hazard.id", primary_key=True, max_length=36)
    sha256: str = Field(primary_key=True, max_length=64, index=True)
    waiting_for: str | None = Field(default=None, max_length=36)


# Indexes for the scans of the jobs and the console, kept with the table they index (the
# metadata, and so Alembic's autogenerate, must know them; created by migrations 0003 and 0005).
_STATES = ", ".join(f"'{s.value}'" for s in sorted(DEADLINE_STATES))
_UNFLAGGED_DUE = f"overdue IS false AND state IN ({_STATES})"
_BELOW_CITY = f"escalation_level < 2 AND state IN ({_STATES})"
_T = Hazard.__table__.c

# flag_overdue reads only hazards in a deadline state not yet flagged: a run costs what falls
# due, not what is overdue already or the table's size
hazard_unflagged_due = Index(
    "ix_hazard_unflagged_due",
    _T.deadline,
    _T.id,
    postgresql_where=text(_UNFLAGGED_DUE),
    sqlite_where=text(_UNFLAGGED_DUE),
)
# escalate reads only hazards in a deadline state not yet supervised by the city
hazard_below_city = Index(
    "ix_hazard_below_city",
    _T.deadline,
    _T.id,
    postgresql_where=text(_BELOW_CITY),
    sqlite_where=text(_BELOW_CITY),
)
# the console's work queue filters by district and state and sorts by severity, deadline and
# report time; with the id in the index a page is read from the index alone
hazard_queue = Index(
    "ix_hazard_queue", _T.district_id, _T.state, _T.severity, _T.deadline, _T.reported_at, _T.id
)
# open hazards per site for the dashboard's four-colour picture: one pass in group order
hazard_open_site = Index("ix_hazard_open_site", _T.site_id, _T.state, _T.severity)
# Open hazards only (a seventh of the table, or less): the work queue's page, its tab counts
# and the dashboard's supervised list and four-colour picture read this index and never the
# table on PostgreSQL (every column they filter, sort or count by is in it), so their cost
# follows the open hazards in scope, not the rows stored (migration 0026_summsql).
_OPEN = ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES))
hazard_open_work = Index(
    "ix_hazard_open_work",
    _T.district_id, _T.state, _T.severity, _T.deadline, _T.reported_at, _T.id,
    postgresql_include=["overdue", "escalation_level", "next_roles", "site_id",
                        "responsible_user_id", "industry", "updated_at", "closed_at"],
    postgresql_where=text(f"state IN ({_OPEN})"),
    sqlite_where=text(f"state IN ({_OPEN})"),
)  # fmt: skip
# What changed after a moment: the summary's hazards to fold back (none, for today's live
# figures), and the hazards finished since its window began, counted from the index alone on
# PostgreSQL (the columns the summary's aggregates read are included).
hazard_updated = Index(
    "ix_hazard_updated_at",
    _T.updated_at,
    postgresql_include=["state", "district_id", "industry", "severity", "reported_at",
                        "closed_at", "deadline", "escalation_level"],
)  # fmt: skip
