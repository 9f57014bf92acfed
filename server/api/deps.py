"""Request dependencies: the session, the clock's now, and the authenticated caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from server.auth import security
from server.auth.scope import scope_of
from server.auth.service import session_is_live
from server.context import Caller
from server.settings import Settings
from server.users.models import User
from shared.errors import DomainError
from shared.roles import Role

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def get_now(request: Request) -> datetime:
    return request.app.state.clock.now()


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

_UNAUTHENTICATED = DomainError.of(
    "not_authenticated", "请先登录", "authentication required", status=401
)


def current_caller(
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> Caller:
    if not token:
        raise _UNAUTHENTICATED
    claims = security.decode_access_token(token, settings.secret_key, now)
    if claims is None or not session_is_live(
        session, claims["sid"], user_id=claims["sub"], now=now
    ):
        raise _UNAUTHENTICATED
    user = session.get(User, claims["sub"])
    if user is None or not user.active:
        raise _UNAUTHENTICATED
    return Caller(user=user, scope=scope_of(session, user), session_id=claims["sid"])


CallerDep = Annotated[Caller, Depends(current_caller)]


def require(*roles: Role) -> Callable[[Caller], Caller]:
    """A dependency that lets only these roles through (403 with a readable reason)."""

    def check(caller: CallerDep) -> Caller:
        if caller.role not in roles:
            raise DomainError.of(
                "forbidden",
                "您的角色无权执行此操作",
                f"role '{caller.role}' may not do this",
                status=403,
            )
        return caller

    return check


OfficerDep = Annotated[Caller, Depends(require(Role.officer, Role.admin))]
AdminDep = Annotated[Caller, Depends(require(Role.admin))]
