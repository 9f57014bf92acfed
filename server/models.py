"""Imports every table so ``SQLModel.metadata`` is complete for Alembic and tests."""

from server.hazards.models import Attachment, Hazard, HazardEvent, HazardPhoto
from server.matters.models import HazardMatter, Matter, MatterLink
from server.notifications.models import Notification
from server.sites.models import District, Site
from server.users.models import AuthSession, Device, LoginAudit, User, UserDistrict, UserSite

__all__ = [
    "Attachment",
    "AuthSession",
    "Device",
    "District",
    "Hazard",
    "HazardEvent",
    "HazardMatter",
    "HazardPhoto",
    "LoginAudit",
    "Matter",
    "MatterLink",
    "Notification",
    "Site",
    "User",
    "UserDistrict",
    "UserSite",
]
