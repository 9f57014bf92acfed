"""Where the sites are: the site map (a server-drawn SVG schematic, no online tiles) and each
site's printable QR code, which the tablet scans to open the site and its checklist."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import segno
from fastapi import APIRouter, Request
from markupsafe import Markup
from starlette.responses import Response

from server.api.deps import SessionDep
from server.console.pages import ConsoleRoute, render
from server.console.session import ConsoleCaller, lang_of, require_role
from server.sites import map as site_map
from server.sites import service as sites
from shared.geo import DATUM_LABELS, GpsStamp, SiteDistance, from_site, site_qr_payload
from shared.roles import Role


@dataclass(frozen=True)
class Stamped:
    """A GPS stamp as the hazard page shows it: where, and how far from the site."""

    what: str  # "finding" or a photo's SHA-256
    stamp: GpsStamp
    distance: SiteDistance | None


def stamps_of(events: Sequence[Any], site: Any) -> list[Stamped]:
    """The finding's stamp (from the report) and every photo's, in chain order, each with its
    distance from the site's coordinates (None when the site has none)."""
    out: list[Stamped] = []
    for e in events:
        p = e.payload
        if e.type == "reported" and p.get("gps"):
            stamp = GpsStamp.model_validate(p["gps"])
            out.append(Stamped("finding", stamp, from_site(stamp, site)))
        for sha, raw in (p.get("photo_gps") or {}).items():
            stamp = GpsStamp.model_validate(raw)
            out.append(Stamped(sha, stamp, from_site(stamp, site)))
    return out


router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
MAP_READERS = (Role.leader, Role.officer, Role.admin)
QR_PRINTERS = (Role.officer, Role.admin)


@router.get("/map")
def map_page(request: Request, caller: ConsoleCaller, session: SessionDep) -> Response:
    require_role(caller, *MAP_READERS)
    found = site_map.markers(session, caller)
    districts = {d.id: d for d in sites.list_districts(session)}
    svg = site_map.draw(found, districts, lang_of(request), "/console/queue?tab=all&site={id}")
    ctx = {
        "svg": Markup(svg),  # noqa: S704 - built here from escaped values
        "unplaced": [m for m in found if m.point is None],
        "placed": sum(1 for m in found if m.point is not None),
        "counts": {k: sum(1 for m in found if m.status == k) for k, _, _ in site_map.STATUSES},
        "statuses": site_map.STATUSES,
    }
    return render(request, "site_map.html", ctx, caller=caller)


@router.get("/sites/{site_id}/qr")
def site_qr(request: Request, site_id: str, caller: ConsoleCaller, session: SessionDep) -> Response:
    require_role(caller, *QR_PRINTERS)
    site = sites.get_site(session, caller, site_id[:36])
    payload = site_qr_payload(site.id)
    qr = segno.make(payload, error="m").svg_inline(scale=8, border=4, omitsize=False)
    districts = {d.id: d for d in sites.list_districts(session)}
    ctx = {
        "s": site,
        "district": districts.get(site.district_id),
        "payload": payload,
        "qr": Markup(qr),  # noqa: S704 - segno's own SVG of our payload
        "datum": DATUM_LABELS.get(site.datum),
    }
    return render(request, "site_qr.html", ctx, caller=caller)
