"""The ``hazardchain`` command: serve, demo, db, users, chains, jobs, checklists."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from sqlmodel import Session


def _settings():
    from server.settings import get_settings

    return get_settings()


def _engine():
    from server.db import make_engine

    return make_engine(_settings().database_url)


def cmd_serve(args: argparse.Namespace) -> int:
    from server.app import create_app
    from server.serving import serve

    serve(create_app(), _settings(), host=args.host, port=args.port)
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from server.migrate import upgrade

    upgrade(_settings().database_url, args.revision)
    print(f"database upgraded to {args.revision}")
    if args.no_checklists:
        return 0
    from pathlib import Path

    from server.checklists.commands import import_checklists
    from server.checklists.service import DEFAULT_ROOT

    root = Path(args.checklists) if args.checklists else DEFAULT_ROOT
    return import_checklists(_engine(), root)


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from server.migrate import downgrade

    downgrade(_settings().database_url, args.revision)
    print(f"database downgraded to {args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.blobs.store import BlobStore
    from server.demo import USERS, load_demo
    from server.demo_inspections import load_demo_inspections
    from shared.clock import SystemClock

    settings = _settings()
    now, store = SystemClock().now(), BlobStore(settings.blob_dir)
    with Session(_engine(), expire_on_commit=False) as session:
        loaded = load_demo(session, password=settings.demo_password, now=now, store=store)
        added = load_demo_inspections(session, now=now, store=store)
    print("demo data loaded" if loaded else "demo data already present")
    if added:
        print(f"{added} demo inspections submitted")
    print("demo logins (password from HAZARDCHAIN_DEMO_PASSWORD, default demo-password):")
    for username, display, role, unit, *_ in USERS:
        print(f"  {username:<11} {role:<10} {display} · {unit}")
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    from server.users.service import create_user
    from shared.clock import SystemClock
    from shared.errors import DomainError

    password = args.password or os.environ.get("HAZARDCHAIN_NEW_USER_PASSWORD")
    if not password:
        password = getpass.getpass("password: ")
    data = {
        "username": args.username,
        "display_name": args.display_name or args.username,
        "role": args.role,
        "unit": args.unit,
        "password": password,
        "district_ids": args.district or [],
        "site_ids": args.site or [],
    }
    if len(password) < 8:
        print("error: password must have at least 8 characters", file=sys.stderr)
        return 2
    with Session(_engine(), expire_on_commit=False) as session:
        try:
            user = create_user(session, data, SystemClock().now())
        except DomainError as exc:
            print(f"error: {exc.refusal.en} {exc.refusal.fields or ''}", file=sys.stderr)
            return 2
    print(f"created {user.role} {user.username} ({user.id})")
    return 0


def cmd_chains_verify(args: argparse.Namespace) -> int:
    from sqlmodel import func, select

    from server.hazards.models import Hazard
    from server.hazards.service import verify_all

    with Session(_engine()) as session:
        total = session.exec(select(func.count()).select_from(Hazard)).one()
        broken = verify_all(session)
    for hazard_id, brk in broken:
        print(f"BROKEN hazard {hazard_id}: event {brk.event_id} (seq {brk.seq}): {brk.reason}")
    print(f"{total - len(broken)} of {total} chains verified")
    return 1 if broken else 0


def cmd_sync_renew_epoch(args: argparse.Namespace) -> int:
    from server.sync.feed import renew_epoch

    with Session(_engine()) as session:
        epoch = renew_epoch(session)
    print(f"sync epoch renewed ({epoch}): every tablet downloads the server's data again")
    return 0


def cmd_jobs_run(args: argparse.Namespace) -> int:
    from server.scheduler import JOBS, run_job
    from shared.clock import SystemClock, parse_iso

    if args.name not in JOBS:
        print(f"unknown job {args.name}; known: {', '.join(JOBS)}", file=sys.stderr)
        return 2
    now = parse_iso(args.now) if args.now else SystemClock().now()
    result = run_job(_engine(), args.name, now, _settings())
    print(f"{args.name}: {'skipped (lock held by another replica)' if result is None else result}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hazardchain", description="HazardChain 隐患一条链")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the API server with its scheduler")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.set_defaults(func=cmd_serve)

    sub.add_parser("demo", help="load the Wuhai demo data").set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade")
    up.add_argument("revision", nargs="?", default="heads")
    up.add_argument("--checklists", help="templates folder to import (default: checklists/)")
    up.add_argument("--no-checklists", action="store_true", help="skip the template import")
    up.set_defaults(func=cmd_db_upgrade)
    down = db.add_parser("downgrade")
    down.add_argument("revision", nargs="?", default="base")
    down.set_defaults(func=cmd_db_downgrade)

    users = sub.add_parser("users", help="user accounts").add_subparsers(
        dest="users_command", required=True
    )
    uc = users.add_parser("create")
    uc.add_argument("username")
    uc.add_argument(
        "--role", required=True, choices=["inspector", "enterprise", "officer", "leader", "admin"]
    )
    uc.add_argument("--display-name")
    uc.add_argument("--unit", default="")
    uc.add_argument("--district", action="append", help="district id in scope (repeatable)")
    uc.add_argument("--site", action="append", help="site id (enterprise users; repeatable)")
    uc.add_argument("--password", help="else HAZARDCHAIN_NEW_USER_PASSWORD or a prompt")
    uc.set_defaults(func=cmd_users_create)

    chains = sub.add_parser("chains", help="hazard chains").add_subparsers(
        dest="chains_command", required=True
    )
    chains.add_parser(
        "verify", help="recompute every chain; exit 1 naming broken events"
    ).set_defaults(func=cmd_chains_verify)

    sync = sub.add_parser("sync", help="tablet sync").add_subparsers(
        dest="sync_command", required=True
    )
    sync.add_parser(
        "renew-epoch",
        help="after restoring a backup: every tablet starts its pull again (outboxes are kept)",
    ).set_defaults(func=cmd_sync_renew_epoch)

    jobs = sub.add_parser("jobs", help="scheduled jobs").add_subparsers(
        dest="jobs_command", required=True
    )
    jr = jobs.add_parser("run", help="run one job once")
    jr.add_argument("name")
    jr.add_argument("--now", help="ISO time to run at (default: now)")
    jr.set_defaults(func=cmd_jobs_run)

    from server.checklists.commands import add_parser as add_checklists_parser

    add_checklists_parser(sub, _engine)

    from server.jobs.commands import add_parser as add_jobs_parser

    add_jobs_parser(sub, _engine, _settings)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
