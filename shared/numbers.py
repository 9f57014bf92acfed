"""Human hazard numbers (隐患编号), e.g. ``YH-150302-2026-000123``, and inspection record
numbers (检查记录编号), e.g. ``JC-150302-2026-000045``: what a person writes on a record and
reads out on the phone instead of a UUID.

``YH`` (隐患), the district's administrative code, the local year of the report and a sequence
per district and year, six digits so numbers sort as text. Allocated once, by the server, when
the hazard is created (``server.hazards.numbers``); a tablet shows the UUID's first characters
until the number arrives with the next pull. An inspection is numbered the same way (``JC``,
检查), by the local year it was carried out, when the server accepts it.
"""

from __future__ import annotations

import re

PREFIX = "YH"
INSPECTION_PREFIX = "JC"
SEQ_DIGITS = 6


def _number_re(kind: str) -> re.Pattern[str]:
    return re.compile(rf"^{kind}-(?P<district>[0-9A-Za-z]+)-(?P<year>\d{{4}})-(?P<seq>\d{{6,}})$")


NUMBER_RE = _number_re(PREFIX)
INSPECTION_NUMBER_RE = _number_re(INSPECTION_PREFIX)


def number_prefix(district_code: str, year: int, kind: str = PREFIX) -> str:
    """Every number of a kind, district and year starts with this (a range scan finds the
    last)."""
    return f"{kind}-{district_code}-{year:04d}-"


def hazard_number(district_code: str, year: int, seq: int, kind: str = PREFIX) -> str:
    return f"{number_prefix(district_code, year, kind)}{seq:0{SEQ_DIGITS}d}"


def inspection_number(district_code: str, year: int, seq: int) -> str:
    return hazard_number(district_code, year, seq, INSPECTION_PREFIX)


def sequence_of(number: str) -> int:
    """The sequence part of a number this module made."""
    return int(number.rsplit("-", 1)[1])


def shown_number(number: str | None, hazard_id: str) -> str:
    """What a screen shows for a hazard (or an inspection record): its number, or (not yet
    numbered: reported offline and not synced) a short form of its id marked as provisional."""
    return number or f"待编号 {hazard_id[:8]}"
