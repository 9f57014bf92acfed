"""Checklist templates: schema, loading, tree validation, publication lock and evaluation.

The file format is fixed by ``docs/checklist-format.md``: one folder per template under
``checklists/``, one ``<version>.yaml`` file per version. A published version is immutable
because finished inspections stay pinned to it; ``versions.lock.json`` records a SHA-256 per
published file so that an in-place edit is caught before it ships.

Only pydantic, PyYAML and the standard-library-only ``shared.text`` and ``shared.deadlines``
are imported so that the server, the tablet app and CI can share it.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    ValidationError,
    field_validator,
    model_serializer,
)

from shared.deadlines import STOP_WORK_NOTE, item_deadline_problems
from shared.matters import link_id, matter_def
from shared.text import for_inspectors, latin_words

__all__ = [
    "LEGACY_VERSIONS",
    "REGULATOR_ONLY",
    "Basis",
    "ChecklistAnswerError",
    "ChecklistError",
    "ChecklistTemplateError",
    "Chain",
    "Choice",
    "CountRule",
    "Finding",
    "Item",
    "Localized",
    "PassRule",
    "Profile",
    "Section",
    "Standard",
    "Template",
    "check_template",
    "evaluate",
    "latest_versions",
    "load_all",
    "load_template",
    "template_digest",
]

# Versions published before items carried ``hazard`` wording and before the answer convention
# and deadline rule: they stay servable and evaluable exactly as published, so the rules below
# exempt them. The set is closed; every later version follows the rules.
LEGACY_VERSIONS: frozenset[tuple[str, int]] = frozenset(
    {
        ("coal_mine", 1),
        ("crowded_venue", 1),
        ("hazardous_chemicals", 1),
        ("high_rise_fire", 1),
        ("noncoal_mine", 1),
    }
)

Severity = Literal["general", "major"]
AnswerType = Literal["yes_no", "number", "choice", "text"]
Industry = Literal[
    "mine",
    "chemical",
    "high_rise",
    "crowded_venue",
    "town_gas",
    "ebike",
    "transport",
    "construction",
    "industry_trade",
]
Op = Literal["<", "<=", ">", ">=", "==", "between"]
YesNo = Literal["yes", "no"]
# Who may inspect with a template: the regulator (inspectors, officers), the enterprise itself
# (自查: a patrol or check the rules require of it), or both.
Inspector = Literal["regulator", "enterprise"]
REGULATOR_ONLY: tuple[Inspector, ...] = ("regulator",)

NA = "na"  # 不适用: the item does not apply here (the inspector says why)
UNCHECKED = "unchecked"  # 未检查: the item applies but was not checked this time (and why)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class ChecklistError(Exception):
    """Base error; carries both languages because inspectors and auditors read either."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_en} / {message_zh}")
        self.message_zh = message_zh
        self.message_en = message_en


class ChecklistAnswerError(ChecklistError):
    """An answer that cannot be evaluated; raised rather than guessed so no finding is lost."""

    def __init__(self, item_id: str, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.args = (f"{item_id}: {message_en} / {message_zh}",)
        self.item_id = item_id


class ChecklistTemplateError(ChecklistError):
    """A template file (or tree) that must not be served; ``problems`` lists every reason."""

    def __init__(self, path: Path | str, problems: Sequence[str]) -> None:
        self.path = Path(path)
        self.problems = list(problems)
        joined = "; ".join(self.problems)
        super().__init__(f"检查表模板无效：{joined}", f"invalid checklist template: {joined}")


# --------------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------------


class _Model(BaseModel):
    """Frozen (templates are shared read-only) and strict about unknown keys (typos)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Localized(_Model):
    """Text in both languages. Empty defaults let the validator name what is missing."""

    zh: str = ""
    en: str = ""

    def missing(self) -> list[str]:
        """Language codes whose text is blank."""
        return [lang for lang in ("zh", "en") if not getattr(self, lang).strip()]


class Chain(_Model):
    """The "一件事" matter and link an inspection inspects (``shared.matters``): a hazard raised
    there is tagged with it. ``link`` is the stage (``use`` for ``lpg.use``); None tags the
    matter only."""

    matter: str = Field(min_length=1)
    link: str | None = None

    def link_id(self) -> str | None:
        return link_id(self.matter, self.link) if self.link else None


class Profile(Localized):
    """A premises profile (e.g. school, mall) that switches profile-only items on."""

    id: str = Field(min_length=1)
    chain: Chain | None = None


class Standard(_Model):
    """A regulation or national standard that items cite; edition matters (GB 35181 2017/2025)."""

    key: str = Field(min_length=1)
    title: Localized
    issued: date
    in_force: date
    edition: str = Field(min_length=1)
    url: str | None = None

    @field_validator("edition", mode="before")
    @classmethod
    def _edition_as_text(cls, value: Any) -> Any:
        """``edition: 2020`` unquoted is an int in YAML; the edition is a label, keep it text."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Basis(_Model):
    """Where an item comes from: a declared standard key plus the clause, as cited in findings."""

    standard: str
    clause: str = ""


class PassRule(_Model):
    """Compliance condition of a number item. ``between`` is inclusive at both ends."""

    op: Op
    value: float | None = Field(default=None, allow_inf_nan=False)
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)

    @field_validator("value", "min", "max", mode="before")
    @classmethod
    def _no_bools(cls, value: Any) -> Any:
        """YAML ``true`` would otherwise become 1.0 silently."""
        if isinstance(value, bool):
            raise ValueError("must be a number, not true/false")
        return value

    def passes(self, x: float) -> bool:
        """Whether reading ``x`` is compliant."""
        if self.op == "between":
            return self.min is not None and self.max is not None and self.min <= x <= self.max
        v = self.value
        if v is None:
            return False
        return {
            "<": x < v,
            "<=": x <= v,
            ">": x > v,
            ">=": x >= v,
            "==": x == v,
        }[self.op]

    def problems(self) -> list[str]:
        """Missing or contradictory bounds, as (en, zh) pairs joined for the validator."""
        if self.op == "between":
            if self.min is None or self.max is None:
                return ["pass_rule 'between' needs min and max（区间规则须有 min 与 max）"]
            if self.min > self.max:
                return ["pass_rule min is greater than max（区间下限大于上限）"]
            if self.value is not None:
                return ["pass_rule 'between' takes min/max, not value（区间规则不用 value）"]
            return []
        if self.value is None:
            return [f"pass_rule '{self.op}' needs a value（比较规则须有 value）"]
        if self.min is not None or self.max is not None:
            return [f"pass_rule '{self.op}' takes value, not min/max（比较规则不用 min/max）"]
        return []

    def describe(self, unit: str) -> str:
        """The requirement in symbols, e.g. ``< 1.0 %``; language-neutral on purpose."""
        suffix = f" {unit}" if unit else ""
        if self.op == "between":
            return f"{_num(self.min)}–{_num(self.max)}{suffix}"
        symbol = {"<": "<", "<=": "≤", ">": ">", ">=": "≥", "==": "="}[self.op]
        return f"{symbol} {_num(self.value)}{suffix}"


class Choice(Localized):
    """One option of a choice item; ``pass`` (a Python keyword) is exposed as ``passes``."""

    value: str = Field(min_length=1)
    passes: bool = Field(alias="pass")


def _yes_no_from_bool(value: Any) -> Any:
    """PyYAML elsewhere reads ``yes``/``no`` as booleans (YAML 1.1); map them back."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


class Item(_Model):
    """One check. Fields that only apply to some answer types are checked by check_template()."""

    id: str = Field(pattern=r"^[a-z0-9_.]+$")
    text: Localized
    answer: AnswerType
    severity: Severity
    basis: Basis
    guidance: Localized = Localized()
    photo_required: bool
    deadline_days: StrictInt = Field(ge=0)
    unit: str | None = None
    pass_rule: PassRule | None = None
    pass_when: YesNo | None = None
    choices: tuple[Choice, ...] = ()
    profiles: tuple[str, ...] | None = None
    groups: tuple[str, ...] = ()
    # How the finding is written when the item fails: the title of the hazard it raises.
    hazard: Localized | None = None
    # A failure stops the work (or the premises or equipment) concerned until it is put right.
    stop_work: bool = False
    # What to do at once while a major is being put right under its plan.
    measures: Localized | None = None

    @model_serializer(mode="wrap")
    def _omit_unset_wording(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out the fields added with the defect wording while they hold their defaults,
        so a version published before them keeps its canonical JSON and so its digest."""
        data = handler(self)
        for key in ("hazard", "measures"):
            if data.get(key) is None:
                data.pop(key, None)
        if data.get("stop_work") is False:
            data.pop("stop_work", None)
        return data

    @field_validator("pass_when", mode="before")
    @classmethod
    def _pass_when_text(cls, value: Any) -> Any:
        return _yes_no_from_bool(value)

    def applies_to(self, profile: str | None) -> bool:
        """Absent ``profiles`` means every inspection; otherwise only the listed profiles."""
        return self.profiles is None or (profile is not None and profile in self.profiles)


class Section(_Model):
    """A titled group of items, shown as one page or tab on the tablet."""

    id: str = Field(min_length=1)
    title: Localized
    chain: Chain | None = None
    items: tuple[Item, ...] = ()


class CountRule(_Model):
    """GB 35181 comprehensive determination: enough failed elements together make a major hazard."""

    id: str = Field(min_length=1)
    title: Localized
    groups: tuple[str, ...] = Field(min_length=1)
    min_failed: StrictInt
    profiles: tuple[str, ...] | None = None
    severity: Severity = "major"
    basis: Basis

    def applies_to(self, profile: str | None) -> bool:
        """Same profile semantics as items."""
        return self.profiles is None or (profile is not None and profile in self.profiles)


class Template(_Model):
    """One version of one checklist template (``checklists/<id>/<version>.yaml``)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    version: StrictInt = Field(ge=1)
    title: Localized
    industry: Industry
    chain: Chain | None = None
    profiles: tuple[Profile, ...] = ()
    standards: tuple[Standard, ...] = Field(min_length=1)
    sections: tuple[Section, ...] = Field(min_length=1)
    count_rules: tuple[CountRule, ...] = ()
    # Who may use it (absent: the regulator only, as every template before this field).
    inspectors: tuple[Inspector, ...] = REGULATOR_ONLY

    @model_serializer(mode="wrap")
    def _omit_default_inspectors(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave ``inspectors`` out while it is the default, so a version published before it
        keeps its canonical JSON and so its digest (and its pinned inspections)."""
        data = handler(self)
        if tuple(data.get("inspectors") or REGULATOR_ONLY) == REGULATOR_ONLY:
            data.pop("inspectors", None)
        return data

    def usable_by(self, inspector: Inspector) -> bool:
        """Whether the regulator or the enterprise may inspect with this template."""
        return inspector in self.inspectors

    @property
    def self_inspection(self) -> bool:
        """An enterprise's own patrol or check (自查): it needs only the patroller's signature."""
        return "enterprise" in self.inspectors

    @cached_property
    def items_by_id(self) -> dict[str, Item]:
        """Item lookup table (built once; templates are immutable)."""
        # First occurrence wins; duplicates are reported by check_template().
        index: dict[str, Item] = {}
        for item in self.items():
            index.setdefault(item.id, item)
        return index

    def items(self) -> Iterator[Item]:
        """All items in display order (section by section)."""
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        """The item with this id; ``KeyError`` if the template has none."""
        return self.items_by_id[item_id]

    def standard(self, key: str) -> Standard | None:
        """The declared standard with this key, if any."""
        return next((s for s in self.standards if s.key == key), None)

    def profile_ids(self) -> set[str]:
        """Ids of the declared premises profiles."""
        return {p.id for p in self.profiles}

    def chain_for(self, profile: str | None, item_id: str | None = None) -> Chain | None:
        """The matter and link a finding on ``item_id`` (or a count rule) is tagged with.

        The profile's chain wins (a bottled-LPG shop inspects the 销售 link whatever section the
        item sits in); a profile without one (a residential compound: parking and charging)
        takes its item's section's chain; the template's chain is the default.
        """
        declared = next((p.chain for p in self.profiles if p.id == profile), None)
        if declared is not None:
            return declared
        if item_id is not None:
            section = next(
                (s for s in self.sections if any(i.id == item_id for i in s.items)), None
            )
            if section is not None and section.chain is not None:
                return section.chain
        return self.chain


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and duplicate-key detection.

    YAML 1.1 reads ``yes``/``no``/``on``/``off`` as booleans, which would turn
    ``pass_when: yes`` and ``value: no`` into True/False; and a repeated key silently keeps
    the last value, hiding copy-paste mistakes in long templates.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}（重复的键）", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_BOOL_TAG = "tag:yaml.org,2002:bool"
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _parse_yaml(data: bytes, where: str) -> Any:
    """Decode UTF-8 (BOM tolerated) and parse with the strict loader."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChecklistTemplateError(
            where, [f"{where}: not UTF-8（文件不是 UTF-8 编码）: {exc}"]
        ) from exc
    try:
        return yaml.load(text, Loader=_YamlLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        msg = str(exc).replace("\n", " ")
        raise ChecklistTemplateError(
            where, [f"{where}: YAML error（YAML 语法错误）: {msg}"]
        ) from exc


def _loc_label(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic error location, naming items/sections by id where the raw data has it."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and 0 <= step < len(node):
                node = node[step]
                if isinstance(node, dict) and isinstance(node.get("id") or node.get("key"), str):
                    label = f"[{node.get('id') or node.get('key')}]"
            else:
                node = None
            parts.append(label)
        else:
            node = node.get(step) if isinstance(node, dict) else None
            parts.append(f".{step}" if parts else str(step))
    return "".join(parts) or "(top level)"


def _schema_problems(raw: Any, err: ValidationError, where: str) -> list[str]:
    """One readable line per pydantic error."""
    return [
        f"{where}: {_loc_label(raw, tuple(e['loc']))}: {e['msg']}（结构错误）" for e in err.errors()
    ]


def parse_template(data: bytes, where: str) -> Template:
    """Bytes to a checked Template, or ChecklistTemplateError with every problem found."""
    raw = _parse_yaml(data, where)
    if not isinstance(raw, dict):
        raise ChecklistTemplateError(
            where, [f"{where}: top level must be a mapping（顶层须为映射）"]
        )
    try:
        template = Template.model_validate(raw)
    except ValidationError as exc:
        raise ChecklistTemplateError(where, _schema_problems(raw, exc, where)) from None
    problems = [f"{where}: {p}" for p in check_template(template)]
    if problems:
        raise ChecklistTemplateError(where, problems)
    return template


def load_template(path: Path | str) -> Template:
    """Load and check one template file.

    Raises ChecklistTemplateError listing every schema or consistency problem, so a broken
    template is never served. Publication rules (folder/file naming, minimum size, lock)
    are tree-level and live in validate_tree().
    """
    path = Path(path)
    return parse_template(path.read_bytes(), str(path))


def template_dirs(root: Path) -> list[Path]:
    """Template folders: visible sub-directories of the checklists root."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def template_files(root: Path) -> list[Path]:
    """Every ``*.yaml`` file one level below a template folder."""
    return [f for d in template_dirs(root) for f in sorted(d.glob("*.yaml")) if f.is_file()]


def rel_path(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def path_problems(template: Template, path: Path, where: str) -> list[str]:
    """Folder must equal the id and the file name the version, so URLs and pins stay honest."""
    problems = []
    if template.id != path.parent.name:
        problems.append(
            f"{where}: id '{template.id}' differs from folder '{path.parent.name}'"
            "（模板 id 与文件夹名不一致）"
        )
    if path.stem != str(template.version):
        problems.append(
            f"{where}: version {template.version} differs from file name '{path.name}'"
            "（版本号与文件名不一致）"
        )
    return problems


def read_templates(root: Path) -> Iterator[tuple[Path, Template | None, list[str]]]:
    """Each template file under ``root``: its template (None when it does not parse) and its
    problems (schema, rules, a folder or file name that disagrees with it)."""
    for path in template_files(root):
        where = rel_path(root, path)
        try:
            template = parse_template(path.read_bytes(), where)
        except ChecklistTemplateError as exc:
            yield path, None, list(exc.problems)
            continue
        yield path, template, path_problems(template, path, where)


def load_all(root: Path | str) -> dict[tuple[str, int], Template]:
    """Load every template version under ``root`` keyed by ``(id, version)``.

    Fails as a whole (ChecklistTemplateError with all problems) rather than serving a partial
    set, since a missing old version would orphan inspections pinned to it. The lock is not
    consulted here; CI runs validate_tree().
    """
    root = Path(root)
    result: dict[tuple[str, int], Template] = {}
    problems: list[str] = []
    for _, template, found in read_templates(root):
        problems.extend(found)
        if template is not None and not found:
            result[(template.id, template.version)] = template
    if problems:
        raise ChecklistTemplateError(root, problems)
    return result


def latest_versions(templates: Mapping[tuple[str, int], Template]) -> dict[str, Template]:
    """The highest version of each template id, i.e. what a new inspection should use."""
    latest: dict[str, Template] = {}
    for (template_id, version), template in templates.items():
        if template_id not in latest or version > latest[template_id].version:
            latest[template_id] = template
    return latest


# --------------------------------------------------------------------------------------------
# Consistency checks
# --------------------------------------------------------------------------------------------


def _duplicates(values: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    dups: list[str] = []
    for v in values:
        if v in seen and v not in dups:
            dups.append(v)
        seen.add(v)
    return dups


def _check_languages(label: str, text: Localized, field: str) -> list[str]:
    names = {"zh": "Chinese (zh)（缺中文）", "en": "English (en)（缺英文）"}
    return [f"{label}: {field} is missing {names[lang]}" for lang in text.missing()]


def _check_basis(template: Template, label: str, basis: Basis) -> list[str]:
    problems = []
    if template.standard(basis.standard) is None:
        problems.append(
            f"{label}: basis.standard '{basis.standard}' is not a declared standard"
            "（依据引用了未声明的标准）"
        )
    if not basis.clause.strip():
        problems.append(f"{label}: basis.clause is empty（依据条款为空）")
    return problems


def _check_profiles(template: Template, label: str, profiles: tuple[str, ...] | None) -> list[str]:
    if profiles is None:
        return []
    if not profiles:
        return [f"{label}: profiles is empty; omit it to apply to all（profiles 为空）"]
    declared = template.profile_ids()
    return [
        f"{label}: profile '{p}' is not declared（引用了未声明的场所类型）"
        for p in profiles
        if p not in declared
    ]


def _check_answer_fields(item: Item, label: str) -> list[str]:
    """Each answer type carries exactly the fields it needs to be evaluated."""
    problems: list[str] = []
    if item.answer == "number":
        if not (item.unit or "").strip():
            problems.append(f"{label}: number item needs a unit（数值型检查项须有单位）")
        if item.pass_rule is None:
            problems.append(f"{label}: number item needs a pass_rule（数值型检查项须有合格规则）")
        else:
            problems.extend(f"{label}: {p}" for p in item.pass_rule.problems())
    elif item.unit is not None or item.pass_rule is not None:
        problems.append(f"{label}: unit/pass_rule are for number items only（仅数值型可用）")
    if item.answer == "yes_no" and item.pass_when is None:
        problems.append(f"{label}: yes_no item needs pass_when（是非型检查项须有 pass_when）")
    if item.answer != "yes_no" and item.pass_when is not None:
        problems.append(f"{label}: pass_when is for yes_no items only（仅是非型可用）")
    if item.answer == "choice":
        problems.extend(_check_choices(item, label))
    elif item.choices:
        problems.append(f"{label}: choices are for choice items only（仅选择型可用）")
    return problems


def _check_choices(item: Item, label: str) -> list[str]:
    """A choice item must be able both to pass and to fail, or it checks nothing."""
    problems: list[str] = []
    if not any(c.passes for c in item.choices):
        problems.append(f"{label}: choices need at least one passing option（须至少一个合格选项）")
    if not any(not c.passes for c in item.choices):
        problems.append(
            f"{label}: choices need at least one failing option（须至少一个不合格选项）"
        )
    for dup in _duplicates([c.value for c in item.choices]):
        problems.append(f"{label}: duplicate choice value '{dup}'（选项值重复）")
    for reserved in sorted({NA, UNCHECKED} & {c.value for c in item.choices}):
        problems.append(f"{label}: choice value '{reserved}' is reserved（'{reserved}' 为保留值）")
    for choice in item.choices:
        problems.extend(_check_languages(label, choice, f"choice '{choice.value}'"))
    return problems


def _check_chain(label: str, chain: Chain | None) -> list[str]:
    """A chain must name a matter and link of the catalogue, or no hazard could be tagged."""
    if chain is None:
        return []
    matter = matter_def(chain.matter)
    if matter is None:
        return [f"{label}: chain matter '{chain.matter}' is unknown（未知的一件事事项）"]
    if chain.link is not None and chain.link_id() not in matter.link_ids():
        return [
            f"{label}: chain link '{chain.link}' is not a link of '{chain.matter}'"
            "（该事项没有此环节）"
        ]
    return []


def _check_wording(item: Item, label: str) -> list[str]:
    """The rules every version after LEGACY_VERSIONS follows (docs/checklist-format.md):
    defect wording in both languages with no English inside the Chinese, yes = compliant,
    and the deadline rule of ``shared.deadlines``."""
    problems: list[str] = []
    if item.hazard is None:
        problems.append(
            f"{label}: hazard is missing: how the finding is written when the item fails, "
            "zh and en（缺少隐患表述 hazard）"
        )
    for field, text in (("hazard", item.hazard), ("measures", item.measures)):
        if text is None:
            continue
        problems.extend(_check_languages(label, text, field))
        stray = latin_words(text.zh)
        if stray:
            problems.append(
                f"{label}: {field}.zh has English in it: {', '.join(stray)}（中文表述夹带英文）"
            )
    if item.answer == "yes_no" and item.pass_when == "no":
        problems.append(
            f"{label}: state the requirement so that yes is compliant (pass_when: yes)"
            "（检查项应陈述要求，“是”为合格）"
        )
    problems.extend(
        f"{label}: {p}"
        for p in item_deadline_problems(
            item.severity,
            item.deadline_days,
            stop_work=item.stop_work,
            has_measures=item.measures is not None,
        )
    )
    return problems


def _check_item(template: Template, item: Item) -> list[str]:
    label = f"item '{item.id}'"
    legacy = (template.id, template.version) in LEGACY_VERSIONS
    return [
        *_check_languages(label, item.text, "text"),
        *_check_languages(label, item.guidance, "guidance"),
        *_check_basis(template, label, item.basis),
        *_check_answer_fields(item, label),
        *_check_profiles(template, label, item.profiles),
        *([] if legacy else _check_wording(item, label)),
    ]


def _check_count_rule(template: Template, rule: CountRule) -> list[str]:
    label = f"count rule '{rule.id}'"
    problems = [
        *_check_languages(label, rule.title, "title"),
        *_check_basis(template, label, rule.basis),
        *_check_profiles(template, label, rule.profiles),
    ]
    grouped = {g for item in template.items() for g in item.groups}
    for group in rule.groups:
        if group not in grouped:
            problems.append(f"{label}: no item is in group '{group}'（没有检查项属于该组）")
    if rule.min_failed < 1:
        problems.append(f"{label}: min_failed must be >= 1（min_failed 须 ≥ 1）")
    members = [i for i in template.items() if set(i.groups) & set(rule.groups)]
    if members and rule.min_failed > len(members):
        problems.append(
            f"{label}: min_failed {rule.min_failed} exceeds the {len(members)} items in its "
            "groups, so it can never fire（阈值大于组内检查项数，永不触发）"
        )
    return problems


def check_template(template: Template) -> list[str]:
    """Consistency problems inside one template (empty list = usable)."""
    problems = _check_languages("template", template.title, "title")
    if not template.inspectors:
        problems.append(
            "template: inspectors is empty; name regulator, enterprise or both"
            "（inspectors 为空：须注明监管检查、企业自查或两者）"
        )
    for who in _duplicates(list(template.inspectors)):
        problems.append(f"template: inspectors lists '{who}' twice（inspectors 重复）")
    problems += _check_chain("template", template.chain)
    for key in _duplicates([s.key for s in template.standards]):
        problems.append(f"duplicate standard key '{key}'（标准键重复）")
    for standard in template.standards:
        problems.extend(_check_languages(f"standard '{standard.key}'", standard.title, "title"))
    for pid in _duplicates([p.id for p in template.profiles]):
        problems.append(f"duplicate profile id '{pid}'（场所类型 id 重复）")
    for profile in template.profiles:
        problems.extend(_check_languages(f"profile '{profile.id}'", profile, "name"))
        problems.extend(_check_chain(f"profile '{profile.id}'", profile.chain))
    for sid in _duplicates([s.id for s in template.sections]):
        problems.append(f"duplicate section id '{sid}'（章节 id 重复）")
    for section in template.sections:
        problems.extend(_check_languages(f"section '{section.id}'", section.title, "title"))
        problems.extend(_check_chain(f"section '{section.id}'", section.chain))
        if not section.items:
            problems.append(f"section '{section.id}' has no items（章节没有检查项）")
    item_ids = [i.id for i in template.items()]
    for iid in _duplicates(item_ids):
        problems.append(f"duplicate item id '{iid}'（检查项 id 重复）")
    for item in template.items():
        problems.extend(_check_item(template, item))
    rule_ids = [r.id for r in template.count_rules]
    for rid in _duplicates(rule_ids):
        problems.append(f"duplicate count rule id '{rid}'（综合判定规则 id 重复）")
    for rid in sorted(set(rule_ids) & set(item_ids)):
        problems.append(f"count rule id '{rid}' is also an item id（与检查项 id 冲突）")
    for rule in template.count_rules:
        problems.extend(_check_count_rule(template, rule))
    return problems


# Optional keys added to the schema after templates were published: left out of the digest
# while unset, so a version imported before they existed keeps its digest (and its pins).
_ADDED_KEYS = {
    "template": ("chain",),
    "profile": ("chain",),
    "section": ("chain",),
    "item": ("hazard",),
}


def _without_unset_additions(payload: dict[str, Any]) -> dict[str, Any]:
    def strip(node: dict[str, Any], kind: str) -> dict[str, Any]:
        return {k: v for k, v in node.items() if not (v is None and k in _ADDED_KEYS[kind])}

    out = strip(payload, "template")
    out["profiles"] = [strip(p, "profile") for p in payload.get("profiles", [])]
    out["sections"] = [
        {**strip(s, "section"), "items": [strip(i, "item") for i in s.get("items", [])]}
        for s in payload.get("sections", [])
    ]
    return out


def template_digest(template: Template) -> str:
    """SHA-256 of the template's canonical JSON.

    Lets an inspection record pin exactly what it was evaluated against. It ignores YAML
    comments and layout, so it differs from the file hash in the lock.
    """
    payload = _without_unset_additions(template.model_dump(mode="json", by_alias=True))
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """A hazard produced by evaluating answers; ready to become a rectification record.

    ``item_id`` is the item id, or the count-rule id when ``kind == "count_rule"``; then
    ``related_item_ids`` lists the failed items that triggered it. ``basis`` is the Chinese
    citation (the legal text of record), ``basis_en`` the English one.
    """

    item_id: str
    kind: Literal["item", "count_rule"]
    severity: Severity
    description_zh: str
    description_en: str
    basis: str
    basis_en: str
    deadline_days: int
    photo_required: bool
    related_item_ids: tuple[str, ...] = ()
    # The hazard's title: the item's defect wording (the requirement text for items of
    # LEGACY_VERSIONS, which have none), or the count rule's title.
    title_zh: str = ""
    title_en: str = ""
    stop_work: bool = False
    measures_zh: str = ""
    measures_en: str = ""


def _num(value: float | None) -> str:
    """Shortest faithful rendering: 1.6 -> '1.6', 2 -> '2', 1.0 stays '1.0'."""
    if value is None:
        return "?"
    return str(value)


def _basis_text(template: Template, basis: Basis) -> tuple[str, str]:
    standard = template.standard(basis.standard)
    clause = for_inspectors(basis.clause)
    if standard is None:  # only reachable for templates that skipped check_template()
        return f"{basis.standard} {clause}", f"{basis.standard} {clause}"
    return (
        f"{standard.title.zh} {clause}".strip(),
        f"{standard.title.en} {clause}".strip(),
    )


def _bad(item: Item, zh: str, en: str) -> ChecklistAnswerError:
    return ChecklistAnswerError(item.id, f"{item.text.zh}：{zh}", f"{item.text.en}: {en}")


def _yes_no_failure(item: Item, answer: object) -> tuple[str, str] | None:
    """(zh, en) answer/requirement text if failed, None if compliant."""
    if item.pass_when is None:
        raise _bad(item, "模板缺少 pass_when", "the template has no pass_when")
    if answer not in ("yes", "no"):
        raise _bad(
            item,
            f"应答“{answer}”无效，应为 yes、no 或 na",
            f"invalid answer {answer!r}; expected yes, no or na",
        )
    if answer == item.pass_when:
        return None
    zh = {"yes": "是", "no": "否"}
    return (
        f"{zh[str(answer)]}（要求 {zh[item.pass_when]}）",
        f"{answer} (required: {item.pass_when})",
    )


def _number_failure(item: Item, answer: object) -> tuple[str, str] | None:
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        raise _bad(item, f"应答“{answer}”不是数值", f"answer {answer!r} is not a number")
    if not math.isfinite(answer):
        raise _bad(item, "数值须为有限数", "the number must be finite")
    rule = item.pass_rule
    if rule is None:
        raise _bad(item, "模板缺少合格规则", "the template has no pass_rule")
    if rule.passes(float(answer)):
        return None
    unit = f" {item.unit}" if item.unit else ""
    required = rule.describe(item.unit or "")
    return f"{_num(answer)}{unit}（要求 {required}）", f"{_num(answer)}{unit} (required {required})"


def _choice_failure(item: Item, answer: object) -> tuple[str, str] | None:
    by_value = {c.value: c for c in item.choices}
    if not isinstance(answer, str) or answer not in by_value:
        allowed = ", ".join([*by_value, NA])
        raise _bad(
            item,
            f"未知选项“{answer}”，可选：{allowed}",
            f"unknown choice {answer!r}; allowed: {allowed}",
        )
    choice = by_value[answer]
    if choice.passes:
        return None
    ok = [c for c in item.choices if c.passes]
    return (
        f"{choice.zh}（要求 {'或'.join(c.zh for c in ok)}）",
        f"{choice.en} (required: {' or '.join(c.en for c in ok)})",
    )


def _text_failure(item: Item, answer: object) -> None:
    """Text items only record; they never fail on their own."""
    if not isinstance(answer, str):
        raise _bad(item, "文本型检查项的应答须为文字", f"answer {answer!r} is not text")
    return None


_FAILURE_CHECKS = {
    "yes_no": _yes_no_failure,
    "number": _number_failure,
    "choice": _choice_failure,
    "text": _text_failure,
}


def _item_finding(template: Template, item: Item, failure: tuple[str, str]) -> Finding:
    basis_zh, basis_en = _basis_text(template, item.basis)
    title = item.hazard or item.text
    if item.measures is not None:
        measures = (item.measures.zh, item.measures.en)
    else:
        measures = STOP_WORK_NOTE if item.stop_work else ("", "")
    return Finding(
        item_id=item.id,
        kind="item",
        severity=item.severity,
        description_zh=f"{item.text.zh}：{failure[0]}",
        description_en=f"{item.text.en}: {failure[1]}",
        basis=basis_zh,
        basis_en=basis_en,
        deadline_days=item.deadline_days,
        photo_required=item.photo_required,
        title_zh=title.zh,
        title_en=title.en,
        stop_work=item.stop_work,
        measures_zh=measures[0],
        measures_en=measures[1],
    )


def _count_rule_finding(template: Template, rule: CountRule, failed: list[Item]) -> Finding:
    """One finding naming every contributing item; deadline is the most urgent among them."""
    basis_zh, basis_en = _basis_text(template, rule.basis)
    n = len(failed)
    return Finding(
        item_id=rule.id,
        kind="count_rule",
        severity=rule.severity,
        description_zh=(
            f"{rule.title.zh}：{n} 项不合格（达到 {rule.min_failed} 项即判定）："
            + "；".join((i.hazard or i.text).zh for i in failed)
        ),
        description_en=(
            f"{rule.title.en}: {n} failed items (threshold {rule.min_failed}): "
            + "; ".join((i.hazard or i.text).en for i in failed)
        ),
        basis=basis_zh,
        basis_en=basis_en,
        deadline_days=min(i.deadline_days for i in failed),
        photo_required=False,
        related_item_ids=tuple(i.id for i in failed),
        title_zh=rule.title.zh,
        title_en=rule.title.en,
        stop_work=any(i.stop_work for i in failed),
    )


def _check_profile_arg(template: Template, profile: str | None) -> None:
    if profile is not None and profile not in template.profile_ids():
        known = ", ".join(sorted(template.profile_ids())) or "—"
        raise ChecklistError(
            f"模板 {template.id} 没有场所类型“{profile}”（可选：{known}）",
            f"template {template.id} has no profile {profile!r} (known: {known})",
        )


def evaluate(
    template: Template, answers: Mapping[str, object], profile: str | None = None
) -> list[Finding]:
    """Findings for one inspection's answers, item findings first (template order).

    'na', 'unchecked' and unanswered (absent or None) items yield nothing (whether an inspection
    may be submitted so is ``shared.completion``'s rule); items and count rules outside
    ``profile`` are ignored (with no profile, only items without a ``profiles`` list apply).
    Unknown item ids and answers of the wrong kind raise ChecklistAnswerError instead of
    being dropped, because a dropped answer could hide a major hazard.
    """
    _check_profile_arg(template, profile)
    for item_id in answers:
        if item_id not in template.items_by_id:
            raise ChecklistAnswerError(
                item_id,
                f"模板 {template.id} v{template.version} 中没有该检查项",
                f"no such item in template {template.id} v{template.version}",
            )
    findings: list[Finding] = []
    failed: list[Item] = []
    for item in template.items():
        answer = answers.get(item.id)
        if answer is None or answer in (NA, UNCHECKED) or not item.applies_to(profile):
            continue
        failure = _FAILURE_CHECKS[item.answer](item, answer)
        if failure is not None:
            failed.append(item)
            findings.append(_item_finding(template, item, failure))
    for rule in template.count_rules:
        if not rule.applies_to(profile):
            continue
        hits = [i for i in failed if set(i.groups) & set(rule.groups)]
        if hits and len(hits) >= rule.min_failed:
            findings.append(_count_rule_finding(template, rule, hits))
    return findings
