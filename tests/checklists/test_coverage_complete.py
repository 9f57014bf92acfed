"""The real templates against the standards they cite (no database needed).

- Every aspect of the coal-mine standard (MEM Order No. 4: 15 aspects, 第四条…第十八条) and
  every item of the chemical standard (安监总管三〔2017〕121号: 第（一）项…第（二十）项) is covered by at
  least one item that is a major hazard by itself, as checklists/COVERAGE.md reports.
- Every number item of every real template passes or fails exactly at its threshold.
- Every count rule of every real template fires at min_failed failed items and not one below.
- A hand-built coal inspection yields exactly the expected findings.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from server.checklists.coverage import (
    STANDARDS_FILE,
    Aspect,
    StandardAspects,
    clause_covers,
    confirm_marker,
    coverage_markdown,
    covering_items,
    load_standards,
    standards_problems,
    uncovered_aspects,
)
from shared.checklist import (
    ChecklistTemplateError,
    CountRule,
    Item,
    Localized,
    Template,
    evaluate,
    latest_versions,
    load_all,
)

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "checklists"

TEMPLATES: dict[str, Template] = latest_versions(load_all(REAL))
STANDARDS: dict[str, StandardAspects] = load_standards(REAL / STANDARDS_FILE)

COAL_KEY = "mem_order_4_2020"
CHEM_KEY = "saws_121_2017"
_NUMS = [
    "一",
    "二",
    "三",
    "四",
    "五",
    "六",
    "七",
    "八",
    "九",
    "十",
    "十一",
    "十二",
    "十三",
    "十四",
    "十五",
    "十六",
    "十七",
    "十八",
    "十九",
    "二十",
]
COAL_ASPECTS = [f"第{n}条" for n in _NUMS[3:18]]  # 第四条 … 第十八条
CHEM_ITEMS = [f"第（{n}）项" for n in _NUMS]  # 第（一）项 … 第（二十）项: items, not articles (B16)

EPS = 0.01


# --------------------------------------------------------------------------------------------
# Coverage of the major-hazard standards
# --------------------------------------------------------------------------------------------


def test_structured_keys_are_the_ones_the_templates_cite() -> None:
    assert TEMPLATES["coal_mine"].standard(COAL_KEY) is not None
    assert TEMPLATES["hazardous_chemicals"].standard(CHEM_KEY) is not None
    assert standards_problems(TEMPLATES.values(), STANDARDS) == []
    declared = {s.key for t in TEMPLATES.values() for s in t.standards}
    for key in STANDARDS:
        assert key in declared, f"{STANDARDS_FILE}: '{key}' is not declared by any template"
    for key in ("mnm_major_2022", "gb35181_2017", "gb35181_2025"):
        assert key in STANDARDS


def test_standards_file_lists_all_15_coal_aspects_and_20_chemical_items() -> None:
    assert [a.clause for a in STANDARDS[COAL_KEY].aspects] == COAL_ASPECTS
    assert [a.clause for a in STANDARDS[CHEM_KEY].aspects] == CHEM_ITEMS


def _aspects(key: str) -> list[Aspect]:
    return list(STANDARDS[key].aspects)


@pytest.mark.parametrize(
    ("key", "aspect"),
    [(COAL_KEY, a) for a in _aspects(COAL_KEY)] + [(CHEM_KEY, a) for a in _aspects(CHEM_KEY)],
    ids=lambda v: v.clause if isinstance(v, Aspect) else v,
)
def test_every_aspect_has_a_major_item(key: str, aspect: Aspect) -> None:
    major = covering_items(TEMPLATES.values(), key, aspect.clause, severity="major")
    assert major, (
        f"{key} {aspect.clause} ({aspect.zh} / {aspect.en}) is not covered by any major item"
    )


def test_no_coal_or_chemical_aspect_is_uncovered() -> None:
    chosen = {k: STANDARDS[k] for k in (COAL_KEY, CHEM_KEY)}
    assert uncovered_aspects(TEMPLATES.values(), chosen, severity="major") == {
        COAL_KEY: [],
        CHEM_KEY: [],
    }


def test_coverage_md_reports_the_coal_and_chemical_standards_complete() -> None:
    text = (REAL / "COVERAGE.md").read_text(encoding="utf-8")
    assert f"| `{COAL_KEY}` | 15 | 15 | 15 | — |" in text
    assert f"| `{CHEM_KEY}` | 20 | 20 | 20 | — |" in text
    assert "## Unconfirmed / 待核对" in text


def test_an_uncovered_aspect_is_flagged() -> None:
    extra = StandardAspects(
        key=COAL_KEY,
        aspects=(
            Aspect(clause="第四条", zh="超能力", en="Over capacity"),
            Aspect(clause="第九十九条", zh="不存在的条款", en="A clause no item cites"),
        ),
    )
    assert uncovered_aspects(TEMPLATES.values(), {COAL_KEY: extra}) == {COAL_KEY: ["第九十九条"]}
    md = coverage_markdown(TEMPLATES.values(), {COAL_KEY: extra})
    assert "**⚠ Not covered / 未覆盖: 第九十九条**" in md
    assert (
        "| 第九十九条 | 不存在的条款 / A clause no item cites | **⚠ NOT COVERED / 未覆盖** |" in md
    )


@pytest.mark.parametrize(
    ("item_clause", "aspect_clause", "covers"),
    [
        ("第五条第（二）项", "第五条", True),
        ("第五条", "第五条", True),
        ("第二十条", "第二条", False),
        ("第十一条", "第一条", False),
        ("6.10", "6.1", False),
        ("7.3.12", "7.3.1", False),
        ("7.3.1", "7.3", True),
        ("7.4.1～7.4.3", "7.4.2", True),
        ("7.4.1～7.4.3", "7.4.4", False),
        ("7.3.4、7.3.5", "7.3.5", True),
        ("一（二十）", "一（二）", False),
        ("一（一）第2项", "一（一）", True),
        ("一、地下矿山", "一、地下矿山", True),
        ("一、地下矿山", "一（一）", False),
    ],
)
def test_clause_matching(item_clause: str, aspect_clause: str, covers: bool) -> None:
    assert clause_covers(item_clause, aspect_clause) is covers


def test_confirm_markers_are_not_the_plain_verb() -> None:
    assert confirm_marker(Localized(zh="现场核对钻孔数量。", en="Verify on site.")) is None
    assert confirm_marker(Localized(zh="查看记录。条号待原文核对。", en="x")) == "条号待原文核对"
    assert (
        confirm_marker(Localized(zh="查看。", en="Look. Clause number to be confirmed."))
        == "Clause number to be confirmed"
    )


# --------------------------------------------------------------------------------------------
# Numeric pass rules of the real templates, at their boundaries
# --------------------------------------------------------------------------------------------


def _number_items() -> list[tuple[str, str]]:
    return [(t.id, i.id) for t in TEMPLATES.values() for i in t.items() if i.answer == "number"]


def _profile_for(item: Item) -> str | None:
    return item.profiles[0] if item.profiles else None


def _boundary_cases(item: Item) -> list[tuple[float, bool]]:
    """(reading, passes) pairs at and just beyond the threshold."""
    rule = item.pass_rule
    assert rule is not None
    if rule.op == "between":
        assert rule.min is not None and rule.max is not None
        return [
            (rule.min, True),
            (rule.max, True),
            (rule.min - EPS, False),
            (rule.max + EPS, False),
        ]
    v = rule.value
    assert v is not None
    return {
        "<": [(v, False), (v - EPS, True), (v + EPS, False)],
        "<=": [(v, True), (v - EPS, True), (v + EPS, False)],
        ">": [(v, False), (v + EPS, True), (v - EPS, False)],
        ">=": [(v, True), (v + EPS, True), (v - EPS, False)],
        "==": [(v, True), (v - EPS, False), (v + EPS, False)],
    }[rule.op]


def test_every_template_has_number_items() -> None:
    with_numbers = {tid for tid, _ in _number_items()}
    assert with_numbers == set(TEMPLATES)


@pytest.mark.parametrize(("template_id", "item_id"), _number_items())
def test_number_rule_boundary(template_id: str, item_id: str) -> None:
    template = TEMPLATES[template_id]
    item = template.item(item_id)
    profile = _profile_for(item)
    for reading, passes in _boundary_cases(item):
        findings = evaluate(template, {item_id: reading}, profile=profile)
        ids = [f.item_id for f in findings]
        rule = item.pass_rule.describe(item.unit or "") if item.pass_rule else "?"
        assert ids == ([] if passes else [item_id]), (
            f"{item_id} ({rule}) with {reading}: expected {'pass' if passes else 'fail'}"
        )
        if not passes:
            assert findings[0].severity == item.severity


# --------------------------------------------------------------------------------------------
# Count rules of the real templates: fire at min_failed, not at min_failed - 1
# --------------------------------------------------------------------------------------------


def _failing(item: Item) -> object:
    if item.answer == "yes_no":
        return "no" if item.pass_when == "yes" else "yes"
    if item.answer == "choice":
        return next(c.value for c in item.choices if not c.passes)
    if item.answer == "number":
        rule = item.pass_rule
        assert rule is not None
        if rule.op == "between":
            assert rule.max is not None
            return rule.max + 1
        assert rule.value is not None
        return rule.value + (1 if rule.op in ("<=", "==") else 0 if rule.op == "<" else -1)
    raise AssertionError(f"{item.id}: a {item.answer} item cannot fail")


def _passing(item: Item) -> object:
    if item.answer == "yes_no":
        return item.pass_when
    if item.answer == "choice":
        return next(c.value for c in item.choices if c.passes)
    if item.answer == "number":
        rule = item.pass_rule
        assert rule is not None
        if rule.op == "between":
            return rule.min
        assert rule.value is not None
        return rule.value + {"<": -1, "<=": 0, ">": 1, ">=": 0, "==": 0}[rule.op]
    return "ok"


def _count_rules() -> list[tuple[str, str]]:
    return [(t.id, r.id) for t in TEMPLATES.values() for r in t.count_rules]


def _members(template: Template, rule: CountRule, profile: str | None) -> list[Item]:
    """Items that count for ``rule`` under ``profile`` and can fail (text items only record)."""
    return [
        i
        for i in template.items()
        if set(i.groups) & set(rule.groups) and i.applies_to(profile) and i.answer != "text"
    ]


def _fired(template: Template, rule: CountRule, failed: list[Item], others: list[Item], profile):
    answers = {i.id: _passing(i) for i in others}
    answers.update({i.id: _failing(i) for i in failed})
    return [f for f in evaluate(template, answers, profile=profile) if f.item_id == rule.id]


def test_real_templates_have_count_rules() -> None:
    assert {tid for tid, _ in _count_rules()} >= {"crowded_venue", "high_rise_fire"}


@pytest.mark.parametrize(("template_id", "rule_id"), _count_rules())
def test_count_rule_fires_exactly_at_min_failed(template_id: str, rule_id: str) -> None:
    template = TEMPLATES[template_id]
    rule = next(r for r in template.count_rules if r.id == rule_id)
    candidates = list(rule.profiles) if rule.profiles else [None, *template.profile_ids()]
    tested = 0
    for profile in candidates:
        members = _members(template, rule, profile)
        if len(members) < rule.min_failed:
            continue
        tested += 1
        n = rule.min_failed
        below = _fired(template, rule, members[: n - 1], members[n - 1 :], profile)
        assert below == [], f"{rule_id} fired with {n - 1} failed items (profile {profile})"
        at = _fired(template, rule, members[:n], members[n:], profile)
        assert len(at) == 1, f"{rule_id} did not fire with {n} failed items (profile {profile})"
        assert at[0].kind == "count_rule" and at[0].severity == rule.severity
        assert at[0].related_item_ids == tuple(i.id for i in members[:n])
    assert tested, f"{rule_id}: no profile has {rule.min_failed} items in its groups"


@pytest.mark.parametrize(
    ("template_id", "rule_id"),
    [(t.id, r.id) for t in TEMPLATES.values() for r in t.count_rules if r.profiles],
)
def test_count_rule_stays_silent_outside_its_profiles(template_id: str, rule_id: str) -> None:
    template = TEMPLATES[template_id]
    rule = next(r for r in template.count_rules if r.id == rule_id)
    assert rule.profiles is not None
    for profile in sorted(template.profile_ids() - set(rule.profiles)):
        members = _members(template, rule, profile)
        assert _fired(template, rule, members, [], profile) == []


# --------------------------------------------------------------------------------------------
# An inspection of the coal template
# --------------------------------------------------------------------------------------------

COAL_ANSWERS: dict[str, object] = {
    "coal.capacity.annual_output_pct": 110,  # < 110 required: at the limit is a major hazard
    "coal.capacity.monthly_output_pct": 10,  # ≤ 10: passes at the limit
    "coal.gas_limit.missed_or_false_checks": "no",  # compliant
    "coal.gas_limit.work_after_overlimit": "yes",  # major
    "coal.outburst.no_department": "yes",  # outburst mines only: ignored for high_gas
    "coal.monitoring.no_drainage_system": "yes",  # high_gas/outburst: major
    "coal.monitoring.methane_sensor_test": "no_cutoff",  # failing choice: major
    "coal.ventilation.no_standby_fan": None,  # unanswered
    "coal.power.single_circuit": "na",  # not applicable never yields a finding
    "coal.other.gas_class": "high_gas",  # passing choice
    "coal.gas_reading.face_ch4": 0.99,  # < 1.0: passes
    "coal.gas_reading.return_airway_ch4": 1.0,  # ≤ 1.0: passes at the limit
    "coal.gas_reading.checks_per_shift_low": 1,  # low_gas only: ignored
    "coal.gas_reading.checks_per_shift_high": 2,  # ≥ 3 required: general
    "coal.gas_reading.three_records_match": "yes",  # compliant
    "coal.air.intake_o2": 20,  # ≥ 20: passes at the limit
    "coal.air.co": 25,  # ≤ 24 ppm: general
    "coal.ppe.self_rescuer_condition": "expired",  # general
    "coal.records.notes": "巷道整洁 / roadways tidy",  # text never fails
}

COAL_EXPECTED = [
    ("coal.capacity.annual_output_pct", "major"),
    ("coal.gas_limit.work_after_overlimit", "major"),
    ("coal.monitoring.no_drainage_system", "major"),
    ("coal.monitoring.methane_sensor_test", "major"),
    ("coal.gas_reading.checks_per_shift_high", "general"),
    ("coal.air.co", "general"),
    ("coal.ppe.self_rescuer_condition", "general"),
]


def test_coal_inspection_yields_exactly_the_expected_findings() -> None:
    """Pinned to v1, whose defect questions (pass = no) the answers above were given to."""
    coal = load_all(REAL)[("coal_mine", 1)]
    findings = evaluate(coal, COAL_ANSWERS, profile="high_gas")
    assert [(f.item_id, f.severity) for f in findings] == COAL_EXPECTED
    for f in findings:
        item = coal.item(f.item_id)
        assert f.kind == "item"
        assert f.deadline_days == item.deadline_days
        assert f.photo_required == item.photo_required
        assert item.basis.clause in f.basis
    annual = findings[0]
    assert (
        annual.basis.startswith("煤矿重大事故隐患判定标准") and "第四条第（一）项" in annual.basis
    )
    assert "110" in annual.description_zh and "110" in annual.description_en


def test_the_same_coal_inspection_on_the_latest_version() -> None:
    """The latest version states each requirement (pass = yes): the same facts, answered the
    other way round where v1 asked for a defect, give the same findings, titled as defects."""
    v1, coal = load_all(REAL)[("coal_mine", 1)], TEMPLATES["coal_mine"]
    flip = {"yes": "no", "no": "yes"}
    answers = {
        k: flip[v] if v in flip and v1.item(k).pass_when == "no" else v
        for k, v in COAL_ANSWERS.items()
    }
    assert answers["coal.gas_limit.work_after_overlimit"] == "no"
    findings = evaluate(coal, answers, profile="high_gas")
    assert [(f.item_id, f.severity) for f in findings] == COAL_EXPECTED
    titles = {f.item_id: f.title_zh for f in findings}
    assert (
        titles["coal.gas_limit.work_after_overlimit"]
        == "瓦斯超限后仍继续作业，或未按规定停电、撤人即作业"
    )
    assert titles["coal.air.co"] == "作业地点一氧化碳浓度超过24 ppm"
    assert all(f.deadline_days > 0 or f.stop_work for f in findings)


def test_standards_file_problems_are_reported(tmp_path: Path) -> None:
    path = tmp_path / STANDARDS_FILE
    path.write_text(
        "standards:\n"
        "  - key: mem_order_4_2020\n"
        "    aspects:\n"
        "      - {clause: 第四条, zh: 超能力, en: Over capacity}\n"
        "      - {clause: 第四条, zh: 重复, en: ''}\n",
        encoding="utf-8",
    )
    with pytest.raises(ChecklistTemplateError) as exc:
        load_standards(path)
    text = "\n".join(exc.value.problems)
    assert "duplicate clause" in text and "missing en" in text
    unknown = {"nope": StandardAspects(key="nope")}
    assert standards_problems(TEMPLATES.values(), unknown) != []
