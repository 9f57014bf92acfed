"""The auth API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.users.schemas import UserPublic
from shared.device_proof import KEY_PATTERN


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    user: UserPublic


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class TokenIn(BaseModel):
    """A login, as the OAuth2 password form (``application/x-www-form-urlencoded``) or as
    JSON: scripts and the tablets' newer clients send JSON, Swagger's Authorize button the
    form."""

    model_config = ConfigDict(extra="ignore")

    username: str = Field(min_length=1, max_length=1000)
    password: str = Field(min_length=1, max_length=1000)
    grant_type: str | None = Field(default=None, pattern="^password$")
    client_id: str | None = Field(default=None, max_length=64)
    device_id: str | None = Field(default=None, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]{8,64}$")
    device_key: str | None = Field(
        default=None,
        pattern=KEY_PATTERN,
        description="the tablet's Ed25519 public key (32 bytes, base64url): the session "
        "then refreshes only with proofs signed by its private key (docs/sync.md)",
    )
