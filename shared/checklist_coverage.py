"""Coverage report: which clauses of which standards the checklist templates actually check.

A reviewer (safety engineer, regulator liaison) needs to see, per cited standard and edition,
which clauses have items, in which templates, and how many are major by themselves, to spot
gaps such as "GB 35181 chapter 6 has no items" without reading thousands of YAML lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.checklist import Standard, Template, latest_versions

__all__ = ["coverage_markdown"]


@dataclass
class _Tally:
    """Item counts for one (clause, template) cell."""

    items: int = 0
    major: int = 0
    general: int = 0

    def add(self, severity: str) -> None:
        self.items += 1
        if severity == "major":
            self.major += 1
        else:
            self.general += 1


@dataclass
class _StandardCoverage:
    """Everything cited from one standard key, in first-appearance (i.e. regulation) order."""

    standard: Standard
    declared_in: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], _Tally] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)

    def total(self) -> _Tally:
        total = _Tally()
        for cell in self.cells.values():
            total.items += cell.items
            total.major += cell.major
            total.general += cell.general
        return total


def _label(template: Template) -> str:
    return f"{template.id} v{template.version}"


def _md(text: str) -> str:
    """Escape what would break a table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _as_list(
    templates: Mapping[tuple[str, int], Template] | Iterable[Template], latest_only: bool
) -> list[Template]:
    """Accept load_all() output or any iterable; optionally keep only the newest versions."""
    if isinstance(templates, Mapping):
        keyed = dict(templates)
    else:
        keyed = {(t.id, t.version): t for t in templates}
    chosen = latest_versions(keyed).values() if latest_only else keyed.values()
    return sorted(chosen, key=lambda t: (t.id, t.version))


def _differs(a: Standard, b: Standard) -> bool:
    return (a.title, a.edition, a.issued, a.in_force) != (b.title, b.edition, b.issued, b.in_force)


def _collect(templates: list[Template]) -> tuple[dict[str, _StandardCoverage], list[str]]:
    """Tally items per standard/clause/template; also list declared-but-uncited standards."""
    coverage: dict[str, _StandardCoverage] = {}
    uncited: list[str] = []
    for template in templates:
        label = _label(template)
        cited = {i.basis.standard for i in template.items()}
        cited |= {r.basis.standard for r in template.count_rules}
        for std in template.standards:
            if std.key not in cited:
                uncited.append(f"`{std.key}` in {label}")
                continue
            entry = coverage.setdefault(std.key, _StandardCoverage(std))
            entry.declared_in.append(label)
            if _differs(entry.standard, std):
                entry.conflicts.append(label)
        for item in template.items():
            entry = coverage.get(item.basis.standard)
            if entry is not None:
                cell = entry.cells.setdefault((item.basis.clause, label), _Tally())
                cell.add(item.severity)
        for rule in template.count_rules:
            entry = coverage.get(rule.basis.standard)
            if entry is not None:
                entry.rules.append(
                    f"`{rule.id}` ({label}, {rule.basis.clause}): ≥ {rule.min_failed} failed in "
                    f"{', '.join(rule.groups)} → {rule.severity}"
                )
    return coverage, uncited


def _template_summary(templates: list[Template]) -> list[str]:
    lines = [
        "| Template / 模板 | Industry | Items / 项数 | Major / 重大 | General / 一般 "
        "| Count rules / 综合判定 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for t in templates:
        tally = _Tally()
        for item in t.items():
            tally.add(item.severity)
        lines.append(
            f"| {_md(_label(t))} {_md(t.title.zh)} | {t.industry} | {tally.items} "
            f"| {tally.major} | {tally.general} | {len(t.count_rules)} |"
        )
    return lines


def _standard_block(entry: _StandardCoverage) -> list[str]:
    std = entry.standard
    total = entry.total()
    lines = [
        f"### {_md(std.title.zh)} / {_md(std.title.en)}",
        "",
        f"- Key: `{std.key}`; edition / 版本: **{std.edition}**; issued / 发布: {std.issued}; "
        f"in force / 施行: {std.in_force}" + (f"; source: {std.url}" if std.url else ""),
        f"- Templates / 模板: {', '.join(entry.declared_in)}",
        f"- Items / 项数: {total.items} (major / 重大 {total.major}, "
        f"general / 一般 {total.general})",
    ]
    if entry.conflicts:
        lines.append(
            f"- ⚠ Declared with a different title, edition or dates in / 声明不一致: "
            f"{', '.join(entry.conflicts)}"
        )
    lines += [
        "",
        "| Clause / 条款 | Template / 模板 | Items / 项数 | Major / 重大 | General / 一般 |",
        "|---|---|---:|---:|---:|",
    ]
    for (clause, label), cell in entry.cells.items():
        lines.append(f"| {_md(clause)} | {label} | {cell.items} | {cell.major} | {cell.general} |")
    if entry.rules:
        lines += ["", "Count rules / 综合判定规则:", *[f"- {r}" for r in entry.rules]]
    return [*lines, ""]


def coverage_markdown(
    templates: Mapping[tuple[str, int], Template] | Iterable[Template],
    *,
    latest_only: bool = True,
) -> str:
    """Markdown report of standards coverage.

    ``templates`` is load_all() output or any iterable of Template. By default only the newest
    version of each template counts, since that is what new inspections use; pass
    ``latest_only=False`` to audit every version.
    """
    chosen = _as_list(templates, latest_only)
    coverage, uncited = _collect(chosen)
    lines = ["# Checklist coverage / 检查表覆盖情况", ""]
    if not chosen:
        return "\n".join([*lines, "No templates. / 无模板。", ""])
    lines += ["## Templates / 模板", "", *_template_summary(chosen), ""]
    lines += ["## Standards cited / 引用的标准", ""]
    for key in sorted(coverage, key=lambda k: (coverage[k].standard.title.zh, k)):
        lines += _standard_block(coverage[key])
    if uncited:
        lines += [
            "## Declared but not cited / 已声明未引用",
            "",
            *[f"- {u}" for u in uncited],
            "",
        ]
    return "\n".join(lines)
