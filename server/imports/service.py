"""Users and sites from an .xlsx sheet: every row is checked first (a dry run lists each
problem with its row and column, in Chinese and English); a real run writes all rows in the
caller's unit of work, or nothing. The rows go through the same schemas and services as the
API's one-at-a-time endpoints, so a sheet can create nothing those would refuse."""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, select

from server.api.field_messages import field_message
from server.sites import service as sites
from server.sites.models import Site
from server.sites.schemas import SiteCreate
from server.sites.tree import DistrictTree
from server.users import service as users
from server.users.models import User
from server.users.schemas import UserCreate
from shared.errors import DomainError, Refusal
from shared.roles import LOGIN_ROLES, ROLE_NAMES, Role
from shared.site_checklists import industry_mismatch
from shared.taxonomy import Industry, RiskColour, SiteType, name_of

log = logging.getLogger("hazardchain.imports")

Kind = Literal["users", "sites"]
KINDS: tuple[Kind, ...] = ("users", "sites")
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    required: bool = False
    note_zh: str = ""
    note_en: str = ""

    @property
    def header(self) -> str:
        return f"{'*' if self.required else ''}{self.zh}（{self.key}）"


_LIST_ZH = "多个用逗号分隔"
COLUMNS: dict[Kind, tuple[Column, ...]] = {
    "users": (
        Column(
            "username", "用户名", "Username", True, "字母、数字、_ . -", "letters, digits, _ . -"
        ),
        Column("display_name", "姓名", "Name", True),
        Column(
            "role",
            "角色",
            "Role",
            True,
            "、".join(ROLE_NAMES[r][0] for r in LOGIN_ROLES),
            ", ".join(r.value for r in LOGIN_ROLES),
        ),
        Column("password", "初始密码", "Initial password", True, "至少8位", "8 characters or more"),
        Column("unit", "单位", "Unit"),
        Column("phone", "电话", "Phone"),
        Column("email", "邮箱", "Email"),
        Column(
            "district_ids",
            "辖区",
            "Districts",
            False,
            f"辖区代码或名称，{_LIST_ZH}；检查员、监管员、领导必填",
            "district codes or names, comma-separated; required for inspectors, officers, leaders",
        ),
        Column(
            "site_ids",
            "场所",
            "Sites",
            False,
            f"场所名称或编号，{_LIST_ZH}；企业用户必填",
            "site names or ids, comma-separated; required for enterprise users",
        ),
    ),
    "sites": (
        Column("name", "场所名称", "Name", True),
        Column(
            "industry",
            "行业",
            "Industry",
            True,
            "、".join(name_of(i) for i in Industry),
            ", ".join(i.value for i in Industry),
        ),
        Column(
            "site_type",
            "场所类型",
            "Site type",
            True,
            "须属于所填行业，可选：" + "、".join(name_of(t) for t in SiteType),
            "must belong to the industry; one of: " + ", ".join(t.value for t in SiteType),
        ),
        Column("district_id", "辖区", "District", True, "辖区代码或名称", "district code or name"),
        Column(
            "risk_colour",
            "风险等级",
            "Risk colour",
            True,
            "红、橙、黄、蓝",
            ", ".join(c.value for c in RiskColour),
        ),
        Column("address", "地址", "Address"),
        Column("contact_name", "联系人", "Contact"),
        Column("contact_phone", "联系电话", "Contact phone"),
    ),
}
SCHEMAS: dict[Kind, type[BaseModel]] = {"users": UserCreate, "sites": SiteCreate}
LIST_KEYS = {"district_ids", "site_ids"}
_SPLIT = re.compile(r"[,，、;；\n]+")
_HEADER_KEY = re.compile(r"[（(]\s*([a-z_]+)\s*[）)]")


@dataclass(frozen=True)
class Problem:
    row: int  # the sheet's row number (1 is the header)
    column: str  # the column's key (``username``) or ``file``/``header``
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        return self.en if lang.startswith("en") else self.zh

    def label(self, kind: Kind, lang: str = "zh") -> str:
        """The column as its header names it (the key for a problem with the file)."""
        col = next((c for c in COLUMNS[kind] if c.key == self.column), None)
        if col is None:
            return self.column
        return col.en if lang.startswith("en") else col.zh


@dataclass
class Report:
    kind: Kind
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: int = 0
    dry_run: bool = True
    valid: list[tuple[int, dict[str, Any]]] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems


class ImportRefused(DomainError):
    """A real run over a sheet with problems: nothing was written; the report says why."""

    def __init__(self, report: Report) -> None:
        n = len(report.problems)
        first = report.problems[0]
        fields = {f"{p.row}.{p.column}": p.en for p in report.problems[:200]}
        super().__init__(
            Refusal(
                "import_invalid",
                f"表格有{n}处问题，未导入任何数据（第{first.row}行：{first.zh}）",
                f"{n} problem(s) in the sheet; nothing was imported (row {first.row}: {first.en})",
                fields,
            ),
        )
        self.report = report


# ------------------------------------------------------------------ the template


def template_xlsx(kind: Kind) -> bytes:
    """An empty sheet with the right headers (required ones starred) and a notes sheet saying
    what each column takes."""
    wb = Workbook()
    ws = wb.active
    ws.title = "用户" if kind == "users" else "场所"
    cols = COLUMNS[kind]
    ws.append([c.header for c in cols])
    for i in range(1, len(cols) + 1):
        ws.cell(row=1, column=i).font = Font(bold=True)
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = 18
    notes = wb.create_sheet("说明 Notes")
    notes.append(["列 Column", "必填 Required", "说明", "Notes"])
    for c in cols:
        notes.append([c.header, "是 yes" if c.required else "", c.note_zh, c.note_en])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ------------------------------------------------------------------ reading the sheet


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone or district code Excel stored as a number
    return str(value).strip()


def _column_key(header: str, kind: Kind) -> str | None:
    text = header.strip().lstrip("*").strip()
    m = _HEADER_KEY.search(text)
    if m:
        text = m.group(1)
    for c in COLUMNS[kind]:
        if text in (c.key, c.zh, c.en, c.header):
            return c.key
    return None


def read_rows(data: bytes, kind: Kind) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """The sheet's non-empty rows (row number, column key → text), or the problems that stop
    it being read at all (not an .xlsx, headers missing, too many rows)."""
    if len(data) > MAX_BYTES:
        mb = MAX_BYTES // 1024 // 1024
        return [], [Problem(0, "file", f"文件超过{mb}MB", f"file larger than {mb} MB")]
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        return [], [
            Problem(0, "file", "不是有效的Excel文件（.xlsx）", "not a valid Excel file (.xlsx)")
        ]
    try:
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = next(it, None) or ()
        keys = [_column_key(_cell_text(h), kind) for h in header]
        missing = [c for c in COLUMNS[kind] if c.required and c.key not in keys]
        if missing:
            return [], [
                Problem(
                    1,
                    "header",
                    "缺少列：" + "、".join(c.header for c in missing),
                    "missing columns: " + ", ".join(c.header for c in missing),
                )
            ]
        rows: list[tuple[int, dict[str, str]]] = []
        for n, values in enumerate(it, start=2):
            cells = {k: _cell_text(v) for k, v in zip(keys, values, strict=False) if k}
            if not any(cells.values()):
                continue
            if len(rows) >= MAX_ROWS:
                return [], [
                    Problem(
                        n, "file", f"超过{MAX_ROWS}行，请分批导入", f"more than {MAX_ROWS} rows"
                    )
                ]
            rows.append((n, cells))
        return rows, []
    finally:
        wb.close()


# ------------------------------------------------------------------ checking rows


class _Lookup:
    """Names a person types (a district's or site's name, 检查员, 红) → the ids the schemas
    take; one load per sheet."""

    def __init__(self, session: Session) -> None:
        self.districts = DistrictTree(session).by_id
        self.sites = list(session.exec(select(Site)).all())
        self.usernames = set(session.exec(select(User.username)).all())

    def district(self, text: str) -> tuple[str | None, Problem | None]:
        if text in self.districts:
            return text, None
        named = [d.id for d in self.districts.values() if text in (d.name, d.name_en)]
        if len(named) == 1:
            return named[0], None
        if named:
            return None, Problem(
                0,
                "",
                f"辖区“{text}”重名，请填代码",
                f"district {text!r} is ambiguous; use its code",
            )
        return None, Problem(0, "", f"辖区“{text}”不存在", f"unknown district {text!r}")

    def site(self, text: str) -> tuple[str | None, Problem | None]:
        named = [s.id for s in self.sites if text in (s.id, s.name)]
        if len(named) == 1:
            return named[0], None
        if named:
            return None, Problem(
                0, "", f"场所“{text}”重名，请填编号", f"site {text!r} is ambiguous; use its id"
            )
        return None, Problem(0, "", f"场所“{text}”不存在", f"unknown site {text!r}")


def _choice(text: str, values: list[str], names: Callable[[str], tuple[str, ...]]) -> str:
    """A closed choice given as its code or any of its names (商场, Mall, 红); unchanged when it
    is none of them, so the schema refuses it with the allowed values."""
    low = text.lower()
    for v in values:
        if low == v or text in names(v) or low in (n.lower() for n in names(v)):
            return v
    return text


def _taxon_names(v: str) -> tuple[str, ...]:
    zh, en = name_of(v, "zh"), name_of(v, "en")
    return (zh, en, zh.split("（")[0], en.split(" (")[0])


def _role_names(v: str) -> tuple[str, ...]:
    return ROLE_NAMES.get(Role(v), ("", ""))


_CHOICES: dict[str, tuple[list[str], Callable[[str], tuple[str, ...]]]] = {
    "role": ([r.value for r in Role], _role_names),
    "industry": ([i.value for i in Industry], _taxon_names),
    "site_type": ([t.value for t in SiteType], _taxon_names),
    "risk_colour": ([r.value for r in RiskColour], _taxon_names),
}


def _not_a_choice(row: int, c: Column, text: str) -> Problem:
    """A closed choice the sheet got wrong, with the choices (the notes sheet for the long
    list of site types)."""
    if c.key == "site_type":
        return Problem(
            row,
            c.key,
            f"“{text}”不是有效的{c.zh}，可选值见模板“说明”页",
            f"{text!r} is not a valid {c.en.lower()}; see the template's notes sheet",
        )
    return Problem(
        row,
        c.key,
        f"“{text}”不是有效的{c.zh}，可选：{c.note_zh}",
        f"{text!r} is not a valid {c.en.lower()}; use one of: {c.note_en}",
    )


def _at(p: Problem, row: int, column: str) -> Problem:
    return Problem(row, column, p.zh, p.en)


def _convert(
    kind: Kind, row: int, cells: dict[str, str], look: _Lookup
) -> tuple[dict[str, Any], list[Problem]]:
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    for c in COLUMNS[kind]:
        text = cells.get(c.key, "")
        if c.key in LIST_KEYS:
            found = []
            resolve = look.district if c.key == "district_ids" else look.site
            for part in (p.strip() for p in _SPLIT.split(text)):
                if not part:
                    continue
                got, why = resolve(part)
                if why:
                    problems.append(_at(why, row, c.key))
                else:
                    found.append(got)
            data[c.key] = found
        elif c.key == "district_id" and text:
            got, why = look.district(text)
            data[c.key] = got or text
            if why:
                problems.append(_at(why, row, c.key))
        elif text and c.key in _CHOICES:
            values, names = _CHOICES[c.key]
            got = _choice(text, values, names)
            data[c.key] = got
            if got not in values or (c.key == "role" and got == Role.system):
                problems.append(_not_a_choice(row, c, text))
        elif text:
            data[c.key] = text
    return data, problems


def _schema_problems(kind: Kind, row: int, data: dict[str, Any], skip: set[str]) -> list[Problem]:
    try:
        SCHEMAS[kind].model_validate(data)
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            key = str(e["loc"][0]) if e["loc"] else "row"
            if key not in skip:
                out.append(Problem(row, key, field_message(e, "zh"), field_message(e, "en")))
        return out
    return []


def _rule_problems(
    kind: Kind, row: int, data: dict[str, Any], look: _Lookup, bad: set[str]
) -> list[Problem]:
    """The domain's own rules, beyond the schema's shapes (the services check them again when
    writing)."""
    out: list[Problem] = []
    if kind == "users":
        role = data.get("role")
        if role == Role.enterprise and not data.get("site_ids") and "site_ids" not in bad:
            out.append(
                Problem(
                    row,
                    "site_ids",
                    "企业用户必须绑定至少一个场所",
                    "an enterprise user needs at least one site",
                )
            )
        if (
            role in (Role.inspector, Role.officer, Role.leader)
            and not data.get("district_ids")
            and "district_ids" not in bad
        ):
            out.append(
                Problem(
                    row,
                    "district_ids",
                    "该角色必须指定辖区",
                    "this role needs at least one district",
                )
            )
    else:
        industry, site_type = data.get("industry"), data.get("site_type")
        if industry in Industry.__members__ and site_type in SiteType.__members__:
            why = industry_mismatch(industry, site_type)
            if why is not None:
                out.append(Problem(row, "site_type", why.zh, why.en))
    return out


def check(session: Session, kind: Kind, data: bytes) -> Report:
    """Every row's problems, or the rows ready to write; nothing is written."""
    report = Report(kind)
    rows, problems = read_rows(data, kind)
    report.rows = len(rows)
    report.problems += problems
    if problems:
        return report
    if not rows:
        report.problems.append(Problem(2, "file", "表格中没有数据行", "the sheet has no data rows"))
        return report
    look = _Lookup(session)
    seen: dict[tuple[str, ...], int] = {}
    for row, cells in rows:
        data_, found = _convert(kind, row, cells, look)
        bad = {p.column for p in found}
        found += _schema_problems(kind, row, data_, bad)
        found += _rule_problems(kind, row, data_, look, {p.column for p in found})
        if kind == "users":
            name = data_.get("username", "")
            key: tuple[str, ...] = (name.lower(),)
            col = "username"
            if name and name in look.usernames:
                found.append(
                    Problem(row, col, f"用户名“{name}”已存在", f"username {name!r} already taken")
                )
        else:
            name = data_.get("name", "")
            key = (name, str(data_.get("district_id", "")))
            col = "name"
            if name and any(s.name == name and s.district_id == key[1] for s in look.sites):
                found.append(
                    Problem(
                        row,
                        col,
                        f"该辖区已有场所“{name}”",
                        f"a site named {name!r} already exists in this district",
                    )
                )
        if key[0] and key in seen:
            found.append(Problem(row, col, f"与第{seen[key]}行重复", f"duplicates row {seen[key]}"))
        seen.setdefault(key, row)
        if found:
            report.problems += found
        else:
            report.valid.append((row, data_))
    return report


def run(session: Session, kind: Kind, data: bytes, now: datetime, *, dry_run: bool) -> Report:
    """``check``, then (unless ``dry_run``) every row written through the services, inside the
    caller's unit of work; a sheet with any problem writes nothing (``ImportRefused``)."""
    report = check(session, kind, data)
    report.dry_run = dry_run
    if dry_run:
        return report
    if report.problems:
        raise ImportRefused(report)
    schema = SCHEMAS[kind]
    with session.begin_nested():
        for row, values in report.valid:
            body = schema.model_validate(values).model_dump()
            try:
                if kind == "users":
                    users.create_user(session, body, now)
                else:
                    sites.create_site(session, body, now)
            except DomainError as exc:  # a rule the check missed, or a concurrent writer
                field_ = next(iter(exc.refusal.fields), "row")
                report.problems.append(Problem(row, field_, exc.refusal.zh, exc.refusal.en))
                raise ImportRefused(report) from exc
    report.written = len(report.valid)
    log.info("import written", extra={"kind": kind, "rows": report.written})
    return report
