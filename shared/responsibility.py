"""Whose hazard an enterprise user may work on: the one rule the server enforces and the tablet
checks before queueing, so an enterprise's tablet never accepts offline what the server will
refuse (a rectification of a hazard handed to another company's user)."""

from __future__ import annotations

from shared.chain import EventType
from shared.errors import Refusal
from shared.roles import Role

# an enterprise may add these to any hazard in its scope, whoever the hazard is assigned to
OPEN_TO_ANY_ENTERPRISE_USER = frozenset({EventType.reported, EventType.note, EventType.photo_added})


def not_responsible(
    role: str, user_id: str, event_type: str, responsible_user_id: str | None
) -> Refusal | None:
    """The refusal when an enterprise user acts on a hazard assigned to someone else."""
    if (
        role == Role.enterprise
        and event_type not in OPEN_TO_ANY_ENTERPRISE_USER
        and responsible_user_id not in (None, user_id)
    ):
        return Refusal("not_responsible", "该隐患未交办给您", "this hazard is not assigned to you")
    return None
