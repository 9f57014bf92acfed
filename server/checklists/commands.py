"""``hazardchain checklists …``: validate, list, show, coverage and import templates.

Each function takes the parsed arguments and returns the exit code; ``server.cli`` only wires
them into the parser.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from server.checklists.publishing import (
    validate_tree,
    write_lock,
)
from shared.checklist import (
    ChecklistTemplateError,
    Item,
    Template,
    latest_versions,
    load_all,
    template_digest,
)

COVERAGE_FILE = "COVERAGE.md"


def _root(args: argparse.Namespace) -> Path:
    from server.checklists.service import DEFAULT_ROOT

    return Path(args.root) if getattr(args, "root", None) else DEFAULT_ROOT


def _load(root: Path) -> dict[tuple[str, int], Template] | None:
    try:
        return load_all(root)
    except ChecklistTemplateError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) in {root}", file=sys.stderr)
        return None


def import_checklists(engine, root: Path) -> int:
    """Import into the database behind ``engine``; prints what happened, returns the exit code."""
    from server.checklists.service import ChecklistImportError, import_into
    from shared.clock import SystemClock

    try:
        result = import_into(engine, root, SystemClock().now())
    except ChecklistTemplateError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"checklists not imported: {len(exc.problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    except ChecklistImportError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("checklists not imported: nothing was changed", file=sys.stderr)
        return 1
    if result is None:
        print("checklists: the database has no checklist_template table yet; run db upgrade")
        return 0
    print(result.summary())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    root = _root(args)
    problems = validate_tree(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    templates = load_all(root)
    from server.checklists.coverage import standards_problems

    try:
        standards = _standards(root)
    except ChecklistTemplateError as exc:
        problems = exc.problems
    else:
        problems = standards_problems(templates, standards)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    print(f"{len(templates)} template version(s) valid in {root}")
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    """Add lock entries for valid, unpublished versions; existing entries are never rewritten."""
    root = _root(args)
    added = write_lock(root)
    print(f"published: {', '.join(added)}" if added else "nothing new to publish")
    problems = validate_tree(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def _stored_digests(engine) -> dict[tuple[str, int], str] | None:
    """What the database serves, or None when it has no template table (or is unreachable)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session, select

    from server.checklists.models import ChecklistTemplate

    try:
        if not inspect(engine).has_table(ChecklistTemplate.__tablename__):
            return None
        with Session(engine) as session:
            rows = session.exec(
                select(ChecklistTemplate.id, ChecklistTemplate.version, ChecklistTemplate.digest)
            ).all()
    except SQLAlchemyError:
        return None
    return {(tid, v): d for tid, v, d in rows}


def cmd_list(args: argparse.Namespace, engine_factory: Callable[[], object]) -> int:
    root = _root(args)
    templates = _load(root)
    if templates is None:
        return 1
    chosen = (
        sorted(templates.values(), key=lambda t: (t.id, t.version))
        if args.all
        else sorted(latest_versions(templates).values(), key=lambda t: t.id)
    )
    stored = _stored_digests(engine_factory())
    for t in chosen:
        items = list(t.items())
        major = sum(1 for i in items if i.severity == "major")
        if stored is None:
            state = "db: —"
        elif (t.id, t.version) not in stored:
            state = "db: not imported"
        elif stored[(t.id, t.version)] == template_digest(t):
            state = "db: imported"
        else:
            state = "db: CHANGED"
        print(
            f"{t.id:<22} v{t.version:<3} {t.industry:<14} {len(items):>4} items "
            f"{major:>3} major {len(t.count_rules):>2} rules  {state:<17} {t.title.zh}"
        )
    if stored:
        extra = sorted(set(stored) - set(templates))
        for tid, v in extra:
            print(f"{tid:<22} v{v:<3} (in the database only; its file is gone)")
    return 0


def _rule_text(item: Item) -> str:
    if item.answer == "yes_no":
        return f"yes/no, pass when {item.pass_when}"
    if item.answer == "number" and item.pass_rule is not None:
        return f"number, pass {item.pass_rule.describe(item.unit or '')}"
    if item.answer == "choice":
        return "choice: " + ", ".join(f"{c.value}{'' if c.passes else ' ✗'}" for c in item.choices)
    return "text (recorded only)"


def cmd_show(args: argparse.Namespace) -> int:
    root = _root(args)
    templates = _load(root)
    if templates is None:
        return 1
    versions = sorted(v for tid, v in templates if tid == args.id)
    if not versions:
        known = ", ".join(sorted({tid for tid, _ in templates})) or "none"
        print(f"no checklist {args.id!r} in {root} (known: {known})", file=sys.stderr)
        return 2
    version = args.version or versions[-1]
    if version not in versions:
        print(f"{args.id} has versions {versions}, not {version}", file=sys.stderr)
        return 2
    t = templates[(args.id, version)]
    if args.json:
        print(json.dumps(t.model_dump(mode="json", by_alias=True), ensure_ascii=False, indent=2))
        return 0
    print(f"{t.id} v{t.version} · {t.industry} · {t.title.zh} / {t.title.en}")
    print(f"digest {template_digest(t)}")
    if t.profiles:
        print("profiles: " + ", ".join(f"{p.id} ({p.zh})" for p in t.profiles))
    print("standards:")
    for s in t.standards:
        print(f"  {s.key}: {s.title.zh} ({s.edition}, in force {s.in_force})")
    for section in t.sections:
        print(f"\n[{section.id}] {section.title.zh} / {section.title.en}")
        for item in section.items:
            flags = [item.severity.upper() if item.severity == "major" else item.severity]
            if item.photo_required:
                flags.append("photo")
            flags.append(f"{item.deadline_days}d")
            if item.stop_work:
                flags.append("stop work")
            if item.profiles:
                flags.append("only " + ",".join(item.profiles))
            print(f"  {item.id}  ({'; '.join(flags)})")
            print(f"    {item.text.zh}")
            print(f"    {item.text.en}")
            if item.hazard is not None:
                print(f"    ✗ {item.hazard.zh} / {item.hazard.en}")
            if item.measures is not None:
                print(f"    → {item.measures.zh}")
            print(f"    {_rule_text(item)} · {item.basis.standard} {item.basis.clause}")
    if t.count_rules:
        print("\ncount rules:")
        for r in t.count_rules:
            where = f" for {','.join(r.profiles)}" if r.profiles else ""
            print(
                f"  {r.id}: ≥{r.min_failed} failed in {', '.join(r.groups)}{where} → "
                f"{r.severity} · {r.basis.standard} {r.basis.clause}"
            )
    return 0


def _standards(root: Path):
    """``<root>/standards.yaml`` parsed, or {} when the tree has none (e.g. a test tree)."""
    from server.checklists.coverage import STANDARDS_FILE, load_standards

    path = root / STANDARDS_FILE
    return load_standards(path) if path.exists() else {}


def coverage_text(root: Path) -> str:
    """The COVERAGE.md text for the templates and ``standards.yaml`` under ``root``."""
    from server.checklists.coverage import coverage_markdown

    return coverage_markdown(load_all(root), _standards(root))


def cmd_coverage(args: argparse.Namespace) -> int:
    from server.checklists.coverage import standards_problems

    root = _root(args)
    templates = _load(root)
    if templates is None:
        return 1
    try:
        standards = _standards(root)
    except ChecklistTemplateError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    for problem in standards_problems(templates, standards):
        print(problem, file=sys.stderr)
    text = coverage_text(root)
    target = root / COVERAGE_FILE
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(
                f"{target} is out of date; run: hazardchain checklists coverage --write",
                file=sys.stderr,
            )
            return 1
        print(f"{target} is up to date")
        return 0
    if args.write:
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
        return 0
    sys.stdout.write(text)
    return 0


def add_parser(sub, engine_factory: Callable[[], object]) -> None:
    """Register ``checklists`` and its sub-commands on the top-level sub-parsers."""
    cl = sub.add_parser("checklists", help="checklist templates").add_subparsers(
        dest="checklists_command", required=True
    )

    def with_root(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--root", help="templates folder (default: the repository's checklists/)")
        return p

    with_root(
        cl.add_parser("validate", help="check every template, naming and the lock; exit 1")
    ).set_defaults(func=cmd_validate)
    with_root(
        cl.add_parser("publish", help="record new versions in versions.lock.json (write_lock)")
    ).set_defaults(func=cmd_publish)
    ls = with_root(cl.add_parser("list", help="templates in the files and their import state"))
    ls.add_argument("--all", action="store_true", help="every version, not only the latest")
    ls.set_defaults(func=lambda a: cmd_list(a, engine_factory))
    sh = with_root(cl.add_parser("show", help="one template version, item by item"))
    sh.add_argument("id")
    sh.add_argument("--version", type=int, help="default: the latest")
    sh.add_argument("--json", action="store_true", help="the canonical JSON the server serves")
    sh.set_defaults(func=cmd_show)
    cov = with_root(
        cl.add_parser("coverage", help="standards coverage report (Markdown), with standards.yaml")
    )
    group = cov.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help=f"write <root>/{COVERAGE_FILE}")
    group.add_argument("--check", action="store_true", help=f"exit 1 if {COVERAGE_FILE} is stale")
    cov.set_defaults(func=cmd_coverage)
    imp = with_root(cl.add_parser("import", help="import new template versions into the database"))
    imp.set_defaults(func=lambda a: import_checklists(engine_factory(), _root(a)))
