"""Supervision levels of 挂牌督办, named once: the console, the tablet, notifications and the
recipients' lookup all used to spell them (and the tablet said 区级 where the console said
区县)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared.findings import description_in

NONE, DISTRICT, CITY = 0, 1, 2


@dataclass(frozen=True)
class Level:
    value: int
    key: str  # the district level whose supervisors are told (``District.level``)
    zh: str
    en: str

    def name(self, lang: str = "zh") -> str:
        """``区县督办`` / ``District supervision``."""
        return f"{self.en.capitalize()} supervision" if lang == "en" else f"{self.zh}督办"


LEVELS = {
    DISTRICT: Level(DISTRICT, "district", "区县", "district"),
    CITY: Level(CITY, "city", "市级", "city"),
}


def level_of(value: int) -> Level | None:
    """The level a hazard's ``escalation_level`` stands for; above city is still city."""
    if value <= NONE:
        return None
    return LEVELS.get(value, LEVELS[CITY])


def supervision_name(value: int, lang: str = "zh") -> str:
    """The level's name, or "" when the hazard is not under supervision."""
    level = level_of(value)
    return level.name(lang) if level else ""


# What the system writes when it lists a major hazard (both languages in the record).
MAJOR_LISTED = ("重大事故隐患挂牌督办", "major hazard under supervision")
MAJOR_LISTED_REASON = " / ".join(MAJOR_LISTED)


def shown_value(kind: str, value: Any, lang: str, local_time: Callable[[str], str]) -> str:
    """An event field's value as the console and the tablet show it: a date in local time, a
    supervision level by its name (not "1"), text the system wrote in both languages in the
    reader's, anything else as written."""
    if kind == "date":
        return local_time(value)
    if kind == "level":
        return supervision_name(int(value), lang)
    text = str(value)
    if text == MAJOR_LISTED_REASON:
        return MAJOR_LISTED[1] if lang == "en" else MAJOR_LISTED[0]
    return description_in(text, lang)
