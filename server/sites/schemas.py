"""The sites API's request and response shapes, apart from its routes: the console,
services and other areas use them without importing a router."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field

from server.schemas import Name, Patch, Text, UUIDStr
from shared.geo import Datum
from shared.taxonomy import Industry, RiskColour, SiteType

Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, description="latitude")]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, description="longitude")]


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
    next_cursor: str | None = None
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
