"""The ``hazardchain`` command: serve, demo, db, users, chains, jobs, checklists."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence

from server.uow import unit_of_work


def _settings():
    from server.settings import get_settings

    return get_settings()


def _engine():
    from server.db import make_engine

    return make_engine(_settings().database_url)


def demo_login_lines() -> list[str]:
    """The demo accounts, as ``hazardchain demo`` and ``serve --demo-logins`` print them."""
    from server.demo import USERS
    from server.demo_self_inspections import USERS as SELF_USERS

    lines = ["demo logins (password from HAZARDCHAIN_DEMO_PASSWORD, default demo-password):"]
    for username, display, role, unit, *_ in USERS:
        lines.append(f"  {username:<11} {role:<10} {display} · {unit}")
    for username, display, unit in SELF_USERS:  # the other sites' own patrollers
        lines.append(f"  {username:<11} {'enterprise':<10} {display} · {unit}")
    return lines


def ready_banner(host: str, port: int, *, demo_logins: bool) -> str:
    """What a newcomer needs once the server listens: where the console is, then the logins."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    base = f"http://{shown}:{port}"
    rule = "=" * 64
    lines = [
        rule,
        f"HazardChain 隐患一条链 is ready: open the console at {base}/",
        f"  console   {base}/console/",
        f"  API docs  {base}/docs  ·  {base}/redoc",
    ]
    if demo_logins:
        lines += demo_login_lines()
    return "\n".join([*lines, "Ctrl-C stops the server.", rule])


def cmd_serve(args: argparse.Namespace) -> int:
    """One process with the scheduler inside (``make run``), or ``--workers N`` processes
    with the scheduler in a process of its own beside them (``hazardchain scheduler``, started
    here unless ``--no-scheduler`` says one runs elsewhere, e.g. its systemd unit)."""
    from server.app import create_app
    from server.serving import serve, serve_workers

    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    settings = _settings()
    banner = ready_banner(args.host, args.port, demo_logins=args.demo_logins)
    if args.workers == 1:
        if args.no_scheduler:
            settings = settings.model_copy(update={"scheduler": "off"})
        serve(create_app(settings), settings, host=args.host, port=args.port, banner=banner)
        return 0
    scheduler = settings.scheduler_enabled and not args.no_scheduler
    serve_workers(settings, args.host, args.port, args.workers, banner, scheduler=scheduler)
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
    seed_matters(_engine())
    return import_checklists(_engine(), root)


def cmd_db_copy(args: argparse.Namespace) -> int:
    """Move this installation's database to ``--to`` (blobs stay where they are)."""
    from server.backups.copy import copy_installation
    from server.db import make_engine
    from server.hazards.service import verify_all
    from shared.errors import DomainError

    if args.to == _settings().database_url:
        print("error: --to names the database this installation already uses", file=sys.stderr)
        return 2
    source, target = _engine(), make_engine(args.to)
    try:
        report = copy_installation(source, target, args.to, verify=verify_all)
    except DomainError as exc:
        print(f"error: {exc.refusal.zh} / {exc.refusal.en}", file=sys.stderr)
        return 2
    finally:
        target.dispose()
    rows = sum(report.counts.values())
    print(f"copied {rows} rows in {len(report.counts)} tables; {report.chains} chains")
    if report.broken:
        print(f"BROKEN chains after the copy: {', '.join(report.broken)}", file=sys.stderr)
        return 1
    print("every chain verified; point HAZARDCHAIN_DATABASE_URL at the new database and restart")
    return 0


def seed_matters(engine) -> None:
    """The 一件事 catalogue the templates tag hazards with (``shared.matters``)."""
    from sqlalchemy import inspect

    from server.matters.models import Matter
    from server.matters.service import seed_catalogue

    if not inspect(engine).has_table(Matter.__tablename__):
        return
    with unit_of_work(engine) as session:
        added = seed_catalogue(session)
    print(f"matters: {len(added)} added ({', '.join(added) or 'none'})")


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from server.migrate import downgrade

    downgrade(_settings().database_url, args.revision)
    print(f"database downgraded to {args.revision}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.blobs.store import BlobStore
    from server.demo import load_demo
    from server.demo_inspections import load_demo_inspections
    from server.demo_self_inspections import load_demo_self_inspections
    from shared.clock import SystemClock
    from shared.deadlines import DeadlinePolicy

    settings = _settings()
    now, store = SystemClock().now(), BlobStore(settings.blob_dir)
    with unit_of_work(_engine()) as session:
        loaded = load_demo(session, password=settings.demo_password, now=now, store=store)
        added = load_demo_inspections(session, now=now, store=store)
        patrols = load_demo_self_inspections(
            session,
            now=now,
            store=store,
            password=settings.demo_password,
            tz=settings.timezone,
            policy=DeadlinePolicy.with_overrides(
                settings.deadline_overrides(), spot_check_share=settings.spot_check_share
            ),
        )
    print("demo data loaded" if loaded else "demo data already present")
    if added:
        print(f"{added} demo inspections submitted")
    if patrols:
        print(f"{patrols} demo self-inspections submitted")
    print("\n".join(demo_login_lines()))
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
    try:
        with unit_of_work(_engine()) as session:
            user = create_user(session, data, SystemClock().now())
    except DomainError as exc:
        print(f"error: {exc.refusal.en} {exc.refusal.fields or ''}", file=sys.stderr)
        return 2
    print(f"created {user.role} {user.username} ({user.id})")
    return 0


def cmd_chains_verify(args: argparse.Namespace) -> int:
    """Every chain, projection and hazard, and the log against its latest signed checkpoint
    (``server.tlog.verify``); exit 1 naming each finding."""
    from server.tlog.commands import cmd_chains_verify as verify_record

    return verify_record(args, _engine, _settings)


def cmd_sync_renew_epoch(args: argparse.Namespace) -> int:
    from server.sync.feed import renew_epoch

    with unit_of_work(_engine()) as session:
        epoch = renew_epoch(session)
    print(f"sync epoch renewed ({epoch}): every tablet downloads the server's data again")
    return 0


def _installation():
    from server.backups.service import Installation

    settings = _settings()
    return Installation(settings.database_url, settings.blob_dir, settings.pg_bin_dir)


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from server.backups.service import take_backup
    from shared.clock import SystemClock
    from shared.errors import DomainError

    link = Path(args.link_from) if args.link_from else None
    try:
        manifest = take_backup(_installation(), Path(args.dir), SystemClock().now(), link_from=link)
    except DomainError as exc:
        print(f"error: {exc.refusal.zh} / {exc.refusal.en}", file=sys.stderr)
        return 2
    rows = sum(manifest.counts.values())
    print(
        f"backup written to {args.dir}: {manifest.dialect} at {manifest.migration_head}, "
        f"{rows} rows, {len(manifest.files)} files"
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Check, restore, upgrade, renew the epoch: tablets then pull again and resend what the
    server lost (docs/operations.md)."""
    from pathlib import Path

    from server.backups.service import check_backup, restore_backup
    from server.migrate import known_revisions, upgrade
    from server.sync.feed import renew_epoch
    from shared.errors import DomainError

    inst = _installation()
    try:
        if args.check:
            manifest = check_backup(Path(args.dir), inst, known_revisions())
            print(f"backup is intact: {manifest.dialect} at {manifest.migration_head}")
            return 0
        if not args.yes:
            print(
                "error: restoring replaces the whole database; stop the server and the "
                "scheduler, then run again with --yes",
                file=sys.stderr,
            )
            return 2
        manifest = restore_backup(Path(args.dir), inst, known_revisions())
    except DomainError as exc:
        print(f"error: {exc.refusal.zh} / {exc.refusal.en}", file=sys.stderr)
        return 2
    upgrade(inst.database_url)
    with unit_of_work(_engine()) as session:
        epoch = renew_epoch(session)
    print(
        f"restored the backup of {manifest.created_at} ({manifest.migration_head}); "
        f"sync epoch renewed ({epoch}): tablets download again and resend what was lost"
    )
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
    s.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on the one port (more than 1: the scheduler runs in a process "
        "of its own)",
    )
    s.add_argument(
        "--no-scheduler",
        action="store_true",
        help="run no jobs here: `hazardchain scheduler` runs them elsewhere",
    )
    s.add_argument(
        "--demo-logins", action="store_true", help="list the demo accounts in the ready banner"
    )
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
    cp = db.add_parser(
        "copy", help="copy this installation into an empty database (e.g. PostgreSQL)"
    )
    cp.add_argument("--to", required=True, help="the target URL, e.g. postgresql+psycopg://…")
    cp.set_defaults(func=cmd_db_copy)
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

    from server.tlog.commands import add_parser as add_log_parser

    add_log_parser(sub, _engine, _settings)

    sync = sub.add_parser("sync", help="tablet sync").add_subparsers(
        dest="sync_command", required=True
    )
    sync.add_parser(
        "renew-epoch",
        help="after restoring a backup: every tablet starts its pull again (outboxes are kept)",
    ).set_defaults(func=cmd_sync_renew_epoch)

    bk = sub.add_parser("backup", help="a consistent backup of the database and the photos")
    bk.add_argument("dir", help="a new or empty folder")
    bk.add_argument(
        "--link-from", help="an earlier backup on the same disk: unchanged photos are hard links"
    )
    bk.set_defaults(func=cmd_backup)
    rs = sub.add_parser("restore", help="restore a backup (stop the server first)")
    rs.add_argument("dir")
    rs.add_argument("--yes", action="store_true", help="replace the database with the backup")
    rs.add_argument("--check", action="store_true", help="only check the backup is intact")
    rs.set_defaults(func=cmd_restore)

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

    from server.imports.commands import add_parser as add_import_parser

    add_import_parser(sub, _engine)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
