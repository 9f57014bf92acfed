"""Login, token refresh, logout and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from server.api.deps import CallerDep, NowDep, SessionDep, SettingsDep, UnitOfWorkRoute
from server.api.errors import error_responses
from server.auth import service
from server.users.schemas import Me, UserPublic, user_public
from shared.device_proof import KEY_PATTERN, MAX_PROOF_CHARS

router = APIRouter(tags=["auth"], route_class=UnitOfWorkRoute)


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserPublic


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


def _out(session, pair: service.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=user_public(session, pair.user),
    )


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Log in (OAuth2 password flow)",
    responses=error_responses(429),
)
def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    device_id: Annotated[
        str | None, Form(max_length=64, pattern=r"^[A-Za-z0-9_.:\-]{8,64}$")
    ] = None,
    device_key: Annotated[
        str | None,
        Form(
            pattern=KEY_PATTERN,
            description="the tablet's Ed25519 public key (32 bytes, base64url): the session "
            "then refreshes only with proofs signed by its private key (docs/sync.md)",
        ),
    ] = None,
) -> TokenOut:
    pair = service.login(
        session,
        settings,
        username=form.username[:64],
        password=form.password[:200],
        device_id=device_id or form.client_id,
        ip=request.client.host if request.client else "",
        now=now,
        device_key=device_key or None,
    )
    return _out(session, pair)


@router.post("/auth/refresh", response_model=TokenOut)
def refresh(
    request: Request,
    body: RefreshIn,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    dpop: Annotated[
        str | None,
        Header(
            alias="DPoP",
            max_length=MAX_PROOF_CHARS,
            description="a tablet session's proof of its device key (docs/sync.md); a "
            "``stale_proof`` answer carries a ``DPoP-Nonce`` to sign again with",
        ),
    ] = None,
) -> TokenOut:
    pair = service.refresh(
        session,
        settings,
        refresh_token=body.refresh_token,
        proof=dpop,
        path=request.url.path,
        now=now,
    )
    return _out(session, pair)


@router.post("/auth/logout", status_code=204)
def logout(caller: CallerDep, session: SessionDep, now: NowDep) -> None:
    service.logout(session, session_id=caller.session_id, now=now)


@router.get("/me", response_model=Me)
def me(caller: CallerDep, session: SessionDep, settings: SettingsDep) -> Me:
    return Me(**user_public(session, caller.user).model_dump(), timezone=settings.timezone)
