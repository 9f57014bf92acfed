"""Login, token refresh, logout and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from server.api.deps import CallerDep, NowDep, SessionDep, SettingsDep, UnitOfWorkRoute
from server.api.errors import error_responses
from server.auth import service
from server.auth.schemas import RefreshIn, TokenIn, TokenOut
from server.users.schemas import Me, user_public
from shared.device_proof import MAX_PROOF_CHARS

router = APIRouter(tags=["auth"], route_class=UnitOfWorkRoute)


def _out(session, pair: service.TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=user_public(session, pair.user),
    )


_TOKEN_SCHEMA = TokenIn.model_json_schema()


async def token_input(request: Request) -> TokenIn:
    """The login's fields from either body; their complaints are the usual field-level 422."""
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            raw = await request.json()
        except ValueError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
            ) from None
    else:
        form = await request.form()
        raw = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
    if not isinstance(raw, dict):
        raise RequestValidationError(
            [{"type": "dict_type", "loc": ("body",), "msg": "Input should be an object"}]
        )
    try:
        return TokenIn.model_validate(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Log in (OAuth2 password flow; form or JSON)",
    responses=error_responses(429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _TOKEN_SCHEMA},
                "application/json": {"schema": _TOKEN_SCHEMA},
            },
        }
    },
)
def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    body: Annotated[TokenIn, Depends(token_input)],
) -> TokenOut:
    pair = service.login(
        session,
        settings,
        username=body.username[:64],
        password=body.password[:200],
        device_id=body.device_id or body.client_id,
        ip=request.client.host if request.client else "",
        now=now,
        device_key=body.device_key or None,
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
