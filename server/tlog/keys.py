"""The log's Ed25519 signing key, held in a file (``HAZARDCHAIN_LOG_KEY_FILE``) and never in
the database: whoever can write the database cannot also sign a checkpoint for what they wrote.
Production needs ``hazardchain keys init`` once; development and tests make the key on first
use, as they make the JWT secret."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from server.settings import Settings
from shared.checkpoint import raw_public_key
from shared.errors import DomainError


def no_key(path: Path) -> DomainError:
    return DomainError.of(
        "log_key_missing",
        "日志签名密钥不存在，请运行 hazardchain keys init",
        f"no log signing key at {path}: run hazardchain keys init",
    )


def init_key(path: Path, *, force: bool = False) -> Ed25519PrivateKey:
    """Write a new key (owner-only); refuses to replace one unless ``force``: checkpoints
    signed by the old key would no longer verify against the new public key."""
    if path.exists() and not force:
        raise FileExistsError(f"{path} exists; a new key orphans every pinned public key")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    path = Path(settings.log_key_file)
    if not path.exists():
        if settings.env == "production":
            raise no_key(path)
        try:
            return init_key(path)
        except FileExistsError:  # another process made it a moment ago
            pass
    key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise DomainError.of(
            "log_key_invalid",
            "日志签名密钥不是 Ed25519 密钥",
            f"{path} is not an Ed25519 private key",
        )
    return key


def public_key(settings: Settings) -> bytes:
    return raw_public_key(signing_key(settings).public_key())
