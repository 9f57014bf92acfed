"""A small world built by hand through the services (districts, sites, people, hazards), so
every figure a job produces can be counted on one's fingers."""

from __future__ import annotations

import functools
import hashlib
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from server.auth.scope import scope_of
from server.context import Caller
from server.hazards import service as hazards
from server.hazards.models import Attachment, HazardEvent
from server.sites.models import District, Site
from server.uow import unit_of_work
from server.users import service as users
from shared.chain import fold
from shared.clock import FixedClock, to_iso


def local(day: int, hh: int, mm: int = 0) -> datetime:
    """A time in Wuhai (UTC+8) in March 2026, as UTC: the jobs' tests speak local time."""
    return datetime(2026, 3, day, hh, mm, tzinfo=UTC) - timedelta(hours=8)


CITY, HAIBOWAN, WUDA, STREET = "150300", "150302", "150304", "150302001"
PASSWORD = "demo-password"

DISTRICTS = [
    (CITY, "乌海市", "city", None),
    (HAIBOWAN, "海勃湾区", "district", CITY),
    (WUDA, "乌达区", "district", CITY),
    (STREET, "新华街道", "street", HAIBOWAN),
]
# key: (name, industry, district, colour)
SITES = {
    "mall": ("万达广场", "crowded_venue", HAIBOWAN, "orange"),
    "plant": ("氯碱化工", "chemical", HAIBOWAN, "red"),
    "school": ("新华小学", "crowded_venue", STREET, "yellow"),
    "mine": ("五虎山煤矿", "mine", WUDA, "red"),
    "shop": ("乌达超市", "crowded_venue", WUDA, "blue"),
}
# username: (role, districts, sites, email)
PEOPLE = {
    "admin": ("admin", [CITY], [], "admin@example.org"),
    "leader": ("leader", [CITY], [], "leader@example.org"),
    "cityofficer": ("officer", [CITY], [], "city@example.org"),
    "hleader": ("leader", [HAIBOWAN], [], "hleader@example.org"),
    "officer": ("officer", [HAIBOWAN], [], "officer@example.org"),
    "officer2": ("officer", [HAIBOWAN], [], ""),
    "wofficer": ("officer", [WUDA], [], "wofficer@example.org"),
    "inspector": ("inspector", [HAIBOWAN], [], ""),
    "inspector2": ("inspector", [HAIBOWAN], [], ""),
    "winspector": ("inspector", [WUDA], [], ""),
    "enterprise": ("enterprise", [], ["mall"], "boss@mall.example.org"),
}


@dataclass
class World:
    engine: Engine
    clock: FixedClock
    user_ids: dict[str, str] = field(default_factory=dict)
    site_ids: dict[str, str] = field(default_factory=dict)

    def session(self) -> AbstractContextManager[Session]:
        """A unit of work: the test is the edge that commits what the services flushed."""
        return unit_of_work(self.engine)

    def caller(self, session: Session, username: str) -> Caller:
        from server.users.models import User

        user = session.get(User, self.user_ids[username])
        return Caller(user, scope_of(session, user))

    def report(
        self, who: str, site: str, title: str, severity: str = "general", **extra: Any
    ) -> str:
        with self.session() as s:
            payload = {"site_id": self.site_ids[site], "title": title, "severity": severity}
            done = hazards.report(
                s, self.caller(s, who), payload=payload | extra, now=self.clock.now()
            )
            return done.view.hazard_id

    def event(self, who: str, hazard_id: str, etype: str, **payload: Any):
        with self.session() as s:
            return hazards.append_by_caller(
                s,
                self.caller(s, who),
                hazard_id=hazard_id,
                event_type=etype,
                payload=payload,
                now=self.clock.now(),
            ).view

    def assign(self, hazard_id: str, days: float, who: str = "officer", **extra: Any):
        deadline = to_iso(self.clock.now() + timedelta(days=days))
        return self.event(
            who,
            hazard_id,
            "assigned",
            responsible_unit="责任单位",
            responsible_person="责任人",
            deadline=deadline,
            **extra,
        )

    def evidence(self, seed: str, owner: str) -> str:
        """A photo ``owner`` uploaded (a hash alone grants nothing: docs/sync.md)."""
        from server.blobs.service import add_owner

        sha = hashlib.sha256(seed.encode()).hexdigest()
        with self.session() as s:
            if s.get(Attachment, sha) is None:
                s.add(
                    Attachment(
                        sha256=sha, mime="image/png", size=1, received=1, complete=True,
                        created_at=self.clock.now(),
                    )
                )  # fmt: skip
            add_owner(s, sha, self.user_ids[owner], self.clock.now())
            s.commit()
        return sha

    def close(self, hazard_id: str, rectifier: str = "officer2", verifier: str = "officer"):
        """Rectify (with a complete 五落实 plan for majors), verify and close, all at now; a
        major hazard is closed by another officer than its verifier (职责分离)."""
        with self.session() as s:
            view = fold(hazards.load_events(s, hazard_id))
        if view.severity == "major" and view.plan_missing:
            self.event(
                rectifier, hazard_id, "plan_submitted", responsibility="r", measures="m",
                funds="f", deadline="d", contingency="c",
            )  # fmt: skip
        self.event(
            rectifier,
            hazard_id,
            "rectification_submitted",
            description="已整改",
            evidence=[self.evidence(hazard_id, rectifier)],
        )
        self.event(verifier, hazard_id, "verified")
        closer = "cityofficer" if view.severity == "major" else verifier
        return self.event(closer, hazard_id, "closed")

    def events(self, hazard_id: str | None = None, etype: str | None = None) -> list[HazardEvent]:
        with self.session() as s:
            q = select(HazardEvent).order_by(HazardEvent.hazard_id, HazardEvent.seq)
            if hazard_id:
                q = q.where(HazardEvent.hazard_id == hazard_id)
            if etype:
                q = q.where(HazardEvent.type == etype)
            return list(s.exec(q).all())

    def count(self, model, *where) -> int:
        with self.session() as s:
            return s.exec(select(func.count()).select_from(model).where(*where)).one()


@functools.cache
def _password_hash() -> str:
    from server.auth.security import hash_password

    return hash_password(PASSWORD)


def build_world(engine: Engine, clock: FixedClock) -> World:
    """Argon2 is slow by design: every person shares one real hash of PASSWORD (logins work)."""
    world = World(engine, clock)
    real_hash, users.hash_password = users.hash_password, lambda _p: _password_hash()
    try:
        _fill(world, clock)
    finally:
        users.hash_password = real_hash
    return world


def _fill(world: World, clock: FixedClock) -> None:
    start = clock.now() - timedelta(days=400)
    with world.session() as s:
        for code, name, level, parent in DISTRICTS:
            s.add(District(id=code, name=name, level=level, parent_id=parent))
        s.commit()
        for key, (name, industry, district, colour) in SITES.items():
            site = Site(
                id=hashlib.md5(key.encode()).hexdigest()[:8] + "-0000-4000-8000-000000000000",
                name=name, industry=industry, site_type="mall", district_id=district,
                risk_colour=colour, created_at=start,
            )  # fmt: skip
            s.add(site)
            world.site_ids[key] = site.id
        s.commit()
        for username, (role, districts, sites, email) in PEOPLE.items():
            user = users.create_user(
                s,
                {
                    "username": username,
                    "display_name": username,
                    "role": role,
                    "password": PASSWORD,
                    "email": email,
                    "district_ids": districts,
                    "site_ids": [world.site_ids[x] for x in sites],
                },
                start,
            )
            world.user_ids[username] = user.id
