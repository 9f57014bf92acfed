"""``hazardchain import users|sites FILE [--dry-run] [--lang en]``: the same check and the same
all-or-nothing write as the API, for an operator at the server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from server.imports import service
from server.uow import unit_of_work


def _print_problems(report: service.Report, lang: str) -> None:
    head = "row\tcolumn\tproblem" if lang == "en" else "行\t列\t问题"
    print(head, file=sys.stderr)
    for p in report.problems:
        print(f"{p.row}\t{p.label(report.kind, lang)}\t{p.message(lang)}", file=sys.stderr)


def cmd_import(args: argparse.Namespace, engine_factory: Callable[[], object]) -> int:
    """Exit 0 when the sheet is clean (and, without ``--dry-run``, written), 1 when a row has a
    problem (each printed; nothing written), 2 when the file cannot be read."""
    from shared.clock import SystemClock

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no such file: {path}", file=sys.stderr)
        return 2
    data = path.read_bytes()
    lang = args.lang
    try:
        with unit_of_work(engine_factory()) as session:
            report = service.run(
                session, args.kind, data, SystemClock().now(), dry_run=args.dry_run
            )
    except service.ImportRefused as exc:
        _print_problems(exc.report, lang)
        print(exc.refusal.message(lang), file=sys.stderr)
        return 1
    if report.problems:
        _print_problems(report, lang)
        n = len(report.problems)
        print(f"{n} problem(s)" if lang == "en" else f"共{n}处问题", file=sys.stderr)
        return 1
    if args.dry_run:
        ok = f"{report.rows} row(s) OK; nothing written (dry run)"
        print(ok if lang == "en" else f"{report.rows}行均无问题；试运行，未写入")
    else:
        print(
            f"imported {report.written} {args.kind}"
            if lang == "en"
            else f"已导入{report.written}条{'用户' if args.kind == 'users' else '场所'}"
        )
    return 0


def add_parser(sub, engine_factory: Callable[[], object]) -> None:
    """Register ``import users|sites FILE`` on the top-level sub-parsers."""
    p = sub.add_parser("import", help="import users or sites from an .xlsx sheet")
    p.add_argument("kind", choices=service.KINDS)
    p.add_argument("file", help=".xlsx: first sheet, headers in row 1 (see the template)")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of messages")
    p.add_argument(
        "--template", action="store_true", help="write an empty template to FILE instead"
    )
    p.set_defaults(func=lambda a: _dispatch(a, engine_factory))


def _dispatch(args: argparse.Namespace, engine_factory: Callable[[], object]) -> int:
    if args.template:
        Path(args.file).write_bytes(service.template_xlsx(args.kind))
        print(f"wrote {args.file}")
        return 0
    return cmd_import(args, engine_factory)
