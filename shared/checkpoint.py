"""Signed checkpoints of the transparency log, as C2SP signed notes (c2sp.org/signed-note,
c2sp.org/tlog-checkpoint), so a tablet, a leader's sign-off and an auditor's file all hold the
same few lines any note verifier can read::

    hazardchain.local/log          origin: which log
    1234                           tree size
    3q2+7w…=                       base64 root hash
    time 2026-12-03T10:00:00.000000Z
                                   (blank line)
    — hazardchain.local/log AAAA…  key name, base64(4-byte key id ‖ Ed25519 signature)

The signature covers the body (the lines before the blank line, each ending in a newline).
The server signs with a key held outside its database (``server.tlog.keys``); the tablet and
``hazardchain log verify`` check with the public key alone (``cryptography`` only).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SIGNATURE_DASH = "\u2014 "  # "— ", as signed-note writes it
ED25519 = b"\x01"


class NoteError(ValueError):
    """A checkpoint that is malformed, for another log, or not signed by the pinned key."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str  # ISO 8601 UTC, as shared.clock.to_iso writes it

    def body(self) -> str:
        root = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.size}\n{root}\ntime {self.time}\n"

    @property
    def root_hex(self) -> str:
        return self.root.hex()


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    """signed-note's key id: the first 4 bytes of SHA-256(name ‖ LF ‖ 0x01 ‖ key)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def vkey(name: str, public_key: bytes) -> str:
    """The verifier key string (``name+hexid+base64(0x01‖key)``) auditors' tools take."""
    encoded = base64.b64encode(ED25519 + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def sign(checkpoint: Checkpoint, private_key: Ed25519PrivateKey) -> str:
    """The whole note: body, blank line, one signature line by the log's own name."""
    body = checkpoint.body()
    public = raw_public_key(private_key.public_key())
    sig = private_key.sign(body.encode())
    blob = base64.b64encode(key_id(checkpoint.origin, public) + sig).decode()
    return f"{body}\n{SIGNATURE_DASH}{checkpoint.origin} {blob}\n"


def parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("checkpoint body: origin, size, root and time lines")
    origin, size_text, root_text, *rest = lines[:-1]
    if not origin or not size_text.isdigit() or (size_text != "0" and size_text[0] == "0"):
        raise NoteError("checkpoint body: bad origin or size")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise NoteError("checkpoint body: root is not base64") from exc
    if len(root) != 32:
        raise NoteError("checkpoint body: root is not 32 bytes")
    times = [line.removeprefix("time ") for line in rest if line.startswith("time ")]
    if len(times) != 1:
        raise NoteError("checkpoint body: one time line")
    return Checkpoint(origin, int(size_text), root, times[0])


def verify(note: str, public_key: bytes, origin: str | None = None) -> Checkpoint:
    """The checkpoint a note carries, when the pinned key signed it (and it is for ``origin``,
    when given). Raises ``NoteError`` naming what is wrong."""
    body, sep, sigs = note.partition("\n\n")
    if not sep:
        raise NoteError("note has no signature block")
    body += "\n"
    cp = parse_body(body)
    if origin is not None and cp.origin != origin:
        raise NoteError(f"checkpoint is for log {cp.origin!r}, not {origin!r}")
    wanted = key_id(cp.origin, public_key)
    try:
        pub = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError as exc:
        raise NoteError("the pinned public key is not an Ed25519 key") from exc
    for line in sigs.split("\n"):
        if not line.startswith(SIGNATURE_DASH):
            continue
        name, _, blob = line.removeprefix(SIGNATURE_DASH).rpartition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            continue
        if name != cp.origin or raw[:4] != wanted:
            continue
        try:
            pub.verify(raw[4:], body.encode())
        except InvalidSignature as exc:
            raise NoteError("checkpoint signature does not verify") from exc
        return cp
    raise NoteError("checkpoint is not signed by the pinned key")
