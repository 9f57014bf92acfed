"""User administration (admin) and device registration (everyone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import AdminDep, CallerDep, NowDep, SessionDep, UnitOfWorkRoute
from server.schemas import ShortText
from server.users import service
from server.users.schemas import (
    DeviceIn,
    DevicePublic,
    UserCreate,
    UserPage,
    UserPublic,
    UserUpdate,
    user_public,
)
from shared.errors import DomainError
from shared.roles import Role

router = APIRouter(tags=["users"], route_class=UnitOfWorkRoute)


def _no_system(role: Role | None) -> None:
    if role is Role.system:
        raise DomainError.of(
            "invalid_input",
            "不能创建系统角色用户",
            "role 'system' is not a login role",
            fields={"role": "not a login role"},
        )


@router.get("/users", response_model=UserPage)
def list_users(
    _: AdminDep,
    session: SessionDep,
    role: Role | None = None,
    q: Annotated[ShortText | None, Query(description="in the username or name")] = None,
    active: bool | None = None,
    sort: Annotated[
        str | None,
        Query(
            max_length=40,
            description="username (default), display_name, created_at; - for descending",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> UserPage:
    rows, nxt, total = service.users_page(
        session, role=role, q=q, active=active, sort=sort, limit=limit, cursor=cursor
    )
    return UserPage(items=[user_public(session, u) for u in rows], next_cursor=nxt, total=total)


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, _: AdminDep, session: SessionDep, now: NowDep) -> UserPublic:
    _no_system(body.role)
    return user_public(session, service.create_user(session, body.model_dump(), now))


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(
    user_id: str, body: UserUpdate, _: AdminDep, session: SessionDep, now: NowDep
) -> UserPublic:
    _no_system(body.role)
    changes = body.model_dump(exclude_unset=True)
    return user_public(session, service.update_user(session, user_id, changes, now))


@router.get("/devices", response_model=list[DevicePublic])
def list_devices(caller: CallerDep, session: SessionDep) -> list[DevicePublic]:
    return [
        DevicePublic.model_validate(d, from_attributes=True)
        for d in service.list_devices(session, caller.user)
    ]


@router.post("/devices", response_model=DevicePublic, status_code=201)
def register_device(
    body: DeviceIn, caller: CallerDep, session: SessionDep, now: NowDep
) -> DevicePublic:
    device = service.register_device(session, caller.user, body.model_dump(), now)
    return DevicePublic.model_validate(device, from_attributes=True)


@router.delete("/devices/{device_id}", response_model=DevicePublic)
def revoke_device(
    device_id: str, caller: CallerDep, session: SessionDep, now: NowDep
) -> DevicePublic:
    device = service.revoke_device(session, caller.user, device_id, now)
    return DevicePublic.model_validate(device, from_attributes=True)
