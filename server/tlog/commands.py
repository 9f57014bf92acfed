"""``hazardchain keys init``, ``hazardchain log checkpoint|verify`` and the record check
``hazardchain chains verify`` prints (``server.tlog.verify``)."""

from __future__ import annotations

import argparse
import base64
import binascii
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session

from server.uow import unit_of_work

# reasons the chain check itself names, printed as the BROKEN lines ``chains verify`` always had
CHAIN_REASONS = frozenset(
    {"hash_mismatch", "prev_hash_mismatch", "sequence_mismatch", "missing_events", "unfoldable"}
)


def finding_line(f: Any) -> str:
    if f.reason in CHAIN_REASONS:
        return f"BROKEN hazard {f.hazard_id}: event {f.event_id} (seq {f.seq}): {f.reason}"
    return f.line()


def print_report(report: Any) -> int:
    for f in report.findings:
        print(finding_line(f))
    broken = {f.hazard_id for f in report.findings if f.hazard_id}
    intact = report.hazards - len(broken & _present(report))
    print(f"{intact} of {report.hazards} chains verified")
    cp = "no checkpoint yet" if report.checkpoint_size is None else f"{report.checkpoint_size}"
    verdict = "log intact" if report.ok else f"{len(report.findings)} findings"
    print(f"log: {report.log_size} events, checkpoint at {cp}; {verdict}")
    return 0 if report.ok else 1


def _present(report: Any) -> set[str]:
    return {
        f.hazard_id for f in report.findings if f.hazard_id and f.reason != "logged_hazard_missing"
    }


def cmd_chains_verify(args: argparse.Namespace, engine: Callable[[], Any], settings) -> int:
    from server.tlog.verify import verify_record

    with Session(engine()) as session:
        report = verify_record(session, settings())
    return print_report(report)


def cmd_log_verify(args: argparse.Namespace, engine: Callable[[], Any], settings) -> int:
    """The database against a checkpoint someone kept (an auditor's file, a sign-off)."""
    from server.tlog.verify import verify_record

    try:
        kept = Path(args.checkpoint).read_text(encoding="utf-8") if args.checkpoint else None
        key = base64.b64decode(args.public_key, validate=True) if args.public_key else None
    except (OSError, binascii.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with Session(engine()) as session:
        report = verify_record(session, settings(), kept_note=kept, key=key)
    return print_report(report)


def cmd_log_checkpoint(args: argparse.Namespace, engine: Callable[[], Any], settings) -> int:
    """Sign the log now and print the note (to keep, or hand to an auditor)."""
    from server.tlog.checkpoints import sign_checkpoint
    from shared.clock import SystemClock

    with unit_of_work(engine()) as session:
        row = sign_checkpoint(session, SystemClock().now(), settings(), reason="manual")
        text = row.note
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


def cmd_keys_init(args: argparse.Namespace, settings) -> int:
    from server.tlog.keys import init_key
    from shared.checkpoint import raw_public_key, vkey

    s = settings()
    path = Path(s.log_key_file)
    try:
        key = init_key(path, force=args.force)
    except FileExistsError as exc:
        print(f"error: {exc} (--force replaces it)", file=sys.stderr)
        return 2
    public = raw_public_key(key.public_key())
    print(f"log signing key written to {path} (keep it off the database host's backups)")
    print(f"public key: {base64.b64encode(public).decode()}")
    print(f"verifier key: {vkey(s.log_origin, public)}")
    return 0


def add_parser(sub, engine: Callable[[], Any], settings: Callable[[], Any]) -> None:
    keys = sub.add_parser("keys", help="the log's signing key").add_subparsers(
        dest="keys_command", required=True
    )
    ki = keys.add_parser("init", help="make the Ed25519 key that signs log checkpoints")
    ki.add_argument("--force", action="store_true", help="replace an existing key")
    ki.set_defaults(func=lambda a: cmd_keys_init(a, settings))

    lg = sub.add_parser("log", help="the transparency log of chain events").add_subparsers(
        dest="log_command", required=True
    )
    lv = lg.add_parser("verify", help="check the database against a kept checkpoint; exit 1")
    lv.add_argument("--checkpoint", help="a checkpoint note file (default: the latest stored)")
    lv.add_argument("--public-key", help="base64 Ed25519 key (default: the server's own)")
    lv.set_defaults(func=lambda a: cmd_log_verify(a, engine, settings))
    lc = lg.add_parser("checkpoint", help="sign a checkpoint now and print it")
    lc.add_argument("--out", help="also write the note to this file")
    lc.set_defaults(func=lambda a: cmd_log_checkpoint(a, engine, settings))
