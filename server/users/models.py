"""Users, their scope (districts, or sites for enterprise users), devices, sessions and the
login audit used for throttling."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from server.db import UTCDateTime


class User(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=16, index=True)
    unit: str = Field(default="", max_length=200)  # department or company
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class UserDistrict(SQLModel, table=True):
    __tablename__ = "user_district"
    user_id: str = Field(foreign_key="user.id", primary_key=True, max_length=36)
    district_id: str = Field(foreign_key="district.id", primary_key=True, max_length=32)


class UserSite(SQLModel, table=True):
    __tablename__ = "user_site"
    user_id: str = Field(foreign_key="user.id", primary_key=True, max_length=36)
    site_id: str = Field(foreign_key="site.id", primary_key=True, max_length=36)


class Device(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    name: str = Field(default="", max_length=100)
    app_version: str = Field(default="", max_length=32)
    registered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    last_seen: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AuthSession(SQLModel, table=True):
    """A login: its refresh token (hashed) and whether it was revoked; access JWTs name it."""

    __tablename__ = "auth_session"
    id: str = Field(primary_key=True, max_length=36)
    user_id: str = Field(foreign_key="user.id", index=True, max_length=36)
    device_id: str | None = Field(default=None, foreign_key="device.id", max_length=64)
    refresh_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # the session its refresh token was rotated into: a rotated token shown again either lost
    # its answer on the way (a device-bound session whose successor is unused) or was stolen
    # (the family is revoked)
    replaced_by: str | None = Field(default=None, max_length=36)
    # the tablet's Ed25519 public key (base64url): its refresh needs a proof signed by the
    # private key, which never leaves the tablet (shared/device_proof.py)
    device_key: str | None = Field(default=None, max_length=64)


class UsedProof(SQLModel, table=True):
    """A refresh proof's ``jti``, kept while the proof could still pass as fresh, so it is
    accepted once only."""

    __tablename__ = "used_proof"
    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class LoginAudit(SQLModel, table=True):
    __tablename__ = "login_audit"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, index=True)
    user_id: str | None = Field(default=None, max_length=36)
    success: bool
    reason: str = Field(default="", max_length=64)
    ip: str = Field(default="", max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
