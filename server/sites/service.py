"""Districts and sites: scoped reads for everyone, writes for admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server import paging
from server.auth.scope import descendants
from server.context import Caller
from server.scoping import scope_filter
from server.sites.models import District, Site
from shared.errors import DomainError, not_found
from shared.geo import coordinate_problems


def list_districts(session: Session) -> list[District]:
    return list(session.exec(select(District).order_by(District.id)).all())


@dataclass(frozen=True)
class SiteFilter:
    industry: str | None = None
    site_type: str | None = None
    district_id: str | None = None
    risk_colour: str | None = None
    name: str | None = None


def _site_query(session: Session, caller: Caller, f: SiteFilter) -> Any:
    q = select(Site).where(scope_filter(caller.scope, Site.district_id, Site.id))
    if f.industry:
        q = q.where(Site.industry == f.industry)
    if f.site_type:
        q = q.where(Site.site_type == f.site_type)
    if f.district_id:
        q = q.where(col(Site.district_id).in_(descendants(session, {f.district_id})))
    if f.risk_colour:
        q = q.where(Site.risk_colour == f.risk_colour)
    if f.name:
        q = q.where(col(Site.name).contains(f.name))
    return q


def list_sites(
    session: Session, caller: Caller, f: SiteFilter, *, limit: int, offset: int
) -> tuple[list[Site], int]:
    q = _site_query(session, caller, f)
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(Site.name, Site.id).offset(offset).limit(limit)).all()
    return list(rows), total


SITE_SORTS = {"name": Site.name, "created_at": Site.created_at, "district_id": Site.district_id}


def sites_page(
    session: Session,
    caller: Caller,
    f: SiteFilter,
    *,
    sort: str | None = None,
    limit: int,
    cursor: str | None = None,
    offset: int = 0,
) -> tuple[list[Site], str | None, int]:
    """The sites in scope a page at a time (``server.paging``), by name unless ``sort`` says."""
    order = paging.parse_sort(sort, SITE_SORTS, "name")
    q = _site_query(session, caller, f)
    return paging.page(session, q, order, Site.id, limit=limit, cursor=cursor, offset=offset)


def place_names(
    session: Session, site_ids: set[str], district_ids: set[str], lang: str = "zh"
) -> tuple[dict[str, str], dict[str, str]]:
    """The names a list shows beside its items' ids (one query each, however long the page):
    site id → name, district id → name (English where the caller reads English and it has
    one)."""
    sites_ = {}
    if site_ids:
        q = select(Site.id, Site.name).where(col(Site.id).in_(site_ids))
        sites_ = {i: name for i, name in session.exec(q).all()}
    districts = {}
    if district_ids:
        rows = session.exec(
            select(District.id, District.name, District.name_en).where(
                col(District.id).in_(district_ids)
            )
        ).all()
        districts = {i: (en if lang == "en" and en else zh) for i, zh, en in rows}
    return sites_, districts


def name_items(session: Session, items: list[Any], lang: str = "zh") -> None:
    """Fill each list item's ``site_name`` and ``district_name`` from its ids, so a client
    shows names without a request per row."""
    site_names, district_names = place_names(
        session, {i.site_id for i in items}, {i.district_id for i in items}, lang
    )
    for i in items:
        i.site_name = site_names.get(i.site_id, "")
        i.district_name = district_names.get(i.district_id, "")


def get_site(session: Session, caller: Caller, site_id: str) -> Site:
    site = session.get(Site, site_id)
    if site is None or not caller.scope.covers(district_id=site.district_id, site_id=site.id):
        raise not_found("场所", "site")
    return site


def _district_exists(session: Session, district_id: str) -> None:
    if session.get(District, district_id) is None:
        raise DomainError.of(
            "invalid_input",
            "辖区不存在",
            "unknown district",
            fields={"district_id": "unknown district"},
        )


def _both_or_neither(site: Site) -> None:
    """A point needs both coordinates (a form or a patch may give, or clear, just one)."""
    problems = coordinate_problems(site.lat, site.lon, "en")
    if problems:
        raise DomainError.of(
            "invalid_input",
            "经纬度须同时填写或同时留空",
            "give both latitude and longitude, or neither",
            fields=problems,
        )


def create_site(session: Session, data: dict[str, Any], now: datetime) -> Site:
    _district_exists(session, data["district_id"])
    site = Site(id=data.pop("id", None) or str(uuid.uuid4()), created_at=now, **data)
    _both_or_neither(site)
    if session.get(Site, site.id) is not None:
        raise DomainError.of(
            "already_exists",
            "场所编号已存在",
            "site id exists",
            fields={"id": "already exists"},
        )
    session.add(site)
    session.flush()
    return site


def update_site(session: Session, site_id: str, changes: dict[str, Any]) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise not_found("场所", "site")
    if "district_id" in changes:
        _district_exists(session, changes["district_id"])
    for key, value in changes.items():
        setattr(site, key, value)
    _both_or_neither(site)
    session.add(site)
    session.flush()
    return site
