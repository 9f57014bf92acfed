"""Coverage report: which clauses of which standards the checklist templates actually check.

A reviewer (safety engineer, regulator liaison) needs to see, per cited standard and edition,
which clauses have items, in which templates, and how many are major by themselves, to spot
gaps such as "GB 35181 chapter 6 has no items" without reading thousands of YAML lines.

``checklists/standards.yaml`` (see load_standards()) adds the structure of the major-hazard
standards: their aspects or items. The report then shows, per aspect, the template items that
cover it, flags aspects no item covers, and lists what could not be confirmed (the standard's
notes, aspects marked unconfirmed, and every item whose guidance says it awaits a check).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.checklist import (
    ChecklistTemplateError,
    CountRule,
    Item,
    Localized,
    Standard,
    Template,
    _parse_yaml,
    latest_versions,
)

__all__ = [
    "STANDARDS_FILE",
    "Aspect",
    "StandardAspects",
    "clause_covers",
    "confirm_marker",
    "coverage_markdown",
    "covering_items",
    "load_standards",
    "standards_problems",
    "uncovered_aspects",
]

STANDARDS_FILE = "standards.yaml"

Templates = Mapping[tuple[str, int], Template] | Iterable[Template]


# --------------------------------------------------------------------------------------------
# standards.yaml: the aspects of each structured standard
# --------------------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Aspect(Localized):
    """One aspect or item of a standard (e.g. MEM Order No. 4 第五条, 瓦斯超限作业).

    ``confirmed`` is False when its number or wording could not be confirmed from the text.
    """

    clause: str = Field(min_length=1)
    confirmed: bool = True


class StandardAspects(_Frozen):
    """The known structure of one cited standard, keyed like the templates' ``standards``."""

    key: str = Field(min_length=1)
    aspects: tuple[Aspect, ...] = ()
    unconfirmed: tuple[Localized, ...] = ()
    # clauses no template item checks because an inspector cannot check them on site, with why
    left_out: tuple[Localized, ...] = ()


class _StandardsFile(_Frozen):
    standards: tuple[StandardAspects, ...] = ()


def _file_problems(parsed: _StandardsFile) -> list[str]:
    problems: list[str] = []
    seen_keys: set[str] = set()
    for std in parsed.standards:
        if std.key in seen_keys:
            problems.append(f"duplicate standard key '{std.key}'（标准键重复）")
        seen_keys.add(std.key)
        clauses: set[str] = set()
        for aspect in std.aspects:
            label = f"'{std.key}' aspect '{aspect.clause}'"
            if aspect.clause in clauses:
                problems.append(f"{label}: duplicate clause（条款重复）")
            clauses.add(aspect.clause)
            problems += [f"{label}: missing {lang}（缺少 {lang}）" for lang in aspect.missing()]
        for n, note in enumerate(std.left_out, 1):
            problems += [
                f"'{std.key}' left_out note {n}: missing {lang}（缺少 {lang}）"
                for lang in note.missing()
            ]
        for n, note in enumerate(std.unconfirmed, 1):
            problems += [
                f"'{std.key}' unconfirmed note {n}: missing {lang}（缺少 {lang}）"
                for lang in note.missing()
            ]
    return problems


def load_standards(path: Path | str) -> dict[str, StandardAspects]:
    """Read ``standards.yaml`` into ``{key: StandardAspects}`` in file order.

    Raises ChecklistTemplateError listing every problem (schema, duplicate keys or clauses,
    missing language), like the template loader.
    """
    path = Path(path)
    where = path.name
    raw = _parse_yaml(path.read_bytes(), where)
    try:
        parsed = _StandardsFile.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        problems = [
            f"{where}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}（结构错误）"
            for e in exc.errors()
        ]
        raise ChecklistTemplateError(path, problems) from None
    problems = [f"{where}: {p}" for p in _file_problems(parsed)]
    if problems:
        raise ChecklistTemplateError(path, problems)
    return {std.key: std for std in parsed.standards}


def standards_problems(templates: Templates, standards: Mapping[str, StandardAspects]) -> list[str]:
    """Keys in standards.yaml that no template declares (a typo would hide every aspect)."""
    declared = {s.key for t in _as_list(templates, True) for s in t.standards}
    return [
        f"{STANDARDS_FILE}: standard '{key}' is not declared by any template"
        "（标准键未在任何模板中声明）"
        for key in standards
        if key not in declared
    ]


# --------------------------------------------------------------------------------------------
# Matching items to aspects
# --------------------------------------------------------------------------------------------

_RANGE = re.compile(r"((?:\d+\.)*)(\d+)\s*[～~]\s*((?:\d+\.)*)(\d+)")


def _clause_refs(clause: str) -> list[str]:
    """The references in a clause: ``4.6、5.1.5`` is two, ``7.4.1～7.4.3`` three.

    ``、`` separates references only when every part starts like one (a digit or 第), so the
    part heading ``一、地下矿山`` stays whole.
    """
    parts = [p.strip() for p in clause.split("、")]
    if len(parts) > 1 and not all(p[:1].isdigit() or p.startswith("第") for p in parts):
        parts = [clause.strip()]
    refs: list[str] = []
    for part in parts:
        m = _RANGE.fullmatch(part)
        if m and m.group(3) in ("", m.group(1)) and int(m.group(2)) <= int(m.group(4)):
            refs += [f"{m.group(1)}{n}" for n in range(int(m.group(2)), int(m.group(4)) + 1)]
        elif part:
            refs.append(part)
    return refs


def clause_covers(item_clause: str, aspect_clause: str) -> bool:
    """Whether an item citing ``item_clause`` covers the aspect at ``aspect_clause``.

    The item's clause must start with the aspect's (第五条第（二）项 covers 第五条), but a digit
    may not continue a number (6.10 does not cover 6.1, 7.3.12 not 7.3.1). Lists (、) and
    numeric ranges (7.4.1～7.4.3) cover each clause they name.
    """
    for ref in _clause_refs(item_clause):
        if not ref.startswith(aspect_clause):
            continue
        rest = ref[len(aspect_clause) :]
        if rest[:1].isdigit() and aspect_clause[-1:].isdigit():
            continue
        return True
    return False


def covering_items(
    templates: Templates, key: str, aspect_clause: str, *, severity: str | None = None
) -> list[tuple[Template, Item]]:
    """(template, item) pairs that cover one aspect, newest versions only, in template order.

    ``severity="major"`` keeps only items that are a major hazard by themselves.
    """
    return [
        (t, item)
        for t in _as_list(templates, True)
        for item in t.items()
        if item.basis.standard == key
        and clause_covers(item.basis.clause, aspect_clause)
        and (severity is None or item.severity == severity)
    ]


def uncovered_aspects(
    templates: Templates,
    standards: Mapping[str, StandardAspects],
    *,
    severity: str | None = None,
) -> dict[str, list[str]]:
    """``{standard key: [clauses no item covers]}`` for every structured standard.

    Every key is present (an empty list means complete). With ``severity="major"`` an aspect
    counts as covered only by an item that is major by itself.
    """
    chosen = _as_list(templates, True)
    return {
        key: [
            a.clause
            for a in std.aspects
            if not covering_items(chosen, key, a.clause, severity=severity)
        ]
        for key, std in standards.items()
    }


# Phrases the template authors use for "not confirmed yet" (not the verb 核对 on its own, which
# guidance also uses for "compare on site").
_MARKERS = re.compile(
    r"待[^。；，,;]{0,12}核对|依据记忆|二手资料|to be confirmed|confirm against|from memory"
    r"|secondary source",
    re.IGNORECASE,
)


def confirm_marker(text: Localized) -> str | None:
    """The sentence of ``text`` that says something awaits confirmation, or None."""
    for lang in ("zh", "en"):
        value = getattr(text, lang)
        for sentence in re.split(r"(?<=[。；])|(?<=[.;] )", value):
            if _MARKERS.search(sentence):
                return sentence.strip().rstrip("。；;.").strip()
    return None


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


def _title(chosen: list[Template], key: str) -> str:
    """``zh / en`` title as the templates declare it, or the bare key."""
    for t in chosen:
        std = t.standard(key)
        if std is not None:
            return f"{_md(std.title.zh)} / {_md(std.title.en)}"
    return f"`{key}` (⚠ not declared by any template / 未在模板中声明)"


def _item_refs(pairs: list[tuple[Template, Item]], many_templates: bool) -> str:
    """``id (severity)`` per item, prefixed by the template when several cite the standard."""
    by_label: dict[str, list[str]] = {}
    for t, item in pairs:
        by_label.setdefault(_label(t), []).append(f"`{item.id}` ({item.severity})")
    if not many_templates:
        return "; ".join(ref for refs in by_label.values() for ref in refs)
    return "; ".join(f"{label}: {', '.join(refs)}" for label, refs in by_label.items())


def _aspect_summary(chosen: list[Template], standards: Mapping[str, StandardAspects]) -> list[str]:
    lines = [
        "| Standard / 标准 | Aspects / 要点 | Covered / 已覆盖 | By a major item / 由重大项覆盖 "
        "| Not covered / 未覆盖 |",
        "|---|---:|---:|---:|---|",
    ]
    any_items = uncovered_aspects(chosen, standards)
    major = uncovered_aspects(chosen, standards, severity="major")
    for key, std in standards.items():
        if not std.aspects:
            continue
        n = len(std.aspects)
        missing = ", ".join(any_items[key]) or "—"
        lines.append(
            f"| `{key}` | {n} | {n - len(any_items[key])} | {n - len(major[key])} "
            f"| {_md(missing)} |"
        )
    return lines


def _aspect_block(chosen: list[Template], std: StandardAspects) -> list[str]:
    citing = [t for t in chosen if any(i.basis.standard == std.key for i in t.items())]
    lines = [f"### {_title(chosen, std.key)}", ""]
    if not std.aspects:
        n = sum(1 for t in citing for i in t.items() if i.basis.standard == std.key)
        lines += [
            f"- Key: `{std.key}`. Structure not recorded / 未整理条目结构 ({n} item(s) cite it; "
            "see Unconfirmed / 待核对 below).",
            "",
        ]
        return lines
    pairs = {a.clause: covering_items(chosen, std.key, a.clause) for a in std.aspects}
    uncovered = [a.clause for a in std.aspects if not pairs[a.clause]]
    general_only = [
        a.clause
        for a in std.aspects
        if pairs[a.clause] and all(i.severity != "major" for _, i in pairs[a.clause])
    ]
    lines.append(
        f"- Key: `{std.key}`; aspects / 要点: {len(std.aspects)}; covered / 已覆盖: "
        f"{len(std.aspects) - len(uncovered)}; templates / 模板: "
        + (", ".join(_label(t) for t in citing) or "—")
    )
    if uncovered:
        lines.append(f"- **⚠ Not covered / 未覆盖: {', '.join(uncovered)}**")
    if general_only:
        lines.append(f"- Covered by general items only / 仅由一般项覆盖: {', '.join(general_only)}")
    lines += [
        "",
        "| Clause / 条款 | Aspect / 要点 | Items / 检查项 |",
        "|---|---|---|",
    ]
    many = len(citing) > 1
    for a in std.aspects:
        mark = " (待核对 / unconfirmed)" if not a.confirmed else ""
        cell = _item_refs(pairs[a.clause], many) or "**⚠ NOT COVERED / 未覆盖**"
        lines.append(f"| {_md(a.clause)}{mark} | {_md(a.zh)} / {_md(a.en)} | {cell} |")
    unmatched = [
        (t, i)
        for t in citing
        for i in t.items()
        if i.basis.standard == std.key
        and not any(clause_covers(i.basis.clause, a.clause) for a in std.aspects)
    ]
    if unmatched:
        lines += [
            "",
            "Items citing a clause outside the aspect list / 引用条款不在要点清单中的检查项:",
            *[f"- `{i.id}` ({_label(t)}, {_md(i.basis.clause)})" for t, i in unmatched],
        ]
    return [*lines, ""]


def _marked(chosen: list[Template]) -> dict[str, list[tuple[Template, Item | CountRule, str]]]:
    """Items (by guidance) and count rules (by title) that say they await confirmation."""
    found: dict[str, list[tuple[Template, Item | CountRule, str]]] = {}
    for t in chosen:
        for item in t.items():
            marker = confirm_marker(item.guidance)
            if marker:
                found.setdefault(item.basis.standard, []).append((t, item, marker))
        for rule in t.count_rules:
            marker = confirm_marker(rule.title)
            if marker:
                found.setdefault(rule.basis.standard, []).append((t, rule, marker))
    return found


def _unconfirmed_section(
    chosen: list[Template], standards: Mapping[str, StandardAspects]
) -> list[str]:
    marked = _marked(chosen)
    keys = [k for k in standards if standards[k].unconfirmed or k in marked]
    keys += sorted(k for k in marked if k not in standards)
    total = sum(len(v) for v in marked.values())
    lines = [
        "## Unconfirmed / 待核对",
        "",
        "What the template authors could not confirm against the official texts: notes per "
        "standard (from `standards.yaml`), aspects marked unconfirmed, and every item or count "
        f"rule whose guidance or title says it awaits a check ({total} in all).",
        "",
    ]
    for key in keys:
        std = standards.get(key)
        lines += [f"### `{key}`: {_title(chosen, key)}", ""]
        if std is not None:
            lines += [f"- {_md(n.zh)} / {_md(n.en)}" for n in std.unconfirmed]
            for a in std.aspects:
                if not a.confirmed:
                    lines.append(
                        f"- Aspect / 要点 {_md(a.clause)} unconfirmed / 待核对: {_md(a.zh)}"
                    )
            if std.unconfirmed or any(not a.confirmed for a in std.aspects):
                lines.append("")
        entries = marked.get(key, [])
        if entries:
            lines += [
                "| Item / 检查项 | Template / 模板 | Clause / 条款 | Note / 说明 |",
                "|---|---|---|---|",
            ]
            for t, obj, marker in entries:
                kind = "" if isinstance(obj, Item) else " (count rule)"
                lines.append(
                    f"| `{obj.id}`{kind} | {_label(t)} | {_md(obj.basis.clause)} | {_md(marker)} |"
                )
            lines.append("")
    return lines


def coverage_markdown(
    templates: Templates,
    standards: Mapping[str, StandardAspects] | None = None,
    *,
    latest_only: bool = True,
) -> str:
    """Markdown report of standards coverage.

    ``templates`` is load_all() output or any iterable of Template. By default only the newest
    version of each template counts, since that is what new inspections use; pass
    ``latest_only=False`` to audit every version. ``standards`` (load_standards() output) adds
    the per-aspect coverage and the unconfirmed list; aspect coverage always uses the newest
    versions.
    """
    chosen = _as_list(templates, latest_only)
    coverage, uncited = _collect(chosen)
    lines = ["# Checklist coverage / 检查表覆盖情况", ""]
    if not chosen:
        return "\n".join([*lines, "No templates. / 无模板。", ""])
    lines += [
        "Generated by `hazardchain checklists coverage --write` from the templates and "
        "`standards.yaml`; do not edit by hand. / 由命令生成，请勿手工修改。",
        "",
    ]
    lines += ["## Templates / 模板", "", *_template_summary(chosen), ""]
    standards = standards or {}
    newest = _as_list(templates, True)
    if standards:
        lines += [
            "## Aspects and the items that cover them / 标准要点覆盖情况",
            "",
            "An item covers an aspect when it cites the standard and its clause starts with the "
            "aspect's clause (第五条第（二）项 → 第五条). / 检查项引用该标准且条款以要点条款开头即视为覆盖。",
            "",
            *_aspect_summary(newest, standards),
            "",
        ]
        for std in standards.values():
            lines += _aspect_block(newest, std)
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
    lines += _left_out_section(newest, standards)
    lines += _unconfirmed_section(newest, standards)
    return "\n".join(lines)


def _left_out_section(
    chosen: list[Template], standards: Mapping[str, StandardAspects]
) -> list[str]:
    """What the standards require that no on-site item checks, and why (from standards.yaml)."""
    keys = [k for k, std in standards.items() if std.left_out]
    if not keys:
        return []
    lines = [
        "## Left out of on-site checks / 未纳入现场检查",
        "",
        "Clauses an inspector cannot check on site (laboratory tests, design review, other "
        "authorities' procedures), with the reason. / 现场无法检查的条款及原因。",
        "",
    ]
    for key in keys:
        lines += [f"### `{key}`: {_title(chosen, key)}", ""]
        lines += [f"- {_md(n.zh)} / {_md(n.en)}" for n in standards[key].left_out]
        lines.append("")
    return lines
