"""What a user may see: all (admin), a set of districts with their sub-districts, or the
sites an enterprise user is bound to. Every query filters through one of these."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from server.sites.tree import DistrictTree
from server.users.models import User, UserDistrict, UserSite
from shared.roles import Role


@dataclass(frozen=True)
class Scope:
    everything: bool
    district_ids: frozenset[str]
    site_ids: frozenset[str]

    def covers(self, *, district_id: str | None, site_id: str | None) -> bool:
        if self.everything:
            return True
        if self.site_ids and site_id in self.site_ids:
            return True
        return district_id is not None and district_id in self.district_ids


def descendants(session: Session, roots: set[str]) -> set[str]:
    """Districts below the given ones, inclusive."""
    return DistrictTree(session).below(roots)


def scope_of(session: Session, user: User) -> Scope:
    if user.role == Role.admin:
        return Scope(True, frozenset(), frozenset())
    if user.role == Role.enterprise:
        sites = session.exec(select(UserSite.site_id).where(UserSite.user_id == user.id)).all()
        return Scope(False, frozenset(), frozenset(sites))
    roots = set(
        session.exec(select(UserDistrict.district_id).where(UserDistrict.user_id == user.id)).all()
    )
    return Scope(False, frozenset(descendants(session, roots)), frozenset())
