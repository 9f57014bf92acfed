"""Who supervises a hazard at each escalation level, and who is told about it.

Level 1 (district) is the 区/旗 the hazard lies in, level 2 (city) the 市 above it: found by
walking the district's parent chain to the first district of that level. Its supervisors are
the active officers and leaders assigned to that district itself (users assigned higher up are
the next level's people and hear about it when it reaches them).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from server.sites.tree import DistrictTree
from server.users.models import User, UserDistrict
from shared.roles import Role
from shared.supervision import LEVELS

LEVEL_WORDS = {n: (lv.zh, lv.en) for n, lv in LEVELS.items()}  # named in shared.supervision


def assigned_users(
    session: Session, district_ids: Iterable[str], roles: Iterable[Role]
) -> list[str]:
    """Active users with one of ``roles`` assigned directly to one of the districts."""
    ids = list(dict.fromkeys(district_ids))
    if not ids:
        return []
    rows = session.exec(
        select(User.id)
        .join(UserDistrict, col(UserDistrict.user_id) == col(User.id))
        .where(col(UserDistrict.district_id).in_(ids))
        .where(col(User.role).in_([r.value for r in roles]))
        .where(User.active.is_(True))
        .order_by(User.id)
    ).all()
    return list(dict.fromkeys(rows))


def supervisors(
    session: Session,
    tree: DistrictTree,
    district_id: str,
    level: int,
    roles: Iterable[Role] = (Role.officer, Role.leader),
) -> list[str]:
    return assigned_users(session, [tree.supervising(district_id, level)], roles)


def active_user(session: Session, user_id: str | None) -> str | None:
    if not user_id:
        return None
    user = session.get(User, user_id)
    return user.id if user is not None and user.active else None
