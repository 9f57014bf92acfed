"""From an inspection's findings to the hazards they raise: one rule for the server (which
creates them) and the tablet (which shows them, marked pending, before the server has seen
the inspection). Keeping both here means the tablet's preview cannot drift from the record.

A finding's hazard id is derived from the inspection id and the item id, so a device can name
the hazards of an inspection before it is sent and no retry can create them twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from shared.chain import MAX_TEXT
from shared.checklist import Finding, Template
from shared.geo import GpsStamp

MAX_TITLE = 200


def finding_hazard_id(inspection_id: str, item_id: str) -> str:
    """The hazard id of the finding on ``item_id`` (an item or count-rule id)."""
    return str(uuid.uuid5(uuid.UUID(inspection_id), f"finding:{item_id}"))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def default_description(finding: Finding) -> str:
    """Both languages, Chinese first (the text of record), as the server has always stored;
    then what to do at once (a stop, or a major's measures until its plan is carried out)."""
    text = f"{finding.description_zh}\n{finding.description_en}"
    if finding.measures_zh:
        text += f"\n立即措施：{finding.measures_zh}\nImmediate measures: {finding.measures_en}"
    return text


def finding_hazard_payload(
    template: Template,
    finding: Finding,
    *,
    inspection_id: str,
    site_id: str,
    photos: Mapping[str, Sequence[str]],
    descriptions: Mapping[str, str] | None = None,
    location: str | None = None,
    profile: str | None = None,
    gps: Mapping[str, Any] | None = None,
    photo_gps: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``reported`` event payload of one finding's hazard.

    ``descriptions`` holds what the inspector wrote over the generated text (item id → text);
    it replaces the generated description, which is kept as the basis of record otherwise.
    A count rule's hazard carries no photos: the contributing items' hazards carry them.
    The hazard is tagged with the "一件事" matter and link the template names for the
    inspection's ``profile`` (``Template.chain_for``), so no inspector has to pick them.
    ``gps`` (item id → stamp) and ``photo_gps`` (SHA-256 → stamp) are the device's GPS stamps
    (``shared.geo``); the hazard carries its item's and its photos' ones.
    """
    # The title is the defect as written (Finding.title_zh), never the requirement.
    title = finding.title_zh
    item_photos = list(photos.get(finding.item_id, [])) if finding.kind == "item" else []
    written = (descriptions or {}).get(finding.item_id, "").strip()
    payload: dict[str, Any] = {
        "site_id": site_id,
        "title": clip(title.strip(), MAX_TITLE),
        "description": clip(written or default_description(finding), MAX_TEXT),
        "severity": finding.severity,
        "photos": item_photos,
        "inspection_id": inspection_id,
        "item_id": finding.item_id,
        "basis": clip(finding.basis, MAX_TEXT),
        "deadline_days": finding.deadline_days,
    }
    if location is not None:
        payload["location"] = location
    stamp = (gps or {}).get(finding.item_id) if finding.kind == "item" else None
    if stamp is not None:
        payload["gps"] = GpsStamp.model_validate(stamp).wire()
    photo_stamps = {
        sha: GpsStamp.model_validate(photo_gps[sha]).wire()
        for sha in item_photos
        if sha in (photo_gps or {})
    }
    if photo_stamps:
        payload["photo_gps"] = photo_stamps
    chain = template.chain_for(profile, finding.item_id if finding.kind == "item" else None)
    if chain is not None:
        payload["matter_id"] = chain.matter
        if chain.link_id():
            payload["link_id"] = chain.link_id()
    return payload
