"""Tests for shared.checklist and server.checklists.coverage.

Templates are built as dicts and written as YAML into tmp_path, so every validator rule can be
shown to name its problem on a template that is otherwise valid.
"""

from __future__ import annotations

import copy
import json
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from server.checklists.coverage import coverage_markdown
from server.checklists.publishing import (
    LOCK_FILE_NAME,
    MIN_ITEMS_PER_TEMPLATE,
    read_lock,
    validate_tree,
    write_lock,
)
from shared.checklist import (
    LEGACY_VERSIONS,
    ChecklistAnswerError,
    ChecklistError,
    ChecklistTemplateError,
    Finding,
    Template,
    check_template,
    evaluate,
    latest_versions,
    load_all,
    load_template,
    template_digest,
)
from shared.deadlines import STOP_WORK_NOTE

REPO_ROOT = Path(__file__).resolve().parents[2]
REAL_CHECKLISTS = REPO_ROOT / "checklists"

FILLER_COUNT = MIN_ITEMS_PER_TEMPLATE - 6  # six hand-written items below
G2_MEMBERS = 5  # filler items f01..f05 are in group g2


# --------------------------------------------------------------------------------------------
# Fixture builders
# --------------------------------------------------------------------------------------------


def _yes_no(item_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "text": {"zh": f"检查项 {item_id}", "en": f"Check {item_id}"},
        "hazard": {"zh": "检查项不合格", "en": f"Check {item_id} failed"},
        "answer": "yes_no",
        "pass_when": "yes",
        "severity": "general",
        "basis": {"standard": "gb35181_2025", "clause": "第6章"},
        "guidance": {"zh": "现场查看", "en": "Look on site"},
        "photo_required": False,
        "deadline_days": 30,
        **extra,
    }


def base_template() -> dict[str, Any]:
    """A valid template with exactly MIN_ITEMS_PER_TEMPLATE items and one count rule."""
    core = [
        {
            "id": "demo.ch4",
            "text": {
                "zh": "采掘工作面风流中甲烷浓度",
                "en": "Methane concentration in the working-face air",
            },
            "answer": "number",
            "unit": "%",
            "pass_rule": {"op": "<", "value": 1.0},
            "severity": "major",
            "basis": {"standard": "mem_order_4_2020", "clause": "第三条第（二）项"},
            "guidance": {"zh": "用便携式甲烷检测仪测定", "en": "Measure with a methane detector"},
            "photo_required": True,
            "deadline_days": 0,
            "stop_work": True,
            "hazard": {
                "zh": "采掘工作面风流中甲烷浓度超限",
                "en": "Methane in the working-face air above the limit",
            },
        },
        _yes_no("demo.exits", groups=["g1"], deadline_days=7),
        {
            **_yes_no("demo.doors", groups=["g1"], deadline_days=3),
            "answer": "choice",
            "pass_when": None,
            "choices": [
                {"value": "ok", "zh": "完好", "en": "Intact", "pass": True},
                {"value": "minor", "zh": "轻微损坏", "en": "Slightly damaged", "pass": True},
                {"value": "broken", "zh": "损坏", "en": "Broken", "pass": False},
            ],
        },
        {**_yes_no("demo.note"), "answer": "text", "pass_when": None},
        _yes_no("demo.school_only", profiles=["school"], groups=["g1"]),
        {
            **_yes_no("demo.temp"),
            "answer": "number",
            "pass_when": None,
            "unit": "℃",
            "pass_rule": {"op": "between", "min": 10, "max": 30},
        },
    ]
    for item in core:
        if item.get("pass_when") is None:
            item.pop("pass_when", None)
    filler = [
        _yes_no(f"demo.f{n:02d}", **({"groups": ["g2"]} if n <= G2_MEMBERS else {}))
        for n in range(1, FILLER_COUNT + 1)
    ]
    return {
        "id": "demo",
        "version": 1,
        "title": {"zh": "演示检查表", "en": "Demo checklist"},
        "industry": "crowded_venue",
        "profiles": [
            {"id": "school", "zh": "学校", "en": "School"},
            {"id": "mall", "zh": "商场", "en": "Mall"},
        ],
        "standards": [
            {
                "key": "mem_order_4_2020",
                "title": {
                    "zh": "煤矿重大事故隐患判定标准",
                    "en": "Coal mine major hazard criteria",
                },
                "issued": "2020-11-20",
                "in_force": "2021-01-01",
                "edition": "2020",
            },
            {
                "key": "gb35181_2025",
                "title": {"zh": "重大火灾隐患判定规则", "en": "Rules for major fire hazards"},
                "issued": "2025-04-25",
                "in_force": "2025-11-01",
                "edition": "2025",
            },
        ],
        "sections": [
            {"id": "core", "title": {"zh": "核心", "en": "Core"}, "items": core},
            {"id": "filler", "title": {"zh": "其他", "en": "Other"}, "items": filler},
        ],
        "count_rules": [
            {
                "id": "crowded",
                "title": {"zh": "人员密集场所综合判定", "en": "Crowded place, comprehensive"},
                "groups": ["g1", "g2"],
                "min_failed": 3,
                "severity": "major",
                "basis": {"standard": "gb35181_2025", "clause": "第6章"},
            }
        ],
    }


def find_item(data: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for s in data["sections"] for i in s["items"] if i["id"] == item_id)


def write_template(
    root: Path, data: dict[str, Any], folder: str | None = None, name: str | None = None
) -> Path:
    path = root / (folder or data["id"]) / (name or f"{data['version']}.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


BASE = Template.model_validate(base_template())


def assert_problem(problems: list[str], needle: str) -> None:
    assert any(needle in p for p in problems), f"{needle!r} not in {problems}"


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_load_template_reads_items_in_order(tmp_path: Path) -> None:
    template = load_template(write_template(tmp_path, base_template()))
    ids = [i.id for i in template.items()]
    assert ids[:3] == ["demo.ch4", "demo.exits", "demo.doors"]
    assert len(ids) == MIN_ITEMS_PER_TEMPLATE
    assert template.item("demo.ch4").pass_rule is not None
    assert template.item("demo.doors").choices[2].passes is False
    assert template.standard("gb35181_2025").edition == "2025"
    with pytest.raises(KeyError):
        template.item("nope")


def test_yaml_yes_no_are_strings_not_booleans(tmp_path: Path) -> None:
    """Unquoted yes/no would be booleans in YAML 1.1; the loader keeps them as text."""
    data = base_template()
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    text = text.replace("pass_when: 'yes'", "pass_when: yes").replace("value: ok", "value: on")
    assert "pass_when: yes" in text
    path = tmp_path / "demo" / "1.yaml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    template = load_template(path)
    assert template.item("demo.exits").pass_when == "yes"
    assert template.item("demo.doors").choices[0].value == "on"


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    path = write_template(tmp_path, base_template())
    path.write_text(path.read_text(encoding="utf-8") + "industry: mine\n", encoding="utf-8")
    with pytest.raises(ChecklistTemplateError) as exc:
        load_template(path)
    assert_problem(exc.value.problems, "duplicate key 'industry'")


def test_unknown_field_is_rejected_with_item_id(tmp_path: Path) -> None:
    data = base_template()
    find_item(data, "demo.exits")["pass_whn"] = "yes"
    with pytest.raises(ChecklistTemplateError) as exc:
        load_template(write_template(tmp_path, data))
    assert_problem(exc.value.problems, "[demo.exits].pass_whn")


def test_load_all_keys_by_id_and_version(tmp_path: Path) -> None:
    write_template(tmp_path, base_template())
    v2 = base_template() | {"version": 2}
    write_template(tmp_path, v2)
    other = base_template() | {"id": "other"}
    write_template(tmp_path, other)
    loaded = load_all(tmp_path)
    assert sorted(loaded) == [("demo", 1), ("demo", 2), ("other", 1)]
    assert {k: t.version for k, t in latest_versions(loaded).items()} == {"demo": 2, "other": 1}


def test_load_all_refuses_a_misplaced_file(tmp_path: Path) -> None:
    write_template(tmp_path, base_template(), folder="wrong")
    with pytest.raises(ChecklistTemplateError) as exc:
        load_all(tmp_path)
    assert_problem(exc.value.problems, "differs from folder")


# --------------------------------------------------------------------------------------------
# Validator rules
# --------------------------------------------------------------------------------------------


def _dup_item(d: dict[str, Any]) -> None:
    d["sections"][1]["items"][0]["id"] = "demo.ch4"


def _dup_section(d: dict[str, Any]) -> None:
    d["sections"][1]["id"] = "core"


def _set(item_id: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        item = find_item(d, item_id)
        for key, value in fields.items():
            if value is _DROP:
                item.pop(key, None)
            else:
                item[key] = value

    return mutate


_DROP = object()


def _rule(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(d: dict[str, Any]) -> None:
        d["count_rules"][0].update(fields)

    return mutate


def _truncate(d: dict[str, Any]) -> None:
    d["sections"][1]["items"].pop()


RULE_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("dup item", _dup_item, "duplicate item id 'demo.ch4'"),
    ("dup section", _dup_section, "duplicate section id 'core'"),
    ("text en", _set("demo.exits", text={"zh": "出口"}), "text is missing English"),
    (
        "guidance zh",
        _set("demo.exits", guidance={"zh": " ", "en": "x"}),
        "guidance is missing Chinese",
    ),
    ("no guidance", _set("demo.f10", guidance=_DROP), "item 'demo.f10': guidance is missing"),
    (
        "undeclared std",
        _set("demo.exits", basis={"standard": "gb99", "clause": "1"}),
        "'gb99' is not a declared standard",
    ),
    (
        "empty clause",
        _set("demo.exits", basis={"standard": "gb35181_2025", "clause": ""}),
        "basis.clause is empty",
    ),
    ("no unit", _set("demo.ch4", unit=_DROP), "number item needs a unit"),
    ("no pass_rule", _set("demo.ch4", pass_rule=_DROP), "number item needs a pass_rule"),
    ("between half", _set("demo.temp", pass_rule={"op": "between", "min": 1}), "needs min and max"),
    ("op no value", _set("demo.ch4", pass_rule={"op": "<"}), "needs a value"),
    ("unit on yes_no", _set("demo.exits", unit="m"), "for number items only"),
    (
        "all pass",
        _set("demo.doors", choices=[{"value": "a", "zh": "甲", "en": "A", "pass": True}]),
        "at least one failing",
    ),
    (
        "none pass",
        _set("demo.doors", choices=[{"value": "a", "zh": "甲", "en": "A", "pass": False}]),
        "at least one passing",
    ),
    ("no choices", _set("demo.doors", choices=_DROP), "at least one passing"),
    ("no pass_when", _set("demo.exits", pass_when=_DROP), "yes_no item needs pass_when"),
    ("unknown group", _rule(groups=["g1", "g9"]), "no item is in group 'g9'"),
    ("min_failed 0", _rule(min_failed=0), "min_failed must be >= 1"),
    ("min_failed too big", _rule(min_failed=99), "can never fire"),
    (
        "rule std",
        _rule(basis={"standard": "x", "clause": "1"}),
        "count rule 'crowded': basis.standard 'x'",
    ),
    (
        "item profile",
        _set("demo.exits", profiles=["hospital"]),
        "profile 'hospital' is not declared",
    ),
    ("rule profile", _rule(profiles=["hotel"]), "profile 'hotel' is not declared"),
    ("too few items", _truncate, f"at least {MIN_ITEMS_PER_TEMPLATE} required"),
    ("bad industry", lambda d: d.update(industry="farm"), "industry"),
    ("bad item id", _set("demo.f03", id="Demo F03"), "String should match pattern"),
    ("bad severity", _set("demo.f03", severity="critical"), "[demo.f03].severity"),
    # the defect wording, the answer convention and the deadline rule (versions after v1)
    ("no hazard", _set("demo.f03", hazard=_DROP), "item 'demo.f03': hazard is missing"),
    ("hazard en", _set("demo.f03", hazard={"zh": "未设置"}), "hazard is missing English"),
    (
        "english in zh",
        _set("demo.f03", hazard={"zh": "未设置 fire door", "en": "x"}),
        "hazard.zh has English in it: fire, door",
    ),
    ("defect question", _set("demo.f03", pass_when="no"), "so that yes is compliant"),
    ("0 days", _set("demo.f03", deadline_days=0), "deadline_days 0 is for stop_work items"),
    ("major 7 days", _set("demo.f03", severity="major", deadline_days=7), "plan period of 30–90"),
    ("major no measures", _set("demo.f03", severity="major"), "needs measures"),
]


@pytest.mark.parametrize(
    ("mutate", "needle"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES]
)
def test_each_validator_rule_names_its_problem(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], needle: str
) -> None:
    data = base_template()
    mutate(data)
    write_template(tmp_path, data)
    assert_problem(validate_tree(tmp_path), needle)


def _without_wording(data: dict[str, Any]) -> dict[str, Any]:
    """The base template as written before the wording rules: no hazard, a defect question."""
    for section in data["sections"]:
        for item in section["items"]:
            item.pop("hazard", None)
            item.pop("stop_work", None)
    find_item(data, "demo.f03")["pass_when"] = "no"
    return data


def test_only_the_legacy_versions_are_exempt_from_the_wording_rules() -> None:
    data = _without_wording(base_template())
    problems = check_template(Template.model_validate(data))
    assert_problem(problems, "item 'demo.ch4': hazard is missing")
    assert_problem(problems, "item 'demo.f03': state the requirement")
    assert ("coal_mine", 1) in LEGACY_VERSIONS and ("coal_mine", 2) not in LEGACY_VERSIONS
    legacy = Template.model_validate({**data, "id": "coal_mine", "version": 1})
    assert check_template(legacy) == []
    assert check_template(Template.model_validate({**data, "id": "coal_mine", "version": 2}))


def test_the_hazard_is_titled_with_the_wording_and_legacy_with_the_text() -> None:
    [finding] = evaluate(BASE, {"demo.f03": "no"})
    assert (finding.title_zh, finding.title_en) == ("检查项不合格", "Check demo.f03 failed")
    assert finding.description_zh == "检查项 demo.f03：否（要求 是）"  # the evidence stays
    legacy = Template.model_validate(_without_wording(base_template()))
    [finding] = evaluate(legacy, {"demo.f03": "yes"})
    assert (finding.title_zh, finding.title_en) == ("检查项 demo.f03", "Check demo.f03")
    assert not finding.stop_work and finding.measures_zh == ""


def test_legacy_canonical_json_has_no_wording_keys() -> None:
    """A version published before the wording fields keeps its digest (and its stored JSON)."""
    legacy = Template.model_validate(_without_wording(base_template()))
    dumped = legacy.model_dump(mode="json", by_alias=True)
    keys = {k for s in dumped["sections"] for i in s["items"] for k in i}
    assert not keys & {"hazard", "stop_work", "measures"}
    assert "hazard" in BASE.model_dump(mode="json")["sections"][0]["items"][0]


def test_id_must_equal_folder_and_version_file_name(tmp_path: Path) -> None:
    write_template(tmp_path, base_template(), folder="elsewhere", name="2.yaml")
    problems = validate_tree(tmp_path)
    assert_problem(problems, "id 'demo' differs from folder 'elsewhere'")
    assert_problem(problems, "version 1 differs from file name '2.yaml'")


def test_stray_file_names_are_reported(tmp_path: Path) -> None:
    write_template(tmp_path, base_template(), name="draft.yaml")
    (tmp_path / "demo" / "1.yml").write_text("x: 1\n", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    problems = validate_tree(tmp_path)
    assert_problem(problems, "demo/draft.yaml: file name must be <version>.yaml")
    assert_problem(problems, "demo/1.yml: use the .yaml extension")
    assert_problem(problems, "empty/: folder has no <version>.yaml files")


def test_yaml_syntax_error_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "1.yaml"
    path.parent.mkdir()
    path.write_text("id: [unclosed\n", encoding="utf-8")
    assert_problem(validate_tree(tmp_path), "demo/1.yaml: YAML error")


def test_valid_published_tree_has_no_problems(tmp_path: Path) -> None:
    write_template(tmp_path, base_template())
    assert write_lock(tmp_path) == ["demo/1"]
    assert validate_tree(tmp_path) == []
    assert check_template(BASE) == []


# --------------------------------------------------------------------------------------------
# Lock file
# --------------------------------------------------------------------------------------------


def test_new_file_is_unpublished_until_write_lock(tmp_path: Path) -> None:
    write_template(tmp_path, base_template())
    problems = validate_tree(tmp_path)
    assert len(problems) == 1
    assert_problem(problems, "demo/1.yaml: unpublished")
    write_lock(tmp_path)
    lock = json.loads((tmp_path / LOCK_FILE_NAME).read_text(encoding="utf-8"))
    assert set(lock) == {"demo/1"} and len(lock["demo/1"]) == 64


def test_edit_without_version_bump_is_detected(tmp_path: Path) -> None:
    path = write_template(tmp_path, base_template())
    write_lock(tmp_path)
    path.write_bytes(path.read_bytes() + b"# harmless-looking comment\n")
    assert_problem(validate_tree(tmp_path), "demo/1.yaml: changed without a version bump")
    # Publishing again must not launder the edit.
    before = read_lock(tmp_path)
    assert write_lock(tmp_path) == []
    assert read_lock(tmp_path) == before
    assert_problem(validate_tree(tmp_path), "changed without a version bump")


def test_version_bump_is_the_way_to_change(tmp_path: Path) -> None:
    write_template(tmp_path, base_template())
    write_lock(tmp_path)
    v2 = base_template() | {"version": 2}
    find_item(v2, "demo.ch4")["pass_rule"] = {"op": "<", "value": 0.8}
    write_template(tmp_path, v2)
    problems = validate_tree(tmp_path)
    assert problems == [p for p in problems if p.startswith("demo/2.yaml: unpublished")]
    assert write_lock(tmp_path) == ["demo/2"]
    assert validate_tree(tmp_path) == []


def test_deleting_a_published_version_is_reported(tmp_path: Path) -> None:
    path = write_template(tmp_path, base_template())
    write_lock(tmp_path)
    path.unlink()
    assert_problem(validate_tree(tmp_path), "demo/1.yaml: published version is missing")


def test_write_lock_skips_invalid_files(tmp_path: Path) -> None:
    data = base_template()
    find_item(data, "demo.ch4").pop("unit")
    write_template(tmp_path, data)
    assert write_lock(tmp_path) == []
    assert read_lock(tmp_path) == {}


# --------------------------------------------------------------------------------------------
# Evaluation per answer type
# --------------------------------------------------------------------------------------------


def test_number_failure_description_and_metadata() -> None:
    [finding] = evaluate(BASE, {"demo.ch4": 1.6})
    assert finding == Finding(
        item_id="demo.ch4",
        kind="item",
        severity="major",
        description_zh="采掘工作面风流中甲烷浓度：1.6 %（要求 < 1.0 %）",
        description_en="Methane concentration in the working-face air: 1.6 % (required < 1.0 %)",
        basis="煤矿重大事故隐患判定标准 第三条第（二）项",
        basis_en="Coal mine major hazard criteria 第三条第（二）项",
        deadline_days=0,
        photo_required=True,
        title_zh="采掘工作面风流中甲烷浓度超限",
        title_en="Methane in the working-face air above the limit",
        stop_work=True,
        measures_zh=STOP_WORK_NOTE[0],
        measures_en=STOP_WORK_NOTE[1],
    )


@pytest.mark.parametrize(("value", "fails"), [(0.99, False), (1, True), (1.0, True), (0, False)])
def test_number_threshold_is_strict_for_less_than(value: float, fails: bool) -> None:
    assert bool(evaluate(BASE, {"demo.ch4": value})) is fails


@pytest.mark.parametrize(("value", "fails"), [(9.9, True), (10, False), (30, False), (30.1, True)])
def test_between_is_inclusive(value: float, fails: bool) -> None:
    findings = evaluate(BASE, {"demo.temp": value})
    assert bool(findings) is fails
    if fails:
        assert findings[0].description_zh.endswith("（要求 10.0–30.0 ℃）")


def test_yes_no() -> None:
    assert evaluate(BASE, {"demo.exits": "yes"}) == []
    [finding] = evaluate(BASE, {"demo.exits": "no"})
    assert finding.description_zh == "检查项 demo.exits：否（要求 是）"
    assert finding.description_en == "Check demo.exits: no (required: yes)"
    assert finding.severity == "general" and finding.deadline_days == 7
    assert finding.basis == "重大火灾隐患判定规则 第6章"


def test_choice() -> None:
    assert evaluate(BASE, {"demo.doors": "ok"}) == []
    assert evaluate(BASE, {"demo.doors": "minor"}) == []
    [finding] = evaluate(BASE, {"demo.doors": "broken"})
    assert finding.description_zh == "检查项 demo.doors：损坏（要求 完好或轻微损坏）"
    assert finding.description_en.endswith("Broken (required: Intact or Slightly damaged)")


def test_text_never_fails() -> None:
    assert evaluate(BASE, {"demo.note": "看起来都好"}) == []
    assert evaluate(BASE, {"demo.note": ""}) == []


def test_unanswered_and_none_yield_nothing() -> None:
    assert evaluate(BASE, {}) == []
    assert evaluate(BASE, {"demo.ch4": None}) == []


@given(st.sets(st.sampled_from([i.id for i in BASE.items()])))
def test_na_never_yields_a_finding(item_ids: set[str]) -> None:
    assert evaluate(BASE, dict.fromkeys(item_ids, "na"), profile="school") == []


_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq}


@given(
    op=st.sampled_from(sorted(_OPS)),
    limit=st.floats(-1e6, 1e6, allow_nan=False),
    reading=st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.integers(-(10**6), 10**6)),
)
def test_number_rule_matches_operator(op: str, limit: float, reading: float) -> None:
    data = base_template()
    find_item(data, "demo.ch4")["pass_rule"] = {"op": op, "value": limit}
    template = Template.model_validate(data)
    findings = evaluate(template, {"demo.ch4": reading})
    assert bool(findings) is not _OPS[op](reading, limit)


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


def test_profile_only_items_apply_only_to_their_profile() -> None:
    answers = {"demo.school_only": "no"}
    assert evaluate(BASE, answers) == []
    assert evaluate(BASE, answers, profile="mall") == []
    [finding] = evaluate(BASE, answers, profile="school")
    assert finding.item_id == "demo.school_only"


def test_items_outside_profile_are_not_even_checked() -> None:
    assert evaluate(BASE, {"demo.school_only": 42}, profile="mall") == []


def test_unknown_profile_raises() -> None:
    with pytest.raises(ChecklistError) as exc:
        evaluate(BASE, {}, profile="hospital")
    assert "hospital" in exc.value.message_en and "hospital" in exc.value.message_zh


# --------------------------------------------------------------------------------------------
# Count rules
# --------------------------------------------------------------------------------------------


def _fail(*ids: str) -> dict[str, object]:
    return {i: "broken" if i == "demo.doors" else "no" for i in ids}


def test_count_rule_below_threshold_does_not_fire() -> None:
    findings = evaluate(BASE, _fail("demo.exits", "demo.f01"))  # min_failed - 1
    assert [f.kind for f in findings] == ["item", "item"]


def test_count_rule_at_threshold_fires_once() -> None:
    findings = evaluate(BASE, _fail("demo.exits", "demo.doors", "demo.f01", "demo.f20"))
    rule = findings[-1]
    assert [f.kind for f in findings] == ["item"] * 4 + ["count_rule"]
    assert rule.item_id == "crowded" and rule.severity == "major"
    assert rule.related_item_ids == ("demo.exits", "demo.doors", "demo.f01")
    assert rule.deadline_days == 3  # the most urgent contributing item
    assert rule.description_zh.startswith("人员密集场所综合判定：3 项不合格（达到 3 项即判定）")
    assert "检查项不合格；检查项不合格" in rule.description_zh  # the failed items' wording
    assert "Check demo.doors failed" in rule.description_en
    assert rule.description_en.startswith("Crowded place, comprehensive: 3 failed items")
    assert rule.basis == "重大火灾隐患判定规则 第6章"


def test_count_rule_ignores_items_outside_the_profile() -> None:
    answers = _fail("demo.exits", "demo.f01", "demo.school_only")
    assert not any(f.kind == "count_rule" for f in evaluate(BASE, answers, profile="mall"))
    assert any(f.kind == "count_rule" for f in evaluate(BASE, answers, profile="school"))


def test_count_rule_with_profile_applies_only_there() -> None:
    data = base_template()
    data["count_rules"][0]["profiles"] = ["mall"]
    template = Template.model_validate(data)
    answers = _fail("demo.exits", "demo.f01", "demo.f02")
    assert not any(f.kind == "count_rule" for f in evaluate(template, answers))
    assert any(f.kind == "count_rule" for f in evaluate(template, answers, profile="mall"))


_GROUPED = ["demo.exits", "demo.doors", *[f"demo.f{n:02d}" for n in range(1, G2_MEMBERS + 1)]]


@settings(max_examples=60)
@given(
    min_failed=st.integers(1, len(_GROUPED)),
    failed=st.sets(st.sampled_from(_GROUPED)),
    ungrouped=st.sets(st.sampled_from([f"demo.f{n:02d}" for n in range(10, 20)])),
)
def test_count_rule_fires_iff_threshold_reached(
    min_failed: int, failed: set[str], ungrouped: set[str]
) -> None:
    data = base_template()
    data["count_rules"][0]["min_failed"] = min_failed
    template = Template.model_validate(data)
    findings = evaluate(template, _fail(*failed, *ungrouped))
    rules = [f for f in findings if f.kind == "count_rule"]
    assert len(rules) == (1 if len(failed) >= min_failed else 0)
    if rules:
        assert set(rules[0].related_item_ids) == failed


# --------------------------------------------------------------------------------------------
# Invalid answers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item_id", "answer"),
    [
        ("demo.ch4", "1.6"),
        ("demo.ch4", True),
        ("demo.ch4", float("nan")),
        ("demo.ch4", "yes"),
        ("demo.doors", "missing"),
        ("demo.doors", 1),
        ("demo.exits", "maybe"),
        ("demo.exits", True),
        ("demo.note", 3),
        ("demo.nope", "yes"),
    ],
)
def test_invalid_answers_raise(item_id: str, answer: object) -> None:
    with pytest.raises(ChecklistAnswerError) as exc:
        evaluate(BASE, {item_id: answer}, profile="school")
    err = exc.value
    assert err.item_id == item_id
    assert err.message_zh and err.message_en
    assert item_id in str(err)


# --------------------------------------------------------------------------------------------
# Digest and coverage
# --------------------------------------------------------------------------------------------


def test_template_digest_follows_content_not_layout(tmp_path: Path) -> None:
    path = write_template(tmp_path, base_template())
    digest = template_digest(load_template(path))
    assert digest == template_digest(BASE)
    path.write_text("# comment\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert template_digest(load_template(path)) == digest
    changed = copy.deepcopy(base_template())
    find_item(changed, "demo.ch4")["deadline_days"] = 1
    assert template_digest(Template.model_validate(changed)) != digest


def test_coverage_markdown_lists_standards_clauses_and_split() -> None:
    v2 = Template.model_validate(base_template() | {"version": 2})
    md = coverage_markdown([BASE, v2])
    assert "demo v2" in md and "demo v1" not in md
    assert "### 重大火灾隐患判定规则 / Rules for major fire hazards" in md
    assert "edition / 版本: **2025**" in md
    assert "| 第三条第（二）项 | demo v2 | 1 | 1 | 0 |" in md
    assert (
        f"| 第6章 | demo v2 | {MIN_ITEMS_PER_TEMPLATE - 1} | 0 | {MIN_ITEMS_PER_TEMPLATE - 1} |"
        in md
    )
    assert "`crowded`" in md and "≥ 3 failed" in md
    both = coverage_markdown({("demo", 1): BASE, ("demo", 2): v2}, latest_only=False)
    assert "demo v1" in both and "demo v2" in both


def test_coverage_markdown_reports_uncited_standards() -> None:
    data = base_template()
    data["standards"].append(
        {
            "key": "unused",
            "title": {"zh": "未用", "en": "Unused"},
            "issued": "2020-01-01",
            "in_force": "2020-01-01",
            "edition": "1",
        }
    )
    md = coverage_markdown([Template.model_validate(data)])
    assert "`unused` in demo v1" in md


# --------------------------------------------------------------------------------------------
# The real tree
# --------------------------------------------------------------------------------------------


def _real_template_folders() -> list[Path]:
    if not REAL_CHECKLISTS.is_dir():
        return []
    return [p for p in REAL_CHECKLISTS.iterdir() if p.is_dir() and not p.name.startswith(".")]


@pytest.mark.skipif(not _real_template_folders(), reason="checklists/ has no templates yet")
def test_real_checklists_tree_is_valid() -> None:
    assert validate_tree(REAL_CHECKLISTS) == []
