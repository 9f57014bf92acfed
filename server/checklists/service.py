"""Import checklist templates from ``checklists/`` into the database and serve them.

A published version never changes: the importer inserts versions it has not seen, skips those
it holds with the same digest, and refuses the whole import when a file's content differs from
the stored version of the same number (the fix is a new ``<version>.yaml``, never an edit).
Versions whose files were removed stay in the database, because inspections are pinned to them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from server.checklists.models import ChecklistTemplate
from server.uow import retrying
from shared.checklist import Template, check_template, load_all, template_digest
from shared.errors import DomainError

log = logging.getLogger("hazardchain.checklists")

# The repository's templates; the CLI takes --root for another tree.
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "checklists"


class ChecklistImportError(Exception):
    """The files disagree with what the database already serves; nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        added = ", ".join(self.added) or "none"
        return f"checklists: {len(self.added)} imported ({added}), {len(self.unchanged)} unchanged"


def _label(template_id: str, version: int) -> str:
    return f"{template_id} v{version}"


def row_for(template: Template, now: datetime) -> ChecklistTemplate:
    items = list(template.items())
    return ChecklistTemplate(
        id=template.id,
        version=template.version,
        title=template.title.zh[:200],
        title_en=template.title.en[:200],
        industry=template.industry,
        digest=template_digest(template),
        item_count=len(items),
        major_count=sum(1 for i in items if i.severity == "major"),
        content=template.model_dump(mode="json", by_alias=True),
        imported_at=now,
    )


def import_templates(
    session: Session,
    templates: Mapping[tuple[str, int], Template],
    now: datetime,
) -> ImportResult:
    """Insert new versions, flushed (the edge commits); refuse all if any stored version
    differs. Another process (a second replica running ``db upgrade``) importing the same
    versions first collides at the flush: the edge runs the import again, which then compares
    against what that process stored."""
    result = ImportResult()
    problems: list[str] = []
    new_rows: list[ChecklistTemplate] = []
    for key in sorted(templates):
        template = templates[key]
        label = _label(*key)
        if key != (template.id, template.version):
            problems.append(f"{label}: keyed as {key} but is {template.id} v{template.version}")
            continue
        invalid = check_template(template)
        if invalid:
            problems.extend(f"{label}: {p}" for p in invalid)
            continue
        digest = template_digest(template)
        stored = session.get(ChecklistTemplate, key)
        if stored is None:
            new_rows.append(row_for(template, now))
            result.added.append(label)
        elif stored.digest == digest:
            result.unchanged.append(label)
        else:
            problems.append(
                f"{label} differs from the version already imported "
                f"(digest {stored.digest[:12]}… in the database, {digest[:12]}… in the files); "
                f"a published version is immutable: add {key[0]}/{key[1] + 1}.yaml instead"
                f"（已发布版本 {label} 的内容被修改，须新增版本号）"
            )
    if problems:
        raise ChecklistImportError(problems)
    for row in new_rows:
        session.add(row)
    session.flush()
    if result.added:
        log.info("checklists imported", extra={"added": result.added})
    return result


def import_tree(session: Session, root: Path | str, now: datetime) -> ImportResult:
    """Load every template under ``root`` (all or nothing) and import it."""
    return import_templates(session, load_all(root), now)


def import_into(engine: Engine, root: Path | str, now: datetime) -> ImportResult | None:
    """``db upgrade``'s hook: import unless the schema predates the template table."""
    from sqlalchemy import inspect

    if not inspect(engine).has_table(ChecklistTemplate.__tablename__):
        return None
    return retrying(engine, lambda session: import_tree(session, root, now), retries=2)


# ------------------------------------------------------------------ serving


def list_templates(
    session: Session, *, all_versions: bool = False, industry: str | None = None
) -> list[ChecklistTemplate]:
    """Latest version of each template, or every version; ordered by id then version."""
    q = select(ChecklistTemplate)
    if industry:
        q = q.where(ChecklistTemplate.industry == industry)
    if not all_versions:
        latest = (
            select(
                ChecklistTemplate.id.label("tid"),
                func.max(ChecklistTemplate.version).label("v"),
            )
            .group_by(ChecklistTemplate.id)
            .subquery()
        )
        q = q.join(
            latest,
            (col(ChecklistTemplate.id) == latest.c.tid)
            & (col(ChecklistTemplate.version) == latest.c.v),
        )
    return list(session.exec(q.order_by(ChecklistTemplate.id, ChecklistTemplate.version)).all())


def versions_by_id(session: Session) -> dict[str, list[int]]:
    rows = session.exec(
        select(ChecklistTemplate.id, ChecklistTemplate.version).order_by(
            ChecklistTemplate.id, ChecklistTemplate.version
        )
    ).all()
    out: dict[str, list[int]] = {}
    for tid, version in rows:
        out.setdefault(tid, []).append(version)
    return out


def get_row(session: Session, template_id: str, version: int) -> ChecklistTemplate:
    row = session.get(ChecklistTemplate, (template_id, version))
    if row is None:
        raise DomainError.of(
            "not_found",
            f"检查表 {template_id} 第 {version} 版不存在",
            f"checklist {template_id} v{version} not found",
        )
    return row


# Parsed templates by digest: the digest is a SHA-256 of the content, so equal digests mean
# equal templates even across databases (tests run several in one process).
_PARSED: dict[str, Template] = {}
_PARSED_MAX = 64


def template_of(row: ChecklistTemplate) -> Template:
    """The stored template as a ``Template``, parsed and digest-checked once per digest."""
    cached = _PARSED.get(row.digest)
    if cached is not None:
        return cached
    template = Template.model_validate(row.content)
    if template_digest(template) != row.digest:  # storage must hand back what was imported
        raise RuntimeError(f"checklist {row.id} v{row.version}: stored content fails its digest")
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[row.digest] = template
    return template
