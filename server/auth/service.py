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
        device = session.get(Device, device_id)
        if device is not None and (device.user_id != user.id or device.revoked_at):
            raise DomainError.of(
                "device_revoked", "该设备已停用", "this device has been revoked", status=403
            )
        if device is None:
            device_id = None
    session.add(LoginAudit(username=username, user_id=user.id, success=True, ip=ip, at=now))
    pair = _open_session(session, settings, user, device_id, now)
    log.info("login", extra={"user_id": user.id, "role": user.role, "device_id": device_id})
    return pair


def _open_session(
    session: Session, settings: Settings, user: User, device_id: str | None, now: datetime
) -> TokenPair:
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
    session.commit()
    access = security.mint_access_token(
        user_id=user.id,
        role=user.role,
        session_id=auth.id,
        secret=settings.secret_key,
        now=now,
        minutes=settings.access_token_minutes,
    )
    return TokenPair(access, token, settings.access_token_minutes * 60, user)


def refresh(
    session: Session, settings: Settings, *, refresh_token: str, now: datetime
) -> TokenPair:
    """Rotate: the old refresh token dies; a reused one revokes the whole session family."""
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
        log.warning("refresh token reuse", extra={"session_id": auth.id, "user_id": auth.user_id})
        raise invalid
    user = session.get(User, auth.user_id)
    if user is None or not user.active:
        raise invalid
    if auth.device_id:
        device = session.get(Device, auth.device_id)
        if device is not None and device.revoked_at:
            raise invalid
    auth.revoked_at = now
    session.add(auth)
    return _open_session(session, settings, user, auth.device_id, now)


def logout(session: Session, *, session_id: str, now: datetime) -> None:
    auth = session.get(AuthSession, session_id)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = now
        session.add(auth)
        session.commit()


def session_is_live(session: Session, session_id: str, now: datetime) -> bool:
    auth = session.get(AuthSession, session_id)
    return auth is not None and auth.revoked_at is None and auth.expires_at > now
