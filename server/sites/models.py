"""Districts (市 → 区/旗 → 街道) and the sites inspected in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from server.db import UTCDateTime


class District(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)  # administrative code, e.g. 150302
    name: str = Field(max_length=100)
    name_en: str = Field(default="", max_length=100)
    level: str = Field(max_length=16)  # city | district | street
    parent_id: str | None = Field(default=None, foreign_key="district.id", index=True)


class Site(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200, index=True)
    industry: str = Field(max_length=32, index=True)
    site_type: str = Field(max_length=32)
    district_id: str = Field(foreign_key="district.id", index=True)
    risk_colour: str = Field(max_length=8, index=True)
    address: str = Field(default="", max_length=300)
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=40)
    active: bool = True
    # where it is (shared.geo): optional, in the datum it was copied in (GPS = wgs84, 高德 = gcj02)
    lat: float | None = None
    lon: float | None = None
    datum: str = Field(default="wgs84", max_length=8)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
