"""deliver: hand stored notifications to external channels, per user, as a daily digest
(default) or one by one, then send the outbox with retries.

Enqueueing is idempotent (dedupe keys ``n:{notification}:{channel}`` and
``digest:{user}:{date}:{channel}``) and marks the notifications handed over in the same
transaction. Sending is at-least-once: a crash between a send and its bookkeeping resends, so
every message carries its delivery id (email ``Message-ID``, webhook ``X-HazardChain-Delivery``)
for the receiver to drop duplicates.

Channels are pluggable: ``CHANNELS`` maps a name to a factory taking the settings and returning
a channel (or None when it is not configured)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import httpx
from sqlmodel import Session, col, select

from server.jobs.days import local_date, local_time_on
from server.jobs.idempotent import insert_once
from server.jobs.registry import Every, job
from server.notifications.models import Notification, NotificationDelivery
from server.notifications.service import preference_of
from server.settings import Settings, get_settings
from server.uow import checkpoint
from server.users.models import User
from shared.clock import to_iso

log = logging.getLogger("hazardchain.jobs")
SEND_BATCH = 200
TIMEOUT = 10.0


class Channel(Protocol):
    def send(self, delivery: NotificationDelivery) -> None:
        """Deliver or raise; the caller records the outcome."""
        ...


class EmailChannel:
    """Plain-text email through an SMTP relay (STARTTLS and login when configured)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, delivery: NotificationDelivery) -> None:
        s = self.settings
        msg = EmailMessage()
        msg["Subject"] = delivery.subject
        msg["From"] = s.smtp_from
        msg["To"] = delivery.target
        msg["Message-ID"] = f"<{delivery.id}@hazardchain>"
        msg.set_content(delivery.body)
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(msg)


class WebhookChannel:
    """JSON POST to the user's URL, signed with HMAC-SHA256 when a secret is set."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.webhook_secret

    def send(self, delivery: NotificationDelivery) -> None:
        body = json.dumps(
            {
                "delivery_id": delivery.id,
                "kind": delivery.kind,
                "user_id": delivery.user_id,
                "subject": delivery.subject,
                "body": delivery.body,
                "notification_ids": delivery.notification_ids,
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", "X-HazardChain-Delivery": delivery.id}
        if self.secret:
            sig = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-HazardChain-Signature"] = f"sha256={sig}"
        r = httpx.post(delivery.target, content=body, headers=headers, timeout=TIMEOUT)
        r.raise_for_status()


CHANNELS: dict[str, Callable[[Settings], Channel | None]] = {
    "email": lambda s: EmailChannel(s) if s.smtp_host else None,
    "webhook": lambda s: WebhookChannel(s),
}


def _targets(session: Session, user_id: str, channels: dict[str, Channel]) -> dict[str, str]:
    """Where this user's messages go, per configured channel."""
    pref = preference_of(session, user_id)
    user = session.get(User, user_id)
    out = {}
    if "email" in channels and pref.email and user is not None and user.email:
        out["email"] = user.email
    if "webhook" in channels and pref.webhook_url:
        out["webhook"] = pref.webhook_url
    return out


def _enqueue(
    session: Session,
    user_id: str,
    targets: dict[str, str],
    *,
    kind: str,
    key: str,
    subject: str,
    body: str,
    ids: list[str],
    now: datetime,
) -> int:
    added = 0
    for channel, target in targets.items():
        added += insert_once(
            session,
            NotificationDelivery,
            {
                "id": str(uuid.uuid4()),
                "user_id": user_id,
                "channel": channel,
                "kind": kind,
                "target": target,
                "subject": subject[:200],
                "body": body[:20000],
                "notification_ids": ids,
                "dedupe_key": f"{key}:{channel}",
                "status": "pending",
                "attempts": 0,
                "last_error": "",
                "created_at": now,
                "next_attempt_at": now,
            },
            ["dedupe_key"],
        )
    return added


def enqueue(session: Session, now: datetime, settings: Settings) -> int:
    """Turn undelivered notifications into deliveries: immediate users now, digest users once
    a day at ``digest_time`` with everything stored before it."""
    channels = {n: c for n, f in CHANNELS.items() if (c := f(settings)) is not None}
    today = local_date(now, settings.timezone)
    digest_at = local_time_on(today, settings.digest_time, settings.timezone)
    pending = session.exec(
        select(Notification)
        .where(col(Notification.delivered_at).is_(None))
        .where(col(Notification.created_at) <= now)
        .order_by(Notification.user_id, Notification.created_at)
    ).all()
    by_user: dict[str, list[Notification]] = defaultdict(list)
    for n in pending:
        by_user[n.user_id].append(n)
    queued = 0
    for user_id, items in by_user.items():
        mode = preference_of(session, user_id).mode
        targets = _targets(session, user_id, channels)
        if mode == "immediate":
            handed = items
            for n in items:
                queued += _enqueue(
                    session,
                    user_id,
                    targets,
                    kind="immediate",
                    key=f"n:{n.id}",
                    subject=n.title,
                    body=n.body,
                    ids=[n.id],
                    now=now,
                )
        else:
            handed = [n for n in items if n.created_at < digest_at] if now >= digest_at else []
            if handed:
                lines = [
                    f"· {n.title}\n  {n.body.splitlines()[0] if n.body else ''}" for n in handed
                ]
                added = _enqueue(
                    session,
                    user_id,
                    targets,
                    kind="digest",
                    key=f"digest:{user_id}:{today.isoformat()}",
                    subject=f"隐患一条链每日汇总 {today.isoformat()}（{len(handed)}条）",
                    body="\n".join(lines),
                    ids=[n.id for n in handed],
                    now=now,
                )
                queued += added
                if targets and not added:
                    # today's digest has gone; stragglers wait for tomorrow's
                    handed = []
        for n in handed:
            n.delivered_at = now
            session.add(n)
        checkpoint(session)
    return queued


def send_pending(session: Session, now: datetime, settings: Settings) -> tuple[int, int]:
    """Send what is due; each outcome is committed at once so a crash resends at most one."""
    channels = {n: c for n, f in CHANNELS.items() if (c := f(settings)) is not None}
    due = session.exec(
        select(NotificationDelivery)
        .where(NotificationDelivery.status == "pending")
        .where(col(NotificationDelivery.next_attempt_at) <= now)
        .order_by(NotificationDelivery.created_at, NotificationDelivery.id)
        .limit(SEND_BATCH)
    ).all()
    sent = failed = 0
    for d in due:
        channel = channels.get(d.channel)
        try:
            if channel is None:
                raise RuntimeError(f"channel {d.channel} is not configured")
            channel.send(d)
        except Exception as exc:  # any failure is recorded and retried with backoff
            d.attempts += 1
            d.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            d.next_attempt_at = now + timedelta(minutes=min(2**d.attempts, 120))
            if d.attempts >= settings.delivery_max_attempts:
                d.status = "failed"
                failed += 1
            log.warning(
                "delivery failed",
                extra={"delivery": d.id, "channel": d.channel, "attempts": d.attempts},
            )
        else:
            d.status = "sent"
            d.sent_at = now
            d.attempts += 1
            sent += 1
        session.add(d)
        checkpoint(session)
    if sent or failed:
        log.info("deliveries", extra={"sent": sent, "failed": failed, "now": to_iso(now)})
    return sent, failed


@job("deliver", Every("deliver_minutes"))
def deliver(session: Session, now: datetime, settings: Settings | None = None) -> dict[str, int]:
    settings = settings or get_settings()
    queued = enqueue(session, now, settings)
    sent, failed = send_pending(session, now, settings)
    return {"queued": queued, "sent": sent, "failed": failed}
