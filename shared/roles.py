"""Roles and the words for them; one list used by the server's auth and the app's menus."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    inspector = "inspector"
    enterprise = "enterprise"
    officer = "officer"
    leader = "leader"
    admin = "admin"
    system = "system"  # scheduled jobs; never a login


ROLE_NAMES: dict[Role, tuple[str, str]] = {
    Role.inspector: ("检查员", "Inspector"),
    Role.enterprise: ("企业用户", "Enterprise"),
    Role.officer: ("安全监管员", "Safety officer"),
    Role.leader: ("领导", "Leader"),
    Role.admin: ("管理员", "Administrator"),
    Role.system: ("系统", "System"),
}

LOGIN_ROLES = tuple(r for r in Role if r is not Role.system)
