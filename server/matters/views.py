"""一件事: matters and their links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.api.deps import CallerDep, NowDep, SessionDep, UnitOfWorkRoute
from server.matters import service

router = APIRouter(tags=["matters"], route_class=UnitOfWorkRoute)


@router.get("/matters")
def matters(caller: CallerDep, session: SessionDep, now: NowDep) -> list[dict[str, Any]]:
    return service.list_matters(session, caller, now)


@router.get("/matters/{matter_id}")
def matter(matter_id: str, caller: CallerDep, session: SessionDep, now: NowDep) -> dict[str, Any]:
    return service.matter_detail(session, caller, matter_id, now)
