"""Districts and sites: scoped reads for everyone, writes for admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.auth.scope import descendants
from server.context import Caller
from server.scoping import scope_filter
from server.sites.models import District, Site
from shared.errors import DomainError, not_found


def list_districts(session: Session) -> list[District]:
    return list(session.exec(select(District).order_by(District.id)).all())


@dataclass(frozen=True)
class SiteFilter:
    industry: str | None = None
    site_type: str | None = None
    district_id: str | None = None
    risk_colour: str | None = None
    name: str | None = None


def list_sites(
    session: Session, caller: Caller, f: SiteFilter, *, limit: int, offset: int
) -> tuple[list[Site], int]:
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
    total = session.exec(select(func.count()).select_from(q.subquery())).one()
    rows = session.exec(q.order_by(Site.name, Site.id).offset(offset).limit(limit)).all()
    return list(rows), total


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
            status=422,
            fields={"district_id": "unknown district"},
        )


def _both_or_neither(site: Site) -> None:
    """A point needs both coordinates (a form or a patch may give, or clear, just one)."""
    if (site.lat is None) != (site.lon is None):
        missing = "lon" if site.lon is None else "lat"
        raise DomainError.of(
            "invalid_input",
            "经纬度须同时填写或同时留空",
            "give both latitude and longitude, or neither",
            status=422,
            fields={missing: "give both latitude and longitude, or neither"},
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
            status=409,
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
