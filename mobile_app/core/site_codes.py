"""Opening a site from its printed QR code (``shared.geo.site_qr_payload``): scanned by the
camera where the tablet has one, or typed in from the line printed under the code. The site
must be one this tablet holds (the user's scope, synced); anything else is refused with a
reason a person can act on."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mobile_app.core.checklists import Offer, offers
from mobile_app.core.outbox import LocalRefusal
from mobile_app.core.store import LocalStore
from shared.errors import Refusal
from shared.geo import parse_site_qr


@dataclass(frozen=True)
class OpenedSite:
    """The scanned site and the checklists offered there, the suggested one first."""

    site: dict[str, Any]
    offers: list[Offer]

    @property
    def suggested(self) -> Offer | None:
        return self.offers[0] if self.offers else None


def open_from_qr(store: LocalStore, role: str, payload: str) -> OpenedSite:
    """The site a scanned or typed code names, with its suggested checklist. Raises
    ``LocalRefusal`` for a code that is not a HazardChain site code, or names a site this
    tablet does not hold (another district's, or not synced yet)."""
    found = parse_site_qr(payload)
    if isinstance(found, Refusal):
        raise LocalRefusal(found)
    rows = store.read("SELECT data FROM site WHERE id = ?", [found])
    if not rows:
        raise LocalRefusal(
            Refusal(
                "qr_unknown_site",
                "本机没有这个场所：可能不在您的辖区，或尚未同步（请先同步）",
                "this tablet does not hold that site: not in your area, or not synced yet "
                "(sync first)",
                {"payload": found},
            )
        )
    site = json.loads(rows[0]["data"])
    if not site.get("active", True):
        raise LocalRefusal(
            Refusal("qr_inactive_site", "该场所已停用", "that site is no longer active")
        )
    return OpenedSite(site, offers(store, role, site))
