"""A user's own notifications (the console and devices pull them) and delivery preferences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import CallerDep, NowDep, SessionDep, UnitOfWorkRoute
from server.notifications import service
from server.notifications.schemas import (
    NotificationPage,
    NotificationPublic,
    PreferenceIn,
    PreferencePublic,
)
from server.schemas import MAX_OFFSET, Cursor

router = APIRouter(tags=["notifications"], route_class=UnitOfWorkRoute)


@router.get("/notifications", response_model=NotificationPage)
def list_notifications(
    caller: CallerDep,
    session: SessionDep,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, deprecated=True, description="use cursor")
    ] = 0,
) -> NotificationPage:
    page = service.list_for(
        session, caller.user.id, unread_only=unread, limit=limit, offset=offset, cursor=cursor
    )
    return NotificationPage(
        items=[NotificationPublic.model_validate(n, from_attributes=True) for n in page.items],
        next_cursor=page.next_cursor,
        total=page.total,
        unread=page.unread,
    )


@router.post("/notifications/read-all")
def read_all(caller: CallerDep, session: SessionDep, now: NowDep) -> dict[str, int]:
    return {"marked": service.mark_all_read(session, caller.user.id, now)}


@router.post("/notifications/{notification_id}/read", response_model=NotificationPublic)
def read_one(
    notification_id: str, caller: CallerDep, session: SessionDep, now: NowDep
) -> NotificationPublic:
    n = service.mark_read(session, caller.user.id, notification_id, now)
    return NotificationPublic.model_validate(n, from_attributes=True)


@router.get("/notifications/preferences", response_model=PreferencePublic)
def get_preferences(caller: CallerDep, session: SessionDep) -> PreferencePublic:
    pref = service.preference_of(session, caller.user.id)
    return PreferencePublic.model_validate(pref, from_attributes=True)


@router.put("/notifications/preferences", response_model=PreferencePublic)
def put_preferences(
    body: PreferenceIn, caller: CallerDep, session: SessionDep, now: NowDep
) -> PreferencePublic:
    changes = body.model_dump(exclude_unset=True)
    if "webhook_url" in changes and changes["webhook_url"] is not None:
        changes["webhook_url"] = str(changes["webhook_url"])
    changes = {k: v for k, v in changes.items() if v is not None or k == "webhook_url"}
    pref = service.set_preference(session, caller.user.id, changes, now)
    return PreferencePublic.model_validate(pref, from_attributes=True)
