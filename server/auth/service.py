"""Logins, refresh-token rotation, logout and throttling of repeated failures."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from server.auth import security
from server.settings import Settings
from server.users.models import AuthSession, Device, LoginAudit, User
from shared.errors import DomainError

log = logging.getLogger("hazardchain.auth")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def _failures_since_last_success(session: Session, username: str, since: datetime) -> int:
    last_ok = session.exec(
        select(func.max(LoginAudit.at)).where(
            LoginAudit.username == username, LoginAudit.success.is_(True)
        )
    ).one()
    start = max(since, last_ok) if last_ok else since
    return session.exec(
        select(func.count())
        .select_from(LoginAudit)
        .where(
            LoginAudit.username == username,
            LoginAudit.success.is_(False),
            LoginAudit.at > start,
        )
    ).one()


def login(
    session: Session,
    settings: Settings,
    *,
    username: str,
    password: str,
    device_id: str | None,
    ip: str,
    now: datetime,
) -> TokenPair:
    window = now - timedelta(minutes=settings.login_lockout_minutes)
    if _failures_since_last_success(session, username, window) >= settings.login_max_failures:
        log.warning("login throttled", extra={"username": username, "ip": ip})
        raise DomainError.of(
            "too_many_attempts",
            f"登录失败次数过多，请{settings.login_lockout_minutes}分钟后再试",
            f"too many failed logins; try again in {settings.login_lockout_minutes} minutes",
            status=429,
        )
    user = session.exec(select(User).where(User.username == username)).first()
    ok = security.verify_password(user.password_hash if user else security.DUMMY_HASH, password)
    if not user or not ok or not user.active:
        reason = "inactive" if user and ok else "bad_credentials"
        session.add(
            LoginAudit(
                username=username[:64],
                user_id=user.id if user else None,
                success=False,
                reason=reason,
                ip=ip,
                at=now,
            )
        )
        session.commit()
        log.info("login failed", extra={"username": username, "reason": reason, "ip": ip})
        raise DomainError.of(
            "bad_credentials", "用户名或密码错误", "wrong username or password", status=401
        )
    if device_id:
        device_id = _bind_device(session, user, device_id, now)
    session.add(LoginAudit(username=username, user_id=user.id, success=True, ip=ip, at=now))
    pair, _ = _open_session(session, settings, user, device_id, now)
    log.info("login", extra={"user_id": user.id, "role": user.role, "device_id": device_id})
    return pair


def _bind_device(session: Session, user: User, device_id: str, now: datetime) -> str | None:
    """The tablet a login comes from, registered to the user on first sight so an
    administrator can revoke it (a lost tablet). A revoked one logs nobody in; one registered
    to someone else (a shared tablet) is used without binding the session to it."""
    device = session.get(Device, device_id)
    if device is not None and device.revoked_at:
        raise DomainError.of(
            "device_revoked", "该设备已停用", "this device has been revoked", status=403
        )
    if device is None:
        device = Device(id=device_id, user_id=user.id, registered_at=now, name="平板")
    elif device.user_id != user.id:
        return None
    device.last_seen = now
    session.add(device)
    session.flush()  # before the session row that names it (no ORM relationship orders them)
    return device_id


def _open_session(
    session: Session,
    settings: Settings,
    user: User,
    device_id: str | None,
    now: datetime,
    *,
    commit: bool = True,
) -> tuple[TokenPair, str]:
    token, digest = security.new_refresh_token()
    auth = AuthSession(
        id=str(uuid.uuid4()),
        user_id=user.id,
        device_id=device_id,
        refresh_hash=digest,
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_days),
    )
    session.add(auth)
    if commit:
        session.commit()
    else:
        session.flush()
    access = security.mint_access_token(
        user_id=user.id,
        role=user.role,
        session_id=auth.id,
        secret=settings.secret_key,
        now=now,
        minutes=settings.access_token_minutes,
    )
    return TokenPair(access, token, settings.access_token_minutes * 60, user), auth.id


def refresh(
    session: Session, settings: Settings, *, refresh_token: str, now: datetime
) -> TokenPair:
    """Rotate: the old refresh token dies and names its successor.

    A rotated token shown again within ``refresh_grace_seconds``, while its successor is still
    unused, is a tablet whose answer was lost on a bad network: the unused successor is
    revoked and a new pair issued, so the inspector is not logged out in a mine. Shown again
    later (or after the successor was used), it is a stolen copy: every live session descended
    from it is revoked, so the thief's and the owner's tokens both stop and the owner logs in
    again.
    """
    auth = session.exec(
        select(AuthSession).where(
            AuthSession.refresh_hash == security.refresh_digest(refresh_token)
        )
    ).first()
    invalid = DomainError.of(
        "invalid_refresh_token",
        "登录已失效，请重新登录",
        "session expired; log in again",
        status=401,
    )
    if auth is None or auth.expires_at < now:
        raise invalid
    if auth.revoked_at is not None:
        if not _lost_answer(session, settings, auth, now):
            revoked = _revoke_family(session, auth, now)
            session.commit()
            log.warning(
                "refresh token reuse",
                extra={"session_id": auth.id, "user_id": auth.user_id, "revoked": revoked},
            )
            raise invalid
        log.info("refresh retried after a lost answer", extra={"session_id": auth.id})
    user = session.get(User, auth.user_id)
    if user is None or not user.active:
        raise invalid
    if auth.device_id:
        device = session.get(Device, auth.device_id)
        if device is not None and device.revoked_at:
            raise invalid
    pair, successor = _open_session(session, settings, user, auth.device_id, now, commit=False)
    auth.revoked_at = auth.revoked_at or now
    auth.replaced_by = successor
    session.add(auth)
    session.commit()
    return pair


def _lost_answer(session: Session, settings: Settings, auth: AuthSession, now: datetime) -> bool:
    """Rotated moments ago into a successor never used since: the answer did not arrive."""
    if auth.replaced_by is None or now - auth.revoked_at > timedelta(
        seconds=settings.refresh_grace_seconds
    ):
        return False
    successor = session.get(AuthSession, auth.replaced_by)
    if successor is None or successor.revoked_at is not None:
        return False
    successor.revoked_at = now  # it never reached the device
    session.add(successor)
    return True


def _revoke_family(session: Session, auth: AuthSession, now: datetime) -> int:
    """Revoke every live session rotated from ``auth``; returns how many."""
    revoked, seen, current = 0, set(), auth.replaced_by
    while current and current not in seen:
        seen.add(current)
        row = session.get(AuthSession, current)
        if row is None:
            break
        if row.revoked_at is None:
            row.revoked_at = now
            session.add(row)
            revoked += 1
        current = row.replaced_by
    return revoked


def logout(session: Session, *, session_id: str, now: datetime) -> None:
    auth = session.get(AuthSession, session_id)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = now
        session.add(auth)
        session.commit()


def session_is_live(session: Session, session_id: str, now: datetime) -> bool:
    auth = session.get(AuthSession, session_id)
    return auth is not None and auth.revoked_at is None and auth.expires_at > now
