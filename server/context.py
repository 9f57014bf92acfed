"""Who is calling and when: what every service call needs besides its session."""

from __future__ import annotations

from dataclasses import dataclass

from server.auth.scope import Scope
from server.users.models import User
from shared.chain import Actor
from shared.roles import Role


@dataclass(frozen=True)
class Caller:
    user: User
    scope: Scope
    session_id: str | None = None

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.role, self.user.display_name)


SYSTEM_ACTOR = Actor("system", Role.system, "系统")
