"""The review of the v1 checklists (checklists/REVIEW-STATUS.md) is answered by the versions it
names: every item it cites exists there, each fix behaves as the review asked, the versions before
the fix still evaluate as they did (inspections stay pinned to them), and no placeholder the authors
left for themselves reaches an inspector."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from server.checklists.publishing import (
    validate_tree,
)
from shared.checklist import (
    Finding,
    evaluate,
    latest_versions,
    load_all,
)
from shared.text import for_inspectors

ROOT = Path(__file__).resolve().parents[2] / "checklists"
ALL = load_all(ROOT)
LATEST = latest_versions(ALL)
STATUS = (ROOT / "REVIEW-STATUS.md").read_text(encoding="utf-8")
PLACEHOLDERS = (
    "原文核对",
    "待核对",
    "依据记忆",
    "to be confirmed",
    "from memory",
    "confirm against",
)


def _rows() -> list[tuple[str, str, str]]:
    """(point, status, where) of every table row of the status file."""
    rows = []
    for line in STATUS.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[ABP][0-9A-Z]+", cells[0]):
            rows.append((cells[0], cells[2], cells[3]))
    return rows


def _cited(where: str) -> list[tuple[str, int, str]]:
    """(template, version, item id) for each backticked item id after a ``template/version``."""
    prefixes = {i.id.split(".")[0] for t in ALL.values() for i in t.items()}
    rules = {r.id for t in ALL.values() for r in t.count_rules}
    cited = []
    marks = list(re.finditer(r"\b([a-z_]+)/([0-9]+)\b", where))
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(where)
        for token in re.findall(r"`([^`]+)`", where[mark.end() : end]):
            item_like = re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", token)
            if token in rules or (item_like and token.split(".")[0] in prefixes):
                cited.append((mark.group(1), int(mark.group(2)), token))
    return cited


def test_the_status_file_answers_every_point_of_the_review() -> None:
    points = [p for p, _, _ in _rows()]
    assert points == [f"A{n}" for n in range(1, 10)] + [f"B{n}" for n in range(1, 20)] + [
        "P3",
        "P4",
        "PH",
    ]
    assert {s for _, s, _ in _rows()} <= {"fixed", "partly", "checked", "open"}


@pytest.mark.parametrize(("point", "status", "where"), _rows(), ids=[r[0] for r in _rows()])
def test_every_item_the_status_names_exists_in_the_version_it_names(
    point: str, status: str, where: str
) -> None:
    cited = _cited(where)
    if status in ("fixed", "partly", "checked") and point not in ("B13", "B14", "P3", "P4", "PH"):
        assert cited, f"{point}: a {status} row names the items that show it"
    for template_id, version, item_id in cited:
        template = ALL.get((template_id, version))
        assert template is not None, f"{point}: no {template_id}/{version}"
        known = set(template.items_by_id) | {r.id for r in template.count_rules}
        assert item_id in known, f"{point}: {item_id} not in {template_id}/{version}"


def _one(findings: list[Finding], item_id: str) -> Finding:
    hits = [f for f in findings if f.item_id == item_id]
    assert len(hits) == 1, (item_id, [f.item_id for f in findings])
    return hits[0]


def _comprehensive_failures(template_id: str, version: int, n: int) -> dict[str, str]:
    """``n`` failed yes/no items of the GB 35181 comprehensive groups that apply to every profile."""
    template = ALL[(template_id, version)]
    items = [
        i
        for i in template.items()
        if i.groups and i.profiles is None and i.answer == "yes_no" and i.pass_when == "yes"
    ]
    return {i.id: "no" for i in items[:n]}


def _rules_fired(template_id: str, version: int, answers: dict, profile: str) -> set[str]:
    findings = evaluate(ALL[(template_id, version)], answers, profile)
    return {f.item_id for f in findings if f.kind == "count_rule"}


def test_b3_the_other_premises_rule_no_longer_fires_beside_the_crowded_rules() -> None:
    answers = _comprehensive_failures("high_rise_fire", 3, 6)
    fired = _rules_fired("high_rise_fire", 3, answers, "public_crowded")
    assert "gb35181_2017_crowded_any" in fired and "gb35181_2017_other_any" not in fired
    for profile in ("residential", "public"):
        assert _rules_fired("high_rise_fire", 3, answers, profile) == {"gb35181_2017_other_any"}


def test_b5_work_without_any_permit_is_a_major_that_stops_it() -> None:
    chem = LATEST["hazardous_chemicals"]
    for item_id in ("chem.hot_work.permit_issued", "chem.confined_space.permit_issued"):
        finding = _one(evaluate(chem, {item_id: "no"}), item_id)
        assert (finding.severity, finding.stop_work, finding.deadline_days) == ("major", True, 0)
        assert "第（十八）项" in finding.basis and "未办理安全作业票" in finding.title_zh
    for item_id in ("chem.hot_work.permit_valid", "chem.confined_space.permit_valid"):
        assert _one(evaluate(chem, {item_id: "no"}), item_id).severity == "general"


@pytest.mark.parametrize(("months", "fails"), [(6, False), (6.5, True), (12, True)])
def test_b6_public_buildings_over_100_m_drill_every_six_months(months: float, fails: bool) -> None:
    item_id = "highrise.training.full_drill_age_over_100m"
    for profile in ("public", "public_crowded"):
        findings = evaluate(LATEST["high_rise_fire"], {item_id: months}, profile)
        assert bool(findings) is fails, profile
    assert evaluate(LATEST["high_rise_fire"], {item_id: 12}, "residential") == []


def test_b8_every_premises_with_a_cold_store_is_asked_about_its_insulation() -> None:
    venue = LATEST["crowded_venue"]
    item = venue.item("venue.retail.cold_storage_insulation")
    assert item.profiles is None and item.basis.standard == "gb50072_2021"
    for profile in (None, *sorted(venue.profile_ids())):
        assert evaluate(venue, {item.id: "no"}, profile), profile


@pytest.mark.parametrize(
    ("reading", "face_fails"), [(26, False), (28, False), (30, False), (30.5, True)]
)
def test_b9_face_temperature_stops_work_above_30_and_asks_for_measures_above_26(
    reading: float, face_fails: bool
) -> None:
    coal = LATEST["coal_mine"]
    findings = evaluate(coal, {"coal.air.face_temperature": reading})
    assert bool(findings) is face_fails
    if face_fails:
        assert findings[0].stop_work and findings[0].deadline_days == 0
    assert evaluate(coal, {"coal.air.heat_measures": "no"})[0].severity == "general"
    assert evaluate(coal, {"coal.air.chamber_temperature": 34}) == []
    assert evaluate(coal, {"coal.air.chamber_temperature": 34.5})[0].stop_work


@pytest.mark.parametrize(
    ("reading", "major"), [(1.0, False), (1.49, False), (1.5, True), (2.3, True)]
)
def test_b10_methane_at_1_5_with_work_going_on_is_a_major(reading: float, major: bool) -> None:
    item_id = "coal.gas_reading.face_ch4_while_working"
    findings = evaluate(LATEST["coal_mine"], {item_id: reading})
    assert [f.severity for f in findings] == (["major"] if major else [])
    if major:
        assert "第五条" in findings[0].basis and findings[0].stop_work


@pytest.mark.parametrize(
    ("drills", "every_unit", "key_unit"), [(0, True, True), (1, False, True), (2, False, False)]
)
def test_b11_drills_follow_the_unit(drills: int, every_unit: bool, key_unit: bool) -> None:
    venue = LATEST["crowded_venue"]
    assert bool(evaluate(venue, {"venue.management.drills_per_year": drills})) is every_unit
    assert bool(evaluate(venue, {"venue.management.drills_key_unit": drills})) is key_unit


@pytest.mark.parametrize(
    ("oxygen", "fails"),
    [(19.4, True), (19.5, False), (20.9, False), (21.4, False), (23.5, False), (23.6, True)],
)
def test_b12_oxygen_fails_below_19_5_or_above_23_5(oxygen: float, fails: bool) -> None:
    findings = evaluate(LATEST["hazardous_chemicals"], {"chem.confined_space.oxygen": oxygen})
    assert bool(findings) is fails


@pytest.mark.parametrize(
    ("template_id", "version", "answers", "profile", "failed"),
    [
        ("coal_mine", 2, {"coal.air.face_temperature": 28}, None, ["coal.air.face_temperature"]),
        ("hazardous_chemicals", 2, {"chem.confined_space.oxygen": 21.4}, None, ["chem.confined_space.oxygen"]),
        ("crowded_venue", 2, {"venue.management.drills_per_year": 1}, None, ["venue.management.drills_per_year"]),
        ("crowded_venue", 2, {"venue.retail.cold_storage_insulation": "no"}, "school", []),
        ("crowded_venue", 1, {"venue.retail.cold_storage_insulation": "no"}, None, []),
    ],
)  # fmt: skip
def test_pinned_versions_evaluate_as_before(
    template_id: str, version: int, answers: dict, profile: str | None, failed: list[str]
) -> None:
    """The versions before the fixes keep their own answers: an inspection pinned to them is
    evaluated exactly as when it was submitted."""
    findings = evaluate(ALL[(template_id, version)], answers, profile)
    assert [f.item_id for f in findings] == failed


def test_pinned_high_rise_v2_still_fires_both_rules_and_no_published_file_changed() -> None:
    answers = _comprehensive_failures("high_rise_fire", 2, 6)
    assert {"gb35181_2017_crowded_any", "gb35181_2017_other_any"} <= _rules_fired(
        "high_rise_fire", 2, answers, "public_crowded"
    )
    assert validate_tree(ROOT) == []


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


@pytest.mark.parametrize("template_id", sorted(LATEST))
def test_no_placeholder_in_the_latest_templates(template_id: str) -> None:
    """Not only hidden on display: the text of record carries no authors' note either, in the
    regulators' templates and in the self-inspection ones (whose v2 dropped "条号待原文核对")."""
    payload = json.loads(LATEST[template_id].model_dump_json(by_alias=True))
    stray = [s for s in _strings(payload) if any(m in s for m in PLACEHOLDERS)]
    assert stray == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("充电安全要求（条号待核对）", "充电安全要求"),
        ("Check the tags. Per the 2017 edition; confirm against the 2025 text.",
         "Check the tags. Per the 2017 edition."),
    ],
)  # fmt: skip
def test_older_versions_show_no_placeholder_either(raw: str, shown: str) -> None:
    assert for_inspectors(raw) == shown
    for template in ALL.values():
        for item in template.items():
            for text in (item.guidance.zh, item.guidance.en, item.basis.clause):
                assert not any(m in for_inspectors(text) for m in PLACEHOLDERS), item.id


def test_b16_121_is_cited_by_item() -> None:
    """安监总管三〔2017〕121号 lists situations, not articles: the latest versions cite 第（N）项,
    and the versions before keep 第N条 for the inspections pinned to them."""
    key = "saws_121_2017"
    for template in LATEST.values():
        clauses = [i.basis.clause for i in template.items() if i.basis.standard == key]
        assert all(re.fullmatch(r"第（[一二三四五六七八九十]+）项", c) for c in clauses), (
            template.id
        )
    assert len([i for i in LATEST["hazardous_chemicals"].items() if i.basis.standard == key]) == 35
    finding = _one(
        evaluate(LATEST["hazmat_road_transport"], {"hm.load.universal_arm": "no"}, "hazmat_loader"),
        "hm.load.universal_arm",
    )
    assert "第（七）项" in finding.basis
    old = ALL[("hazardous_chemicals", 3)].item("chem.hot_work.permit_issued")
    assert old.basis.clause == "第十八条"
