"""User and device shapes on the wire; password hashes never leave the server."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlmodel import Session

from server.schemas import Patch, ShortText, Text
from server.users.models import User
from server.users.service import districts_of, sites_of
from shared.roles import Role

LoginRole = Role  # validated below: system is not a login role


class UserPublic(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    unit: str
    phone: str
    email: str
    active: bool
    district_ids: list[str]
    site_ids: list[str]


class Me(UserPublic):
    """The caller, with the deployment's zone: tasks and summaries count local days there,
    and a tablet set to another zone must count the same days."""

    timezone: str


def user_public(session: Session, user: User) -> UserPublic:
    return UserPublic(
        **user.model_dump(
            include={"id", "username", "display_name", "role", "unit", "phone", "email", "active"}
        ),
        district_ids=districts_of(session, user.id),
        site_ids=sites_of(session, user.id),
    )


Username = Text(64, 3)
Password = Text(200, 8)


class UserCreate(BaseModel):
    username: Username = Field(pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: Text(100, 1)
    role: Role
    password: Password
    unit: ShortText = ""
    phone: Text(40) = ""
    email: Text(200) = ""
    district_ids: list[Text(32, 1)] = Field(default_factory=list, max_length=100)
    site_ids: list[Text(36, 1)] = Field(default_factory=list, max_length=1000)


class UserUpdate(Patch):
    display_name: Text(100, 1) | None = None
    role: Role | None = None
    password: Password | None = None
    unit: ShortText | None = None
    phone: Text(40) | None = None
    email: Text(200) | None = None
    active: bool | None = None
    district_ids: list[Text(32, 1)] | None = Field(default=None, max_length=100)
    site_ids: list[Text(36, 1)] | None = Field(default=None, max_length=1000)


class DeviceIn(BaseModel):
    id: Text(64, 8) = Field(pattern=r"^[A-Za-z0-9_.:\-]+$")
    name: Text(100) = ""
    app_version: Text(32) = ""


class DevicePublic(BaseModel):
    id: str
    user_id: str
    name: str
    app_version: str
    registered_at: datetime
    last_seen: datetime | None
    revoked_at: datetime | None


class UserPage(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None
    total: int
