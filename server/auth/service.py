"""Logins, refresh-token rotation, logout and throttling of repeated failures."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlmodel import Session, select

from server.auth import security
from server.auth.proof import check_fresh, spend
from server.settings import Settings
from server.uow import keep_on_refusal
from server.users.models import AuthSession, Device, LoginAudit, User
from shared import device_proof
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
    device_key: str | None = None,
) -> TokenPair:
    """``device_key``: the tablet's public key (``shared.device_proof``); the session it opens
    then refreshes only with proofs signed by the matching private key."""
    window = now - timedelta(minutes=settings.login_lockout_minutes)
    if _failures_since_last_success(session, username, window) >= settings.login_max_failures:
        log.warning("login throttled", extra={"username": username, "ip": ip})
        raise DomainError.of(
            "too_many_attempts",
            f"登录失败次数过多，请{settings.login_lockout_minutes}分钟后再试",
            f"too many failed logins; try again in {settings.login_lockout_minutes} minutes",
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
        keep_on_refusal(session)  # the failed attempt counts towards the lockout
        log.info("login failed", extra={"username": username, "reason": reason, "ip": ip})
        raise DomainError.of("bad_credentials", "用户名或密码错误", "wrong username or password")
    if device_id:
        device_id = _bind_device(session, user, device_id, now)
    session.add(LoginAudit(username=username, user_id=user.id, success=True, ip=ip, at=now))
    pair, _ = _open_session(session, settings, user, device_id, device_key, now)
    log.info(
        "login",
        extra={
            "user_id": user.id,
            "role": user.role,
            "device_id": device_id,
            "device_bound": device_key is not None,
        },
    )
    return pair


def _bind_device(session: Session, user: User, device_id: str, now: datetime) -> str | None:
    """The tablet a login comes from, registered to the user on first sight so an
    administrator can revoke it (a lost tablet). A revoked one logs nobody in; one registered
    to someone else (a shared tablet) is used without binding the session to it."""
    device = session.get(Device, device_id)
    if device is not None and device.revoked_at:
        raise DomainError.of("device_revoked", "该设备已停用", "this device has been revoked")
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
    device_key: str | None,
    now: datetime,
) -> tuple[TokenPair, str]:
    token, digest = security.new_refresh_token()
    auth = AuthSession(
        id=str(uuid.uuid4()),
        user_id=user.id,
        device_id=device_id,
        device_key=device_key,
        refresh_hash=digest,
        created_at=now,
        expires_at=now + timedelta(days=settings.refresh_token_days),
    )
    session.add(auth)
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
    session: Session,
    settings: Settings,
    *,
    refresh_token: str,
    proof: str | None = None,
    path: str = "/api/v1/auth/refresh",
    now: datetime,
) -> TokenPair:
    """Rotate: the old refresh token dies and names its successor.

    A device-bound session (a tablet that logged in with its key) refreshes only with a fresh,
    single-use proof signed by that key, so a copied token is useless: shown without a valid
    proof, or with a proof already used, it revokes every session rotated from it (the owner
    logs in again). With a valid proof, a rotated token whose successor was never used is a
    tablet whose answer was lost, however long it has been offline since: the unused successor
    is revoked and a new pair issued. Once the successor was used, it is a copy, and the family
    is revoked.

    A session naming a device but no key (opened before device keys, or by an old app) cannot
    refresh: the tablet logs in again and binds a key. A session naming neither (a script with
    the API) rotates as a plain bearer token: any reuse revokes the family.
    """
    auth = session.exec(
        select(AuthSession).where(
            AuthSession.refresh_hash == security.refresh_digest(refresh_token)
        )
    ).first()
    if auth is None or auth.expires_at < now:
        raise _invalid_refresh()
    if auth.device_key:
        _check_proof(session, settings, auth, proof, refresh_token, path, now)
    elif auth.device_id:
        log.info("refresh without a device key", extra={"session_id": auth.id})
        raise DomainError.of(
            "device_key_required",
            "本平板需重新登录一次以绑定设备密钥，平板上的数据不会丢失",
            "this tablet must log in again once to bind its device key; nothing on it is lost",
        )
    if auth.revoked_at is not None:
        if not (auth.device_key and _lost_answer(session, auth, now)):
            _refuse_family(session, auth, now, "refresh token reuse")
        log.info("refresh retried after a lost answer", extra={"session_id": auth.id})
    user = session.get(User, auth.user_id)
    if user is None or not user.active:
        raise _invalid_refresh()
    if auth.device_id:
        device = session.get(Device, auth.device_id)
        if device is not None and device.revoked_at:
            raise _invalid_refresh()
    pair, successor = _open_session(session, settings, user, auth.device_id, auth.device_key, now)
    auth.revoked_at = auth.revoked_at or now
    auth.replaced_by = successor
    session.add(auth)
    return pair


def _invalid_refresh(code: str = "invalid_refresh_token") -> DomainError:
    return DomainError.of(code, "登录已失效，请重新登录", "session expired; log in again")


def _check_proof(
    session: Session,
    settings: Settings,
    auth: AuthSession,
    compact: str | None,
    refresh_token: str,
    path: str,
    now: datetime,
) -> None:
    """The key's holder asks, now, once: else the token was copied (its family is revoked),
    except for a proof that is merely stale (a tablet's clock: it signs again with a nonce)."""
    try:
        claims = device_proof.read_proof(compact or "", auth.device_key or "")
        if claims.htm != "POST" or claims.rth != device_proof.token_hash(refresh_token):
            raise ValueError("proof made for another request")
        # the path only: a reverse proxy may change scheme, host and a leading prefix
        if not urlsplit(claims.htu).path.endswith(path):
            raise ValueError("proof made for another URL")
    except ValueError as exc:
        _refuse_family(session, auth, now, f"refresh without a valid device proof: {exc}")
    check_fresh(settings, claims, now)
    if not spend(session, settings, claims, now):
        _refuse_family(session, auth, now, "device proof replayed", code="proof_replayed")


def _refuse_family(
    session: Session, auth: AuthSession, now: datetime, why: str, code: str = ""
) -> NoReturn:
    """A copied token: revoke it and every session rotated from it, then refuse."""
    revoked = _revoke_family(session, auth, now)
    keep_on_refusal(session)  # the revocation stands though the request is refused
    log.warning(why, extra={"session_id": auth.id, "user_id": auth.user_id, "revoked": revoked})
    raise _invalid_refresh(code or "invalid_refresh_token")


def _lost_answer(session: Session, auth: AuthSession, now: datetime) -> bool:
    """Rotated into a successor never used since: the answer did not arrive."""
    if auth.replaced_by is None:
        return False
    successor = session.get(AuthSession, auth.replaced_by)
    if successor is None or successor.revoked_at is not None:
        return False
    successor.revoked_at = now  # it never reached the device
    session.add(successor)
    return True


def _revoke_family(session: Session, auth: AuthSession, now: datetime) -> int:
    """Revoke ``auth`` and every live session rotated from it; returns how many."""
    revoked, seen, current = 0, set(), auth.id
    while current and current not in seen:
        seen.add(current)
        row = auth if current == auth.id else session.get(AuthSession, current)
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


def session_is_live(session: Session, session_id: str, *, user_id: str, now: datetime) -> bool:
    """The session is open and is ``user_id``'s: an access token or cookie naming one user and
    another user's session is refused (the claims are signed, but one check costs nothing)."""
    auth = session.get(AuthSession, session_id)
    return (
        auth is not None
        and auth.user_id == user_id
        and auth.revoked_at is None
        and auth.expires_at > now
    )
