"""The server's half of a device proof (format in ``shared/device_proof.py``): is it fresh by
the server's clock, and was its ``jti`` never seen before.

Freshness trusts the tablet's clock only within ``refresh_proof_seconds``. A tablet whose clock
is off (a mine has no time server; TECH-NOTES case 10) is answered ``stale_proof`` with a
``DPoP-Nonce`` header, a server-signed time, and signs again with it (RFC 9449 §8): the nonce
then stands in for the tablet's clock.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.settings import Settings
from server.uow import keep_on_refusal
from server.users.models import UsedProof
from shared.device_proof import NONCE_HEADER, Proof
from shared.errors import DomainError, Refusal


class StaleProof(DomainError):
    """A well-signed proof outside the freshness window; carries a nonce to sign again with."""

    def __init__(self, nonce: str) -> None:
        super().__init__(
            Refusal(
                "stale_proof",
                "设备证明已过期，请使用服务器时间重新签名",
                "the device proof is not fresh; sign again with the server's nonce",
            ),
        )
        self.headers = {NONCE_HEADER: nonce}


def _nonce_mac(settings: Settings, issued: str) -> str:
    key = hmac.new(settings.secret_key.encode(), b"device-proof-nonce", hashlib.sha256).digest()
    return hmac.new(key, issued.encode(), hashlib.sha256).hexdigest()[:32]


def new_nonce(settings: Settings, now: datetime) -> str:
    issued = str(int(now.timestamp()))
    return f"{issued}.{_nonce_mac(settings, issued)}"


def _nonce_time(settings: Settings, nonce: str) -> int | None:
    issued, _, mac = nonce.partition(".")
    if not issued.isascii() or not issued.isdigit() or len(issued) > 12:
        return None
    return int(issued) if hmac.compare_digest(mac, _nonce_mac(settings, issued)) else None


def check_fresh(settings: Settings, proof: Proof, now: datetime) -> None:
    """Fresh by the server's nonce if it carries one, else by its own ``iat``; StaleProof
    otherwise."""
    window = settings.refresh_proof_seconds
    stamp = _nonce_time(settings, proof.nonce) if proof.nonce else proof.iat
    if stamp is None or abs(now.timestamp() - stamp) > window:
        raise StaleProof(new_nonce(settings, now))


def spend(session: Session, settings: Settings, proof: Proof, now: datetime) -> bool:
    """Record the proof's ``jti``; False if it was used before (a captured proof replayed).

    Inserted in a SAVEPOINT, so two requests racing with one proof cannot both pass (the
    primary key refuses the second, which waits for the first to commit), and kept even if the
    refresh is then refused (a refused refresh still spends its proof). A jti is kept for twice
    the window: past that its proof is stale whatever it claims.
    """
    session.exec(delete(UsedProof).where(UsedProof.expires_at < now))  # opens the transaction
    try:
        with session.begin_nested():
            session.add(
                UsedProof(
                    jti=proof.jti,
                    expires_at=now + timedelta(seconds=2 * settings.refresh_proof_seconds),
                )
            )
    except IntegrityError:
        return False
    keep_on_refusal(session)
    return True
