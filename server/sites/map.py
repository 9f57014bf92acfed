"""The site map: a plain SVG schematic drawn here, with no map tiles (the console must work
offline and on a closed government network). Sites are placed by their WGS-84 coordinates
within the box around them, each district's sites are wrapped in a shaded outline with its
name, and each site is coloured by its worst open hazard: major, overdue, open, or none."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from server.context import Caller
from server.hazards.models import Hazard
from server.scoping import scope_filter
from server.sites.models import District, Site
from shared.chain import OPEN_STATES
from shared.geo import site_point

WIDTH = 960
MARGIN = 60
# worst first: a site takes the first status that applies
STATUSES: tuple[tuple[str, str, tuple[str, str]], ...] = (
    ("major", "#c62828", ("有重大隐患", "Major hazard open")),
    ("overdue", "#ef6c00", ("有逾期隐患", "Overdue hazard")),
    ("open", "#1565c0", ("有在办隐患", "Open hazards")),
    ("clear", "#9e9e9e", ("无在办隐患", "No open hazard")),
)
COLOURS = {key: colour for key, colour, _ in STATUSES}
DISTRICT_FILLS = ("#e8f5e9", "#e3f2fd", "#fff8e1", "#f3e5f5", "#e0f7fa", "#fbe9e7")


@dataclass(frozen=True)
class Marker:
    site_id: str
    name: str
    district_id: str
    point: tuple[float, float] | None  # WGS-84
    open: int
    overdue: int
    major: int

    @property
    def status(self) -> str:
        if self.major:
            return "major"
        if self.overdue:
            return "overdue"
        return "open" if self.open else "clear"


def markers(session: Session, caller: Caller) -> list[Marker]:
    """Every active site the caller may see, with its open, overdue and major open hazards."""
    sites = session.exec(
        select(Site)
        .where(Site.active, scope_filter(caller.scope, Site.district_id, Site.id))
        .order_by(Site.name, Site.id)
    ).all()
    counts = {
        row[0]: row[1:]
        for row in session.exec(
            select(
                Hazard.site_id,
                func.count(),
                func.sum(case((col(Hazard.overdue), 1), else_=0)),
                func.sum(case((Hazard.severity == "major", 1), else_=0)),
            )
            .where(col(Hazard.state).in_([s.value for s in OPEN_STATES]))
            .where(col(Hazard.site_id).in_([s.id for s in sites]))
            .group_by(Hazard.site_id)
        ).all()
    }
    return [
        Marker(s.id, s.name, s.district_id, site_point(s), *map(int, counts.get(s.id, (0, 0, 0))))
        for s in sites
    ]


def _hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (Andrew's monotone chain), counter-clockwise."""
    pts = sorted(set(points))
    if len(pts) < 3:
        return pts

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    upper: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _outline(xy: list[tuple[float, float]], pad: float) -> str:
    """A district's shaded area: its sites' hull pushed out by ``pad`` pixels (a circle for
    one or two sites), as SVG path data."""
    cx = sum(p[0] for p in xy) / len(xy)
    cy = sum(p[1] for p in xy) / len(xy)
    hull = _hull(xy)
    if len(hull) < 3:
        r = pad + max((math.dist((cx, cy), p) for p in xy), default=0.0)
        return f"M{cx - r:.1f},{cy:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0Z"
    pushed = []
    for x, y in hull:
        d = math.dist((cx, cy), (x, y)) or 1.0
        pushed.append((x + (x - cx) / d * pad, y + (y - cy) / d * pad))
    return "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pushed) + "Z"


def draw(found: Sequence[Marker], districts: dict[str, District], lang: str, link: str) -> str:
    """The SVG. ``link`` is the URL of a site's hazards with ``{id}`` in it."""
    placed = [m for m in found if m.point is not None]
    en = lang == "en"
    legend_h = 30
    if not placed:
        height = 120
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'role="img" class="site-map"><text x="20" y="60" font-size="16">'
            f"{'No site has coordinates yet.' if en else '还没有场所标注坐标。'}</text></svg>"
        )
    lats = [m.point[0] for m in placed]  # type: ignore[index]
    lons = [m.point[1] for m in placed]  # type: ignore[index]
    lat0 = (min(lats) + max(lats)) / 2
    kx = math.cos(math.radians(lat0))  # equirectangular: a degree of longitude is shorter
    span_x = max((max(lons) - min(lons)) * kx, 0.01)
    span_y = max(max(lats) - min(lats), 0.01)
    scale = (WIDTH - 2 * MARGIN) / max(span_x, span_y * 1.0)
    height = int(span_y * scale + 2 * MARGIN) + legend_h + 20
    if height > WIDTH:  # a tall city: fit the height instead
        scale = (WIDTH - 2 * MARGIN) / span_y
        height = int(span_y * scale + 2 * MARGIN) + legend_h + 20
    x_off = (WIDTH - span_x * scale) / 2

    def xy(point: tuple[float, float]) -> tuple[float, float]:
        lat, lon = point
        return (x_off + (lon - min(lons)) * kx * scale, MARGIN + (max(lats) - lat) * scale)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" class="site-map" font-family="sans-serif">',
        f'<rect width="{WIDTH}" height="{height}" fill="#fafafa"/>',
    ]
    by_district: dict[str, list[tuple[float, float]]] = {}
    for m in placed:
        by_district.setdefault(m.district_id, []).append(xy(m.point))  # type: ignore[arg-type]
    labels = []
    for i, (did, pts) in enumerate(sorted(by_district.items())):
        fill = DISTRICT_FILLS[i % len(DISTRICT_FILLS)]
        out.append(
            f'<path class="district" data-district="{escape(did)}" d="{_outline(pts, 26)}" '
            f'fill="{fill}" stroke="#90a4ae" stroke-dasharray="4 3"/>'
        )
        d = districts.get(did)
        name = (d.name_en if en and d.name_en else d.name) if d else did
        top = min(p[1] for p in pts) - 34
        cx = sum(p[0] for p in pts) / len(pts)
        labels.append(
            f'<text class="district-label" x="{cx:.1f}" y="{max(top, 18):.1f}" '
            f'text-anchor="middle" font-size="18" font-weight="bold" fill="#37474f">'
            f"{escape(name)}</text>"
        )
    for m in sorted(placed, key=lambda m: [s[0] for s in STATUSES].index(m.status), reverse=True):
        x, y = xy(m.point)  # type: ignore[arg-type]
        tip = (
            f"{m.name}: {m.open} open, {m.overdue} overdue, {m.major} major"
            if en
            else f"{m.name}：在办{m.open}项，逾期{m.overdue}项，重大{m.major}项"
        )
        r = 6 + min(m.open, 8)
        out.append(
            f'<a href="{escape(link.format(id=m.site_id))}"><g class="site" '
            f'data-site="{escape(m.site_id)}" data-status="{m.status}">'
            f"<title>{escape(tip)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{COLOURS[m.status]}" '
            f'stroke="#fff" stroke-width="1.5"/></g></a>'
        )
    out.extend(labels)
    ly = height - legend_h
    lx = 20.0
    for key, colour, names in STATUSES:
        text = names[1] if en else names[0]
        out.append(
            f'<g class="legend" data-status="{key}"><circle cx="{lx + 7}" cy="{ly}" r="7" '
            f'fill="{colour}"/><text x="{lx + 20}" y="{ly + 5}" font-size="14">{escape(text)}'
            "</text></g>"
        )
        lx += 30 + 15 * len(text) if not en else 30 + 8 * len(text)
    out.append("</svg>")
    return "".join(out)
