"""Defect wording, the answer convention and the deadline rule on the real templates (issue 15,
points 3 and 4), and the v1 versions staying exactly what inspections pinned to them saw.

- Every item of every latest template says, in Chinese and English, how its finding is written
  (``hazard``), with no English inside the Chinese; that wording titles the hazard, on the
  server (over HTTP) as in the tablet's preview (``shared.findings``, tested in tests/sync).
- Every yes/no item states the requirement (yes = compliant); none reads as a defect question.
- Time limits follow the rule: 0 days only for stop-work items; a major that does not stop the
  work gets a plan period and immediate measures.
- v1 files, digests and evaluation are unchanged, and v2 asks the same questions: a v1 answer
  translated through the flipped polarity gives the same findings with the same severities.
"""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from server.checklists.publishing import (
    validate_tree,
)
from server.demo import did
from server.demo_inspections import answered_in_full
from shared.checklist import (
    LEGACY_VERSIONS,
    Item,
    Template,
    evaluate,
    latest_versions,
    load_all,
    template_digest,
)
from shared.clock import to_iso
from shared.deadlines import MAJOR_PLAN_DAYS, STOP_WORK_NOTE
from shared.findings import default_description, finding_hazard_id, finding_hazard_payload
from shared.text import latin_words

REAL = Path(__file__).resolve().parents[2] / "checklists"
ALL = load_all(REAL)
LATEST = latest_versions(ALL)
V1_TEMPLATES = sorted(tid for tid, version in LEGACY_VERSIONS)
MALL = did("site", "万达广场乌海店")

# The canonical digests of the v1 versions as published (and stored in every database since):
# any change to the files or to how a template serialises would orphan pinned inspections.
V1_DIGESTS = {
    "coal_mine": "ef40ebfe9d9ea6aa73660820d5fdbb1151f31fafb136cb191c813109f59b20e0",
    "crowded_venue": "8a342e022b1f7cbec3f2738a80ed7504323d7220a1e33ae9fafcabfd339e78dd",
    "hazardous_chemicals": "49bb734910ea6a51c3e0155965031622a9604b705a1117bdcdf60a201a93ecd7",
    "high_rise_fire": "80f64b4fe96a0a177d544a99c2ec68c5fa9c8fdf18c3454302d20a070f5a642b",
    "noncoal_mine": "9bd5361faacef4684ff0c6eb0a3637dc524d2b305ff23e6a606f89aaa0e8c05e",
}

# How a defect question opens ("is there a violation?", where yes means failure).
DEFECT_QUESTION = re.compile(
    r"是否(存在|违反|违规|超出|超过|擅自|没有|不能|低于|少于|大于|使用列入|使用国家明令|未设|"
    r"未建立|未按|未制定|未配备|未进行|未查明|未取得|未安装|未采用|未明确|未经)"
)


def _latest_items() -> list[tuple[str, str]]:
    return [(t.id, i.id) for t in LATEST.values() for i in t.items()]


def _failing(item: Item) -> object:
    if item.answer == "yes_no":
        return "no" if item.pass_when == "yes" else "yes"
    if item.answer == "choice":
        return next(c.value for c in item.choices if not c.passes)
    rule = item.pass_rule
    assert item.answer == "number" and rule is not None
    if rule.op == "between":
        assert rule.max is not None
        return rule.max + 1
    assert rule.value is not None
    return rule.value + (1 if rule.op in ("<", "<=", "==") else -1)


def _profile(item: Item) -> str | None:
    return item.profiles[0] if item.profiles else None


# --------------------------------------------------------------------------------------------
# Wording
# --------------------------------------------------------------------------------------------


def test_the_latest_versions_are_past_v1() -> None:
    assert {t.id: t.version >= 2 for t in LATEST.values() if t.id in V1_TEMPLATES} == {
        tid: True for tid in V1_TEMPLATES
    }


@pytest.mark.parametrize(("template_id", "item_id"), _latest_items())
def test_every_item_has_its_defect_wording(template_id: str, item_id: str) -> None:
    item = LATEST[template_id].item(item_id)
    assert item.hazard is not None, f"{item_id} has no hazard wording"
    assert item.hazard.zh.strip() and item.hazard.en.strip()
    assert latin_words(item.hazard.zh) == [], item.hazard.zh
    assert not re.search(r"[\u4e00-\u9fff]", item.hazard.en), item.hazard.en
    if item.measures is not None:
        assert latin_words(item.measures.zh) == [] and item.measures.en.strip()
    # a finding, not the requirement: the wording is not the item's text
    assert item.hazard.zh != item.text.zh


def test_the_allow_list_keeps_codes_and_units_and_nothing_else() -> None:
    assert latin_words("氧气浓度低于19.5%，一氧化碳超过24 ppm，风速低于0.25 m/s") == []
    assert latin_words("不符合GB 50016和GB/T 40248，压力低于0.1 MPa，浓度超过30 mg/m³") == []
    assert latin_words("未设置 fire door，UPS 缺失") == ["fire", "door", "UPS"]


@pytest.mark.parametrize(("template_id", "item_id"), _latest_items())
def test_a_failed_item_is_titled_with_its_wording(template_id: str, item_id: str) -> None:
    template = LATEST[template_id]
    item = template.item(item_id)
    if item.answer == "text":
        assert evaluate(template, {item_id: "任何记录"}, _profile(item)) == []
        return
    [finding] = [
        f
        for f in evaluate(template, {item_id: _failing(item)}, _profile(item))
        if f.item_id == item_id
    ]
    assert item.hazard is not None
    assert (finding.title_zh, finding.title_en) == (item.hazard.zh, item.hazard.en)
    payload = finding_hazard_payload(
        template, finding, inspection_id=str(uuid.uuid4()), site_id="s", photos={}
    )
    assert payload["title"] == item.hazard.zh[:200]
    # the requirement and the answer stay in the description, as the evidence
    assert payload["description"].startswith(f"{item.text.zh}：")
    if item.measures is not None:
        assert f"立即措施：{item.measures.zh}" in payload["description"]
    elif item.stop_work:
        assert f"立即措施：{STOP_WORK_NOTE[0]}" in payload["description"]


# --------------------------------------------------------------------------------------------
# Answer convention and deadlines
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("template_id", sorted(LATEST))
def test_every_yes_no_item_states_the_requirement(template_id: str) -> None:
    template = LATEST[template_id]
    yes_no = [i for i in template.items() if i.answer == "yes_no"]
    assert yes_no
    assert [i.id for i in yes_no if i.pass_when != "yes"] == []
    assert [i.id for i in yes_no if DEFECT_QUESTION.search(i.text.zh)] == []


def test_v1_mines_asked_defect_questions_and_the_pattern_sees_them() -> None:
    """The convention test above can fail: v1's mine items are the defect questions it finds."""
    coal = ALL[("coal_mine", 1)]
    flagged = [i.id for i in coal.items() if i.answer == "yes_no" and i.pass_when == "no"]
    assert len(flagged) == 77
    seen = [i for i in flagged if DEFECT_QUESTION.search(coal.item(i).text.zh)]
    assert len(seen) >= 30


@pytest.mark.parametrize("template_id", sorted(LATEST))
def test_deadlines_follow_the_rule(template_id: str) -> None:
    low, high = MAJOR_PLAN_DAYS
    for item in LATEST[template_id].items():
        if item.deadline_days == 0:
            assert item.stop_work, f"{item.id}: 0 days without stopping the work"
        if item.severity == "major" and not item.stop_work:
            assert low <= item.deadline_days <= high, item.id
            assert item.measures is not None, f"{item.id}: a major with no immediate measures"


def test_v1_majors_were_overdue_at_creation_and_v2_majors_are_not() -> None:
    """B13 of the review: v1 gave most majors 0 days; in v2 every 0 is a stop."""
    v1_zero = [i.id for i in ALL[("coal_mine", 1)].items() if i.deadline_days == 0]
    v2 = LATEST["coal_mine"]
    assert len(v1_zero) == 55
    assert all(v2.item(i).stop_work for i in v1_zero if v2.item(i).deadline_days == 0)
    assert any(v2.item(i).deadline_days >= MAJOR_PLAN_DAYS[0] for i in v1_zero)


# --------------------------------------------------------------------------------------------
# v1 as it was, and v2 asking the same
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("template_id", V1_TEMPLATES)
def test_v1_is_unchanged(template_id: str) -> None:
    v1 = ALL[(template_id, 1)]
    assert template_digest(v1) == V1_DIGESTS[template_id]
    assert all(i.hazard is None and not i.stop_work for i in v1.items())


def _translated(v1: Template, v2: Template, answers: dict[str, object]) -> dict[str, object]:
    """A v1 answer as the same inspector would give it to the v2 question."""
    flip = {"yes": "no", "no": "yes"}
    out = {}
    for item_id, value in answers.items():
        old, new = v1.item(item_id), v2.item(item_id)
        same = old.answer != "yes_no" or old.pass_when == new.pass_when
        out[item_id] = value if same or value not in flip else flip[str(value)]
    return out


@pytest.mark.parametrize("template_id", V1_TEMPLATES)
def test_v2_asks_what_v1_asked(template_id: str) -> None:
    v1, v2 = ALL[(template_id, 1)], ALL[(template_id, 2)]
    assert [i.id for i in v1.items()] == [i.id for i in v2.items()]
    assert [(r.id, r.groups, r.min_failed) for r in v1.count_rules] == [
        (r.id, r.groups, r.min_failed) for r in v2.count_rules
    ]
    for profile in [None, *sorted(v1.profile_ids())]:
        items = [i for i in v1.items() if i.applies_to(profile) and i.answer != "text"]
        answers = {i.id: _failing(i) for i in items}
        old = evaluate(v1, answers, profile)
        new = evaluate(v2, _translated(v1, v2, answers), profile)
        assert [(f.item_id, f.severity) for f in old] == [(f.item_id, f.severity) for f in new]
        assert all(f.title_zh == v1.item(f.item_id).text.zh for f in old if f.kind == "item")
        # and passing everything passes in both
        passing = {i.id: ("yes" if i.pass_when == "yes" else "no") for i in items if i.pass_when}
        assert evaluate(v2, _translated(v1, v2, passing), profile) == []


# --------------------------------------------------------------------------------------------
# The validator on a real tree
# --------------------------------------------------------------------------------------------


def test_a_new_version_without_wording_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "checklists"
    shutil.copytree(REAL, root)
    data = yaml.safe_load((root / "crowded_venue" / "2.yaml").read_text(encoding="utf-8"))
    data["version"] = 3
    first = data["sections"][0]["items"][0]
    del first["hazard"]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    (root / "crowded_venue" / "3.yaml").write_text(text, encoding="utf-8")
    problems = validate_tree(root)
    assert any(f"item '{first['id']}': hazard is missing" in p for p in problems), problems
    assert not any("crowded_venue/1.yaml" in p for p in problems)


# --------------------------------------------------------------------------------------------
# Over HTTP: the hazard the server raises
# --------------------------------------------------------------------------------------------


@pytest.fixture
def real_checklists(live_demo, clock):
    from server.checklists.service import DEFAULT_ROOT, import_into

    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    return live_demo


def _submit(client, clock, version: int, answers: dict[str, object], profile: str) -> dict:
    """Every item given carries a photo, so photo-required failures are accepted; the rest are
    answered so that they pass (no inspection goes with items unanswered)."""
    full = answered_in_full(ALL[("crowded_venue", version)], answers, profile)
    body = {
        "id": str(uuid.uuid4()),
        "site_id": MALL,
        "template_id": "crowded_venue",
        "template_version": version,
        "profile": profile,
        "answers": full,
        "photos": {item_id: ["ab" * 32] for item_id in answers},
        "started_at": to_iso(clock.now() - timedelta(hours=1)),
        "ended_at": to_iso(clock.now()),
    }
    r = client.post("/inspections", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_server_titles_hazards_with_the_wording_and_v1_as_before(real_checklists, clock):
    v1, v2 = ALL[("crowded_venue", 1)], LATEST["crowded_venue"]
    general = v2.item("venue.management.responsible_person")
    major = next(i for i in v2.items() if i.measures is not None and i.applies_to("mall"))
    assert general.hazard is not None and major.hazard is not None and major.measures is not None
    inspector = real_checklists.login("inspector")
    out = _submit(
        inspector,
        clock,
        v2.version,
        {general.id: "no", major.id: _failing(major)},
        "mall",
    )
    by_id = {h["id"]: h["title"] for h in out["hazards"]}
    titles = {i: by_id[finding_hazard_id(out["id"], i)] for i in (general.id, major.id)}
    assert (
        titles[general.id]
        == general.hazard.zh
        == "未明确消防安全责任人，或未落实逐级消防安全责任制"
    )
    assert titles[major.id] == major.hazard.zh
    hid = finding_hazard_id(out["id"], major.id)
    detail = inspector.get(f"/hazards/{hid}").json()
    assert detail["title"] == major.hazard.zh and detail["severity"] == "major"
    reported = detail["events"][0]["payload"]
    assert f"立即措施：{major.measures.zh}" in reported["description"]
    assert reported["deadline_days"] == major.deadline_days >= MAJOR_PLAN_DAYS[0]
    # the console's hazard list and export read the same title
    listed = inspector.get("/hazards", params={"site": MALL, "limit": 200}).json()["items"]
    assert general.hazard.zh in {h["title"] for h in listed}

    # an inspection pinned to v1 raises what v1 always raised
    old = _submit(inspector, clock, 1, {general.id: "no"}, "mall")
    [finding] = evaluate(v1, {general.id: "no"}, "mall")
    assert [h["title"] for h in old["hazards"]] == [v1.item(general.id).text.zh]
    assert old["template_digest"] == V1_DIGESTS["crowded_venue"]
    description = inspector.get(f"/hazards/{old['hazards'][0]['id']}").json()["events"][0]
    assert description["payload"]["description"] == default_description(finding)
