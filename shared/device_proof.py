"""Device-bound refresh: the tablet's Ed25519 key and the proof it signs on every refresh.

A bearer refresh token is worth as much to whoever copies it as to the tablet it was issued
to. A tablet therefore makes a key pair when it first logs in; the server keeps the public key
with the session, and a refresh is accepted only with a fresh, single-use proof signed by the
private key (in the style of DPoP, RFC 9449): a compact JWS (``EdDSA``) over the method, the
URL, the time, a random ``jti`` and the SHA-256 of the refresh token it accompanies, so a
proof can neither be moved to another token nor used twice.

The tablet signs and the server checks with this one module (``cryptography`` only, no JWT
library on the tablet). Freshness and single use need the server's clock and database and
live in ``server.auth.proof``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROOF_HEADER = "DPoP"
PROOF_TYP = "dpop+jwt"
ALG = "EdDSA"
NONCE_HEADER = "DPoP-Nonce"
MAX_PROOF_CHARS = 2048
# 32 raw bytes in unpadded base64url: how a public key travels and is stored
KEY_PATTERN = r"^[A-Za-z0-9_-]{43}$"
_B64U = re.compile(r"^[A-Za-z0-9_-]*$")


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    if not _B64U.match(text):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def token_hash(refresh_token: str) -> str:
    """What a proof names instead of the token itself (``ath`` in RFC 9449 names the access
    token the same way)."""
    return b64u(hashlib.sha256(refresh_token.encode()).digest())


def public_key(text: str) -> Ed25519PublicKey:
    """The key a login registered; ValueError for anything that is not one."""
    if not re.match(KEY_PATTERN, text):
        raise ValueError("not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(unb64u(text))


class DeviceKey:
    """The tablet's key pair; the private half never leaves the tablet's local store."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_text(cls, text: str) -> DeviceKey:
        return cls(Ed25519PrivateKey.from_private_bytes(unb64u(text)))

    def text(self) -> str:
        """The private key as stored on the tablet."""
        return b64u(self._private.private_bytes_raw())

    def public_text(self) -> str:
        return b64u(self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))

    def proof(
        self,
        *,
        method: str,
        url: str,
        refresh_token: str,
        now: datetime,
        nonce: str | None = None,
    ) -> str:
        """A new proof for one refresh request (a new ``jti`` each time: never reuse one)."""
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": method.upper(),
            "htu": url.split("?", 1)[0].split("#", 1)[0],
            "iat": int(now.timestamp()),
            "rth": token_hash(refresh_token),
        }
        if nonce:
            claims["nonce"] = nonce
        return sign(self._private, claims)


def sign(private: Ed25519PrivateKey, claims: dict[str, Any]) -> str:
    """A compact JWS over ``claims`` (RFC 7515 §7.1; EdDSA per RFC 8037)."""
    header = {"typ": PROOF_TYP, "alg": ALG}
    signing_input = ".".join(
        b64u(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
    )
    return f"{signing_input}.{b64u(private.sign(signing_input.encode()))}"


@dataclass(frozen=True)
class Proof:
    jti: str
    htm: str
    htu: str
    iat: int
    rth: str
    nonce: str | None


def read_proof(compact: str, key: str) -> Proof:
    """The claims of a proof signed by ``key`` (a stored public key); ValueError when it is
    malformed, of another type or algorithm, or not signed by that key."""
    if len(compact) > MAX_PROOF_CHARS or compact.count(".") != 2:
        raise ValueError("not a compact JWS")
    head, body, signature = compact.split(".")
    try:
        header = json.loads(unb64u(head))
        claims = json.loads(unb64u(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("not a compact JWS") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise ValueError("not a compact JWS")
    if header.get("typ") != PROOF_TYP or header.get("alg") != ALG:
        raise ValueError("not a device proof")
    try:
        public_key(key).verify(unb64u(signature), f"{head}.{body}".encode())
    except InvalidSignature as exc:
        raise ValueError("bad signature") from exc
    strings = ("jti", "htm", "htu", "rth")
    if not all(isinstance(claims.get(k), str) and claims[k] for k in strings):
        raise ValueError("claims missing")
    iat, nonce = claims.get("iat"), claims.get("nonce")
    if not isinstance(iat, int) or isinstance(iat, bool) or len(claims["jti"]) > 64:
        raise ValueError("claims malformed")
    if nonce is not None and not isinstance(nonce, str):
        raise ValueError("claims malformed")
    return Proof(claims["jti"], claims["htm"], claims["htu"], iat, claims["rth"], nonce)
