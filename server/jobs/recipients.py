"""Who supervises a hazard at each escalation level, and who is told about it.

Level 1 (district) is the 区/旗 the hazard lies in, level 2 (city) the 市 above it: found by
walking the district's parent chain to the first district of that level. Its supervisors are
the active officers and leaders assigned to that district itself (users assigned higher up are
the next level's people and hear about it when it reaches them).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from server.sites.models import District
from server.users.models import User, UserDistrict
from shared.roles import Role
from shared.supervision import DISTRICT, LEVELS, level_of

LEVEL_WORDS = {n: (lv.zh, lv.en) for n, lv in LEVELS.items()}  # named in shared.supervision


class DistrictTree:
    """The district table in memory (a city has tens of districts): one load per job run."""

    def __init__(self, session: Session) -> None:
        self.by_id = {d.id: d for d in session.exec(select(District)).all()}

    def chain(self, district_id: str) -> list[District]:
        """The district and its ancestors, nearest first."""
        out: list[District] = []
        seen: set[str] = set()
        d = self.by_id.get(district_id)
        while d is not None and d.id not in seen:
            out.append(d)
            seen.add(d.id)
            d = self.by_id.get(d.parent_id) if d.parent_id else None
        return out

    def supervising(self, district_id: str, level: int) -> str:
        """The district that supervises at this escalation level (the root if none matches)."""
        chain = self.chain(district_id)
        if not chain:
            return district_id
        wanted = level_of(max(level, DISTRICT)).key
        for d in chain:
            if d.level == wanted:
                return d.id
        return chain[0].id if level <= 1 else chain[-1].id

    def name(self, district_id: str) -> str:
        d = self.by_id.get(district_id)
        return d.name if d else district_id


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
