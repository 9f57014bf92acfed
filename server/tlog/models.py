"""Log tables. ``log_leaf`` and ``log_node`` are written only by the flush hook
(``server.tlog.log.record_log_leaves``); ``checkpoint`` only by ``server.tlog.checkpoints``.
None has a foreign key to the chains: the log must outlive whatever is deleted from them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, Text
from sqlmodel import Field, SQLModel

from server.db import JSONType, UTCDateTime


class LogHead(SQLModel, table=True):
    """One row: how many leaves the log holds. Updated inside the appending transaction, after
    the feed clock's lock, so leaf indexes follow commit order."""

    __tablename__ = "log_head"
    id: int = Field(primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    # the right edge's complete subtrees (hex, lowest level first): an append reads no table
    frontier: str = Field(default="", sa_column=Column(Text, nullable=False))


class LogLeaf(SQLModel, table=True):
    """Leaf ``idx`` (0-based): a chain event; ``leaf_hash`` = SHA-256(0x00 || event hash)."""

    __tablename__ = "log_leaf"
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    event_id: str = Field(max_length=36, unique=True)
    hazard_id: str = Field(max_length=36, index=True)
    leaf_hash: str = Field(max_length=64)


class LogNode(SQLModel, table=True):
    """A complete subtree above the leaves: leaves ``[idx * 2**level, (idx + 1) * 2**level)``.
    Any root or proof is a handful of these (``shared.merkle``)."""

    __tablename__ = "log_node"
    level: int = Field(primary_key=True)
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: str = Field(max_length=64)


class Checkpoint(SQLModel, table=True):
    """A signed tree head (``shared.checkpoint`` note). ``reason``: interval | daily | manual."""

    __tablename__ = "log_checkpoint"
    id: int | None = Field(default=None, primary_key=True)
    size: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    root: str = Field(max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reason: str = Field(default="interval", max_length=16)
    note: str = Field(sa_column=Column(Text, nullable=False))
    # its delivery to the external witness's webhook (``server.tlog.webhook``): None when
    # signed with no webhook set, else pending until a run delivers it, then sent
    webhook_state: str | None = Field(default=None, max_length=16, index=True)
    webhook_attempts: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )
    webhook_error: str | None = Field(default=None, sa_column=Column(Text))


class WitnessReport(SQLModel, table=True):
    """A tablet that found the log inconsistent with what it saw before says so here."""

    __tablename__ = "witness_report"
    id: int | None = Field(default=None, primary_key=True)
    user_id: str = Field(max_length=36, index=True)
    device_id: str | None = Field(default=None, max_length=64)
    reason: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
