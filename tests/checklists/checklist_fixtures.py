"""A small checklist template the server tests control (the real ones keep changing)."""

from __future__ import annotations

import copy
from typing import Any

from server.checklists.service import import_templates
from server.demo_inspections import answered_in_full
from server.uow import unit_of_work
from shared.checklist import Template

TEMPLATE_ID = "test_fire"


def _item(item_id: str, zh: str, en: str, hazard: tuple[str, str], **extra: Any) -> dict[str, Any]:
    base = {
        "id": item_id,
        "text": {"zh": zh, "en": en},
        "hazard": {"zh": hazard[0], "en": hazard[1]},
        "answer": "yes_no",
        "pass_when": "yes",
        "severity": "general",
        "basis": {"standard": "gb35181_2025", "clause": "第5.1条"},
        "guidance": {"zh": "现场查看", "en": "Look on site"},
        "photo_required": False,
        "deadline_days": 7,
    }
    base.update(extra)
    return base


def template_dict(version: int = 1) -> dict[str, Any]:
    """Six items of every answer type, a profile-only item and a count rule (≥ 3 of group g)."""
    return {
        "id": TEMPLATE_ID,
        "version": version,
        "title": {"zh": "测试消防检查表", "en": "Test fire checklist"},
        "industry": "crowded_venue",
        "profiles": [{"id": "mall", "zh": "商场", "en": "Mall"}],
        "standards": [
            {
                "key": "gb35181_2025",
                "title": {
                    "zh": "重大火灾隐患判定规则（GB 35181-2025）",
                    "en": "Rules for determining major fire hazards (GB 35181-2025)",
                },
                "issued": "2025-04-25",
                "in_force": "2025-11-01",
                "edition": "2025",
            }
        ],
        "sections": [
            {
                "id": "evac",
                "title": {"zh": "安全疏散", "en": "Evacuation"},
                "items": [
                    _item(
                        "t.exit.clear",
                        "安全出口是否畅通、未被封堵？",
                        "Are the safety exits clear and unblocked?",
                        ("安全出口被封堵", "A safety exit is blocked"),
                        severity="major",
                        photo_required=True,
                        deadline_days=0,
                        stop_work=True,
                        basis={"standard": "gb35181_2025", "clause": "第5.3条"},
                    ),
                    _item(
                        "t.alarm.works",
                        "火灾自动报警系统是否正常运行？",
                        "Does the automatic fire alarm work?",
                        ("火灾自动报警系统不能正常运行", "The automatic fire alarm does not work"),
                        groups=["g"],
                    ),
                    _item(
                        "t.ext.pressure",
                        "灭火器压力",
                        "Extinguisher pressure",
                        ("灭火器压力不符合要求", "Extinguisher pressure out of range"),
                        answer="number",
                        pass_when=None,
                        unit="MPa",
                        pass_rule={"op": "between", "min": 1.0, "max": 1.4},
                        deadline_days=3,
                        groups=["g"],
                    ),
                    _item(
                        "t.drill.freq",
                        "消防演练频次",
                        "Fire drill frequency",
                        (
                            "未按规定频次组织消防演练",
                            "Fire drills are not held as often as required",
                        ),
                        answer="choice",
                        pass_when=None,
                        choices=[
                            {
                                "value": "half_year",
                                "zh": "每半年",
                                "en": "Every 6 months",
                                "pass": True,
                            },
                            {"value": "never", "zh": "从未", "en": "Never", "pass": False},
                        ],
                        deadline_days=30,
                        groups=["g"],
                    ),
                    _item(
                        "t.note",
                        "其他情况",
                        "Other observations",
                        ("其他情况", "Other observations"),
                        answer="text",
                        pass_when=None,
                    ),
                    _item(
                        "t.mall.shutters",
                        "防火卷帘下是否未堆放物品？",
                        "Is the space under the fire shutters kept free of goods?",
                        ("防火卷帘下堆放物品", "Goods are stored under a fire shutter"),
                        profiles=["mall"],
                    ),
                ],
            }
        ],
        "count_rules": [
            {
                "id": "t.rule.g",
                "title": {"zh": "综合判定：消防设施", "en": "Comprehensive: fire equipment"},
                "groups": ["g"],
                "min_failed": 3,
                "severity": "major",
                "basis": {"standard": "gb35181_2025", "clause": "第6章"},
            }
        ],
    }


def make_template(version: int = 1, **changes: Any) -> Template:
    data = copy.deepcopy(template_dict(version))
    data.update(changes)
    return Template.model_validate(data)


def import_test_templates(engine, clock, *templates: Template):
    templates = templates or (make_template(1),)
    with unit_of_work(engine) as session:
        return import_templates(session, {(t.id, t.version): t for t in templates}, clock.now())


def full_answers(answers: dict[str, Any], profile: str | None = None) -> dict[str, Any]:
    """``answers`` plus a passing answer for every other item: an inspection must answer every
    item that applies (``shared.completion``), and most tests are about a few of them."""
    return answered_in_full(make_template(1), answers, profile)
