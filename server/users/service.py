"""User administration: roles, scope (districts or sites) and devices."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server import paging
from server.auth.security import hash_password
from server.sites.models import District, Site
from server.users.models import AuthSession, Device, User, UserDistrict, UserSite
from shared.errors import DomainError, not_found
from shared.roles import Role


def _invalid(field: str, zh: str, en: str) -> DomainError:
    return DomainError.of("invalid_input", zh, en, fields={field: en})


def districts_of(session: Session, user_id: str) -> list[str]:
    return list(
        session.exec(select(UserDistrict.district_id).where(UserDistrict.user_id == user_id)).all()
    )


def sites_of(session: Session, user_id: str) -> list[str]:
    return list(session.exec(select(UserSite.site_id).where(UserSite.user_id == user_id)).all())


def _set_scope(
    session: Session, user: User, district_ids: list[str] | None, site_ids: list[str] | None
) -> None:
    role = Role(user.role)
    if district_ids is not None:
        unknown = [d for d in district_ids if session.get(District, d) is None]
        if unknown:
            raise _invalid("district_ids", "辖区不存在", "unknown district: " + ", ".join(unknown))
        for row in session.exec(select(UserDistrict).where(UserDistrict.user_id == user.id)).all():
            session.delete(row)
        session.flush()
        for d in dict.fromkeys(district_ids):
            session.add(UserDistrict(user_id=user.id, district_id=d))
    if site_ids is not None:
        unknown = [s for s in site_ids if session.get(Site, s) is None]
        if unknown:
            raise _invalid("site_ids", "场所不存在", "unknown site: " + ", ".join(unknown))
        for row in session.exec(select(UserSite).where(UserSite.user_id == user.id)).all():
            session.delete(row)
        session.flush()
        for s in dict.fromkeys(site_ids):
            session.add(UserSite(user_id=user.id, site_id=s))
    session.flush()
    if role == Role.enterprise and not sites_of(session, user.id):
        raise _invalid(
            "site_ids", "企业用户必须绑定至少一个场所", "an enterprise user needs at least one site"
        )
    if role in (Role.inspector, Role.officer, Role.leader) and not districts_of(session, user.id):
        raise _invalid(
            "district_ids", "该角色必须指定辖区", "this role needs at least one district"
        )


def create_user(session: Session, data: dict[str, Any], now: datetime) -> User:
    if session.exec(select(User).where(User.username == data["username"])).first():
        raise DomainError.of(
            "username_taken",
            "用户名已存在",
            "username already taken",
            fields={"username": "already taken"},
        )
    user = User(
        id=str(uuid.uuid4()),
        username=data["username"],
        display_name=data["display_name"],
        role=str(data["role"]),
        unit=data.get("unit", ""),
        phone=data.get("phone", ""),
        email=data.get("email", ""),
        password_hash=hash_password(data["password"]),
        created_at=now,
    )
    session.add(user)
    session.flush()
    _set_scope(session, user, data.get("district_ids") or [], data.get("site_ids") or [])
    session.flush()
    return user


def update_user(session: Session, user_id: str, changes: dict[str, Any], now: datetime) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("用户", "user")
    district_ids = changes.pop("district_ids", None)
    site_ids = changes.pop("site_ids", None)
    password = changes.pop("password", None)
    for key, value in changes.items():
        setattr(user, key, str(value) if key == "role" else value)
    if password:
        user.password_hash = hash_password(password)
    if password or changes.get("active") is False or "role" in changes:
        _revoke_sessions(session, col(AuthSession.user_id) == user.id, now)
    session.add(user)
    _set_scope(session, user, district_ids, site_ids)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.username)).all())


USER_SORTS = {
    "username": User.username,
    "display_name": User.display_name,
    "created_at": User.created_at,
}


def users_page(
    session: Session,
    *,
    role: str | None = None,
    q: str | None = None,
    active: bool | None = None,
    sort: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[User], str | None, int]:
    """The admin's user list, a page at a time (``server.paging``), narrowed by role, a text
    in the username or name, and whether the account is active."""
    query = select(User)
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(col(User.active).is_(active))
    if q:
        like = paging.like_pattern(q)
        query = query.where(
            col(User.username).ilike(like, escape="\\")
            | col(User.display_name).ilike(like, escape="\\")
        )
    order = paging.parse_sort(sort, USER_SORTS, "username")
    return paging.page(session, query, order, User.id, limit=limit, cursor=cursor)


def _revoke_sessions(session: Session, where: Any, now: datetime) -> None:
    for auth in session.exec(
        select(AuthSession).where(where, col(AuthSession.revoked_at).is_(None))
    ).all():
        auth.revoked_at = now
        session.add(auth)


def register_device(session: Session, user: User, data: dict[str, Any], now: datetime) -> Device:
    device = session.get(Device, data["id"])
    if device is not None and device.user_id != user.id:
        raise DomainError.of(
            "device_taken",
            "该设备编号已被其他用户注册",
            "device id registered to another user",
            fields={"id": "registered to another user"},
        )
    if device is not None and device.revoked_at:
        raise DomainError.of("device_revoked", "该设备已停用", "this device has been revoked")
    device = device or Device(id=data["id"], user_id=user.id, registered_at=now)
    device.name = data.get("name", device.name)
    device.app_version = data.get("app_version", device.app_version)
    device.last_seen = now
    session.add(device)
    session.flush()
    return device


def revoke_device(session: Session, user: User, device_id: str, now: datetime) -> Device:
    device = session.get(Device, device_id)
    if device is None or (device.user_id != user.id and user.role != Role.admin):
        raise not_found("设备", "device")
    device.revoked_at = device.revoked_at or now
    session.add(device)
    _revoke_sessions(session, col(AuthSession.device_id) == device_id, now)
    session.flush()
    return device


def list_devices(session: Session, user: User) -> list[Device]:
    q = select(Device).order_by(Device.registered_at)
    if user.role != Role.admin:
        q = q.where(Device.user_id == user.id)
    return list(session.exec(q).all())
