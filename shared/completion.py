"""Whether an inspection was actually done: no empty inspections.

Every item that applies (under the inspection's profile) must be answered, or marked 不适用
(``na``: it does not apply here) or 未检查 (``unchecked``: it applies but was not checked this
time), and a mark needs the inspector's reason in that item's note. Otherwise "0 of 94 items
answered" would read as "没有发现问题". The server's inspection service and the tablet's draft
submit both apply :func:`refusal`, so the tablet refuses before queueing what the server would.

The completion rate (完成率) that records and daily summaries show is (answered + 不适用) /
items that apply: 未检查 and unanswered items lower it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.checklist import NA, UNCHECKED, Template
from shared.errors import Refusal

MARKS = {NA: ("不适用", "not applicable"), UNCHECKED: ("未检查", "not checked")}
NAMED = 5  # items named in a refusal's message (the fields name them all)


@dataclass(frozen=True)
class Completion:
    applicable: int
    answered: int  # with a reading: yes/no, a number, a choice or text
    not_applicable: int
    unchecked: int
    unanswered: tuple[str, ...]  # item ids, template order
    unexplained: tuple[str, ...]  # marked 不适用/未检查 with no reason

    @property
    def done(self) -> int:
        return self.answered + self.not_applicable

    @property
    def rate(self) -> float | None:
        """完成率, 0–1; None for a checklist with nothing that applies."""
        return round(self.done / self.applicable, 4) if self.applicable else None

    @property
    def complete(self) -> bool:
        return not self.unanswered and not self.unexplained


def completion(
    template: Template,
    answers: Mapping[str, object],
    notes: Mapping[str, str],
    profile: str | None,
) -> Completion:
    """Count the applicable items by how they were answered; ``notes`` are the item notes."""
    applicable = answered = not_applicable = unchecked = 0
    unanswered: list[str] = []
    unexplained: list[str] = []
    for item in template.items():
        if not item.applies_to(profile):
            continue
        applicable += 1
        value = answers.get(item.id)
        if value is None or (isinstance(value, str) and not value.strip()):
            unanswered.append(item.id)
            continue
        if value not in MARKS:
            answered += 1
            continue
        if value == NA:
            not_applicable += 1
        else:
            unchecked += 1
        if not str(notes.get(item.id) or "").strip():
            unexplained.append(item.id)
    return Completion(
        applicable, answered, not_applicable, unchecked, tuple(unanswered), tuple(unexplained)
    )


def item_numbers(template: Template, profile: str | None) -> dict[str, str]:
    """``section.item`` numbers as the tablet shows them (only items that apply count)."""
    numbers: dict[str, str] = {}
    s_no = 0
    for section in template.sections:
        items = [i for i in section.items if i.applies_to(profile)]
        if items:
            s_no += 1
        for i_no, item in enumerate(items, start=1):
            numbers[item.id] = f"{s_no}.{i_no}"
    return numbers


def _named(template: Template, ids: tuple[str, ...], numbers: dict[str, str], lang: str) -> str:
    sep = "；" if lang == "zh" else "; "
    names = []
    for item_id in ids[:NAMED]:
        text = template.item(item_id).text
        names.append(f"{numbers.get(item_id, '')} {text.zh if lang == 'zh' else text.en}".strip())
    more = len(ids) - NAMED
    tail = (f"等 {len(ids)} 项" if lang == "zh" else f" and {more} more") if more > 0 else ""
    return sep.join(names) + tail


def refusal(template: Template, c: Completion, profile: str | None) -> Refusal | None:
    """Why this inspection cannot be submitted yet, or None when it can.

    ``fields`` are keyed ``answers.<item id>`` (unanswered) and ``item_notes.<item id>`` (a mark
    without its reason), as the server's payload names them."""
    if c.complete:
        return None
    numbers = item_numbers(template, profile)
    zh: list[str] = []
    en: list[str] = []
    fields: dict[str, str] = {}
    if c.unanswered:
        zh.append(
            f"还有 {len(c.unanswered)} 项未作答：{_named(template, c.unanswered, numbers, 'zh')}"
        )
        en.append(
            f"{len(c.unanswered)} item(s) not answered: "
            + _named(template, c.unanswered, numbers, "en")
        )
        for item_id in c.unanswered:
            fields[f"answers.{item_id}"] = (
                "not answered: answer it, or mark it 不适用/未检查 (na/unchecked) with a reason"
            )
    if c.unexplained:
        zh.append(
            f"{len(c.unexplained)} 项标为不适用或未检查但未写原因："
            + _named(template, c.unexplained, numbers, "zh")
        )
        en.append(
            f"{len(c.unexplained)} item(s) marked not applicable or not checked without a reason: "
            + _named(template, c.unexplained, numbers, "en")
        )
        for item_id in c.unexplained:
            fields[f"item_notes.{item_id}"] = (
                "a reason is required for 不适用/未检查 (na/unchecked)"
            )
    return Refusal(
        "inspection_incomplete",
        "。".join(zh) + "。每一项须作答，或标为“不适用”/“未检查”并写明原因。",
        ". ".join(en)
        + ". Answer every item, or mark it not applicable / not checked with a reason.",
        fields,
    )
