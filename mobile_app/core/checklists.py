"""Which checklists the tablet offers at a site, by who is logged in (shared.site_checklists):
an enterprise user its self-inspections (自查: patrols and checks, each under its profile), an
inspector the regulator's checklists. The same rule the server applies when it accepts them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mobile_app.core.store import LocalStore
from shared.site_checklists import may_use, picker_fits


@dataclass(frozen=True)
class Offer:
    """A checklist offered at a site: its newest version held here and its default profile."""

    template_id: str
    version: int
    profile: str | None
    title: tuple[str, str]
    self_inspection: bool


def held_templates(store: LocalStore, role: str) -> dict[str, dict[str, Any]]:
    """The newest version of each template on the device that ``role`` may use, by id."""
    latest: dict[str, dict[str, Any]] = {}
    for r in store.read("SELECT data FROM template"):
        t = json.loads(r["data"])
        if not may_use(role, t["content"].get("inspectors")):
            continue
        if t["id"] not in latest or t["version"] > latest[t["id"]]["version"]:
            latest[t["id"]] = t
    return latest


def offers(store: LocalStore, role: str, site: dict[str, Any]) -> list[Offer]:
    """The checklists a user of ``role`` inspects ``site`` with (a row of the ``site`` table's
    data), default first."""
    held = held_templates(store, role)
    fits = picker_fits(
        role, site["site_type"], site["industry"], {k: t["industry"] for k, t in held.items()}
    )
    return [
        Offer(
            f.template_id,
            held[f.template_id]["version"],
            f.profile,
            (held[f.template_id]["title"], held[f.template_id].get("title_en") or ""),
            "enterprise" in (held[f.template_id]["content"].get("inspectors") or ()),
        )
        for f in fits
    ]
