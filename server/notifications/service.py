"""Notifications stored per user: created by jobs (idempotently), read through the API and by
devices, delivered by channels according to each user's preference."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server import paging
from server.jobs.idempotent import insert_once
from server.notifications.models import Notification, NotificationPreference
from shared.errors import DomainError, not_found

MODES = ("digest", "immediate")


def notify(
    session: Session,
    user_ids: Iterable[str],
    *,
    kind: str,
    title: str,
    body: str,
    key: str,
    now: datetime,
    hazard_id: str | None = None,
) -> int:
    """One notification per user, keyed ``{key}:{user}``; returns how many were new."""
    added = 0
    for user_id in dict.fromkeys(user_ids):
        added += insert_once(
            session,
            Notification,
            {
                "id": str(uuid.uuid4()),
                "user_id": user_id,
                "kind": kind,
                "title": title[:200],
                "body": body[:4000],
                "hazard_id": hazard_id,
                "dedupe_key": f"{key}:{user_id}"[:200],
                "created_at": now,
            },
            ["dedupe_key"],
        )
    return added


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    total: int
    unread: int
    next_cursor: str | None = None


_NEWEST = paging.Sort("-created_at", Notification.created_at, desc=True)


def list_for(
    session: Session,
    user_id: str,
    *,
    unread_only: bool,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
) -> NotificationPage:
    """Newest first, a page at a time (``server.paging``; ``offset`` kept for a release)."""
    base = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        base = base.where(col(Notification.read_at).is_(None))
    unread = session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    ).one()
    rows, nxt, total = paging.page(
        session, base, _NEWEST, Notification.id, limit=limit, cursor=cursor, offset=offset
    )
    return NotificationPage(rows, total, unread, nxt)


def mark_read(session: Session, user_id: str, notification_id: str, now: datetime) -> Notification:
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user_id:
        raise not_found("通知", "notification")
    if n.read_at is None:
        n.read_at = now
        session.add(n)
        session.flush()
    return n


def mark_all_read(session: Session, user_id: str, now: datetime) -> int:
    rows = session.exec(
        select(Notification).where(
            Notification.user_id == user_id, col(Notification.read_at).is_(None)
        )
    ).all()
    for n in rows:
        n.read_at = now
        session.add(n)
    session.flush()
    return len(rows)


def preference_of(session: Session, user_id: str) -> NotificationPreference:
    """The stored preference, or the default (daily digest by email) without storing it."""
    pref = session.get(NotificationPreference, user_id)
    if pref is None:
        pref = NotificationPreference(user_id=user_id, updated_at=None)
    return pref


def set_preference(
    session: Session, user_id: str, changes: dict[str, Any], now: datetime
) -> NotificationPreference:
    if "mode" in changes and changes["mode"] not in MODES:
        raise DomainError.of(
            "invalid_input",
            "通知方式必须是每日汇总或即时",
            "mode must be digest or immediate",
            fields={"mode": "digest or immediate"},
        )
    pref = session.get(NotificationPreference, user_id) or NotificationPreference(
        user_id=user_id, updated_at=now
    )
    for key, value in changes.items():
        setattr(pref, key, value)
    pref.updated_at = now
    session.add(pref)
    session.flush()
    return pref
