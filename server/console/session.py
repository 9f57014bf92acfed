"""Console logins: a signed session cookie over the same ``auth_session`` rows the API uses, and
CSRF protection by a signed double-submit token.

- Login goes through ``server.auth.service.login`` (throttling, audit); the cookie names the
  auth session and the user, signed with HMAC-SHA256 under the server's secret key. Every
  request checks the signature, the cookie's age and that the auth session is still live, so
  logout (or an admin deactivating the user) ends it at once. HttpOnly, SameSite=Lax, Secure
  when the request came over HTTPS.
- CSRF: a random value in an HttpOnly cookie, and in every form a hidden field holding
  HMAC(secret, value | session id). A POST whose field does not match its cookie (or that has
  none) is refused with 403 before any view runs. Binding the token to the session id means a
  token from before login is worthless after it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from server.api.deps import NowDep, SessionDep, SettingsDep
from server.auth import security
from server.auth.scope import scope_of
from server.auth.service import session_is_live
from server.context import Caller
from server.settings import Settings
from server.users.models import User
from shared.roles import Role

SESSION_COOKIE = "hc_console"
CSRF_COOKIE = "hc_csrf"
LANG_COOKIE = "hc_lang"
CSRF_FIELD = "csrf_token"
SESSION_HOURS = 12


class LoginRequired(Exception):
    """No valid console session: the page sends the browser to the login form."""


class CsrfRefused(Exception):
    """A POST without a valid CSRF token."""


class RoleRefused(Exception):
    """A page this role may not open."""


def _key(settings: Settings, purpose: str) -> bytes:
    return hmac.new(settings.secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def _mac(settings: Settings, purpose: str, message: str) -> str:
    digest = hmac.new(_key(settings, purpose), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_cookie_value(settings: Settings, session_id: str, user_id: str) -> str:
    body = f"{session_id}.{user_id}.{int(time.time())}"
    return f"{body}.{_mac(settings, 'console-session', body)}"


def read_session_cookie(settings: Settings, raw: str | None) -> tuple[str, str] | None:
    """(auth session id, user id) of a well-signed, unexpired cookie; None otherwise."""
    if not raw or raw.count(".") != 3:
        return None
    sid, uid, issued, mac = raw.split(".")
    body = f"{sid}.{uid}.{issued}"
    if not hmac.compare_digest(mac, _mac(settings, "console-session", body)):
        return None
    if not issued.isdigit() or time.time() - int(issued) > SESSION_HOURS * 3600:
        return None
    return sid, uid


def session_id_of(request: Request) -> str:
    """The auth session named by the cookie (signature checked), or '' before login."""
    found = read_session_cookie(request.app.state.settings, request.cookies.get(SESSION_COOKIE))
    return found[0] if found else ""


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, settings: Settings, sid: str, uid: str):
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie_value(settings, sid, uid),
        max_age=SESSION_HOURS * 3600,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console")


def session_from_token(settings: Settings, access_token: str, now: datetime) -> str:
    """The auth session id inside an access token that ``auth.service.login`` just minted."""
    claims = security.decode_access_token(access_token, settings.secret_key, now)
    if claims is None:  # pragma: no cover - we minted it a moment ago
        raise LoginRequired
    return claims["sid"]


def console_caller(
    request: Request, session: SessionDep, settings: SettingsDep, now: NowDep
) -> Caller:
    found = read_session_cookie(settings, request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise LoginRequired
    sid, uid = found
    if not session_is_live(session, sid, user_id=uid, now=now):
        raise LoginRequired
    user = session.get(User, uid)
    if user is None or not user.active:
        raise LoginRequired
    caller = Caller(user=user, scope=scope_of(session, user), session_id=sid)
    request.state.console_caller = caller  # error pages keep the menu
    return caller


ConsoleCaller = Annotated[Caller, Depends(console_caller)]


def require_role(caller: Caller, *roles: Role) -> None:
    if caller.role not in roles:
        raise RoleRefused


# ------------------------------------------------------------------ CSRF


def csrf_value(request: Request) -> tuple[str, bool]:
    """The browser's CSRF cookie value, or a new one (True: the response must set it)."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if len(value) >= 32 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    value = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
    request.state.new_csrf = value
    return value, True


def csrf_token(request: Request, settings: Settings, value: str) -> str:
    return _mac(settings, "console-csrf", f"{value}|{session_id_of(request)}")


def set_csrf_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        value,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )


async def checked_form(request: Request) -> FormData:
    """The POSTed form after its CSRF check; an empty form for other methods.

    A router-level dependency: no console POST can run without passing here first.
    """
    if request.method != "POST":
        return FormData()
    form = await request.form()
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = form.get(CSRF_FIELD)
    if not cookie or not isinstance(sent, str) or not sent:
        raise CsrfRefused
    expected = csrf_token(request, request.app.state.settings, cookie)
    if not hmac.compare_digest(sent, expected):
        raise CsrfRefused
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in ("zh", "en") else "zh"
