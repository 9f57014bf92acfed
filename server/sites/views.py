"""Districts and sites."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from server.api.deps import AdminDep, CallerDep, NowDep, SessionDep, UnitOfWorkRoute
from server.schemas import Offset, ShortText
from server.sites import service
from server.sites.schemas import DistrictPublic, SiteCreate, SitePage, SitePublic, SiteUpdate
from shared.taxonomy import Industry, RiskColour, SiteType

router = APIRouter(tags=["sites"], route_class=UnitOfWorkRoute)


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
    sort: Annotated[
        str | None,
        Query(max_length=40, description="name (default), created_at, district_id; - descending"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
    offset: Annotated[Offset, Query(deprecated=True, description="use cursor")] = 0,
) -> SitePage:
    f = service.SiteFilter(industry, site_type, district, risk, name)
    rows, nxt, total = service.sites_page(
        session, caller, f, sort=sort, limit=limit, cursor=cursor, offset=offset
    )
    return SitePage(items=[_site(s) for s in rows], next_cursor=nxt, total=total)


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
