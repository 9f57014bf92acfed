"""Districts and sites."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from server.api.deps import AdminDep, CallerDep, NowDep, SessionDep, UnitOfWorkRoute
from server.schemas import Name, Offset, Patch, ShortText, Text, UUIDStr
from server.sites import service
from shared.geo import Datum
from shared.taxonomy import Industry, RiskColour, SiteType

Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="latitude")]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="longitude")]

router = APIRouter(tags=["sites"], route_class=UnitOfWorkRoute)


class DistrictPublic(BaseModel):
    id: str
    name: str
    name_en: str
    level: str
    parent_id: str | None


class SitePublic(BaseModel):
    id: str
    name: str
    industry: str
    site_type: str
    district_id: str
    risk_colour: str
    address: str
    contact_name: str
    contact_phone: str
    active: bool
    lat: float | None = None
    lon: float | None = None
    datum: str = Field("wgs84", description="datum of lat/lon: wgs84 (GPS) or gcj02 (高德)")
    created_at: datetime


class SitePage(BaseModel):
    items: list[SitePublic]
    total: int


class SiteCreate(BaseModel):
    id: UUIDStr | None = None
    name: Name
    industry: Industry
    site_type: SiteType
    district_id: Text(32, 1)
    risk_colour: RiskColour
    address: Text(300) = ""
    contact_name: Text(100) = ""
    contact_phone: Text(40) = ""
    lat: Lat | None = None
    lon: Lon | None = None
    datum: Datum = Datum.wgs84


class SiteUpdate(Patch):
    nullable: ClassVar[frozenset[str]] = frozenset({"lat", "lon"})  # null clears them
    name: Name | None = None
    industry: Industry | None = None
    site_type: SiteType | None = None
    district_id: Text(32, 1) | None = None
    risk_colour: RiskColour | None = None
    address: Text(300) | None = None
    contact_name: Text(100) | None = None
    contact_phone: Text(40) | None = None
    active: bool | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    datum: Datum | None = None


def _site(site) -> SitePublic:
    return SitePublic.model_validate(site, from_attributes=True)


@router.get("/districts", response_model=list[DistrictPublic])
def districts(_: CallerDep, session: SessionDep) -> list[DistrictPublic]:
    return [
        DistrictPublic.model_validate(d, from_attributes=True)
        for d in service.list_districts(session)
    ]


@router.get("/sites", response_model=SitePage)
def sites(
    caller: CallerDep,
    session: SessionDep,
    industry: Industry | None = None,
    site_type: SiteType | None = None,
    district: Annotated[str | None, Query(max_length=32)] = None,
    risk: RiskColour | None = None,
    name: Annotated[ShortText | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> SitePage:
    f = service.SiteFilter(industry, site_type, district, risk, name)
    rows, total = service.list_sites(session, caller, f, limit=limit, offset=offset)
    return SitePage(items=[_site(s) for s in rows], total=total)


@router.get("/sites/{site_id}", response_model=SitePublic)
def site(
    site_id: Annotated[str, Field(max_length=36)], caller: CallerDep, session: SessionDep
) -> SitePublic:
    return _site(service.get_site(session, caller, site_id))


@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(body: SiteCreate, _: AdminDep, session: SessionDep, now: NowDep) -> SitePublic:
    return _site(service.create_site(session, body.model_dump(), now))


@router.patch("/sites/{site_id}", response_model=SitePublic)
def update_site(site_id: str, body: SiteUpdate, _: AdminDep, session: SessionDep) -> SitePublic:
    return _site(service.update_site(session, site_id, body.model_dump(exclude_unset=True)))
