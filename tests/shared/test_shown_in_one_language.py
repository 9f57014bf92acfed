"""Text the system writes in both languages (a finding's description, the reason a major hazard
is listed) is shown in the reader's language only; what people wrote is shown as written."""

from __future__ import annotations

from shared.checklist import Finding
from shared.findings import default_description, description_in
from shared.supervision import MAJOR_LISTED_REASON, shown_value


def _finding(**extra) -> Finding:
    return Finding(
        item_id="exits",
        kind="item",
        severity="general",
        title_zh="安全出口被堵塞",
        description_zh="安全出口畅通：否（要求 是）",
        description_en="Exits clear: no (required: yes)",
        basis="",
        basis_en="",
        deadline_days=7,
        photo_required=False,
        **extra,
    )


def test_a_generated_description_reads_in_one_language():
    text = default_description(_finding())
    assert description_in(text, "zh") == "安全出口畅通：否（要求 是）"
    assert description_in(text, "en") == "Exits clear: no (required: yes)"


def test_immediate_measures_follow_their_language():
    text = default_description(_finding(measures_zh="立即停止营业", measures_en="Close at once"))
    assert description_in(text, "zh") == "安全出口畅通：否（要求 是）\n立即措施：立即停止营业"
    assert description_in(text, "en") == (
        "Exits clear: no (required: yes)\nImmediate measures: Close at once"
    )


def test_what_a_person_wrote_is_shown_as_written():
    for written in ("北侧安全出口\n堆放货物", "出口堵塞：严重\n已拍照：是", "B1层飞线充电"):
        assert description_in(written, "zh") == written
        assert description_in(written, "en") == written


def test_the_listing_reason_and_descriptions_through_shown_value():
    assert shown_value("text", MAJOR_LISTED_REASON, "zh", str) == "重大事故隐患挂牌督办"
    assert shown_value("text", MAJOR_LISTED_REASON, "en", str) == "major hazard under supervision"
    text = default_description(_finding())
    assert shown_value("text", text, "zh", str) == "安全出口畅通：否（要求 是）"
    assert shown_value("text", "现场整改完毕", "en", str) == "现场整改完毕"
