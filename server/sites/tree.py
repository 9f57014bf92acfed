"""The district tree (市 → 区/旗 → 街道) in memory: a city has tens of districts, so one load
serves a request or a job run. The one place that walks it: up (a district's chain, who
supervises it) and down (a scope's districts)."""

from __future__ import annotations

from sqlmodel import Session, select

from server.sites.models import District
from shared.supervision import DISTRICT, level_of


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

    def below(self, roots: set[str]) -> set[str]:
        """The districts under the given ones, inclusive (a user's scope)."""
        children: dict[str | None, list[str]] = {}
        for d in self.by_id.values():
            children.setdefault(d.parent_id, []).append(d.id)
        out, todo = set(), list(roots)
        while todo:
            d = todo.pop()
            if d not in out:
                out.add(d)
                todo.extend(children.get(d, []))
        return out

    def name(self, district_id: str) -> str:
        d = self.by_id.get(district_id)
        return d.name if d else district_id
