"""Password hashing (argon2) and token minting; nothing here touches the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so timing does not reveal usernames.
DUMMY_HASH = hash_password("not-a-user-password")


def new_refresh_token() -> tuple[str, str]:
    """The token goes to the client once; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(48)
    return token, refresh_digest(token)


def refresh_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_access_token(
    *, user_id: str, role: str, session_id: str, secret: str, now: datetime, minutes: int
) -> str:
    claims = {
        "sub": user_id,
        "role": role,
        "sid": session_id,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str, now: datetime) -> dict[str, Any] | None:
    """Claims of a valid access token, or None; expiry is checked against the injected clock."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "require": ["exp", "sub", "sid"]},
        )
    except jwt.PyJWTError:
        return None
    if not isinstance(claims["sub"], str) or not isinstance(claims["sid"], str):
        return None
    exp = claims["exp"]
    if not isinstance(exp, int | float) or claims.get("typ") != "access" or exp < now.timestamp():
        return None
    return claims
