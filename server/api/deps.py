"""Request dependencies: the session, the clock's now, and the authenticated caller."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from server.auth import security
from server.auth.scope import scope_of
from server.auth.service import session_is_live
from server.context import Caller
from server.settings import Settings
from server.uow import RETRIES, RETRYABLE, backoff, end_unit
from server.users.models import User
from shared.errors import DomainError
from shared.roles import Role

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


_SESSION = "hazardchain_session"


class UnitOfWorkRoute(APIRoute):
    """The request is the unit of work: the endpoint runs, then its session commits *before*
    the response goes out, so a failed commit is answered as an error (409/500), never as a
    success already sent; an error rolls everything back; a collision with a concurrent writer
    runs the whole endpoint again (its reads then see the winner's rows). A dependency with
    ``yield`` could not do this: by default FastAPI runs its teardown after the response is
    sent, and nothing can run the endpoint twice (docs/architecture.md §Transactions)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def unit(request: Request) -> Response:
            for attempt in range(RETRIES):
                session = Session(request.app.state.engine, expire_on_commit=False)
                setattr(request.state, _SESSION, session)
                try:
                    response = await handler(request)
                    await run_in_threadpool(end_unit, session, None)
                    return response
                except BaseException as exc:
                    await run_in_threadpool(end_unit, session, exc)  # rolls back
                    if isinstance(exc, RETRYABLE) and attempt < RETRIES - 1:
                        await asyncio.sleep(backoff(attempt))
                        continue
                    answer = self.answer_error(request, exc)
                    if answer is None:
                        raise
                    return answer
                finally:
                    await run_in_threadpool(session.close)
            raise AssertionError("unreachable")

        return unit

    def answer_error(self, request: Request, exc: BaseException) -> Response | None:
        """A response for an error, made after the rollback while the session is still open
        (a page may read the caller again); None lets the app's exception handlers answer."""
        return None


def get_session(request: Request) -> Session:
    """The request's unit of work (opened by ``UnitOfWorkRoute``)."""
    session = getattr(request.state, _SESSION, None)
    if session is None:
        raise RuntimeError(f"{request.url.path}: route without a unit of work (UnitOfWorkRoute)")
    return session


def get_now(request: Request) -> datetime:
    return request.app.state.clock.now()


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
NowDep = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]

_UNAUTHENTICATED = DomainError.of("not_authenticated", "请先登录", "authentication required")


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
            )
        return caller

    return check


OfficerDep = Annotated[Caller, Depends(require(Role.officer, Role.admin))]
AdminDep = Annotated[Caller, Depends(require(Role.admin))]
