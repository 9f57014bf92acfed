"""Imports every table so ``SQLModel.metadata`` is complete for Alembic and tests."""

from server.checklists.models import ChecklistTemplate
from server.hazards.models import Attachment, BlobOwner, Hazard, HazardEvent, HazardPhoto
from server.inspections.models import Inspection
from server.matters.models import HazardMatter, Matter, MatterLink
from server.monitoring.models import Heartbeat
from server.notifications.models import (
    HazardReminder,
    Notification,
    NotificationDelivery,
    NotificationPreference,
)
from server.plans.models import InspectionPlan, InspectionTask
from server.sites.models import District, Site
from server.summaries.models import DailySummary, SummaryAck
from server.sync.models import SyncChange, SyncClock, SyncDevice, SyncOp
from server.tlog.models import Checkpoint, LogHead, LogLeaf, LogNode, WitnessReport
from server.users.models import (
    AuthSession,
    Device,
    LoginAudit,
    UsedProof,
    User,
    UserDistrict,
    UserSite,
)

__all__ = [
    "Attachment",
    "AuthSession",
    "BlobOwner",
    "Checkpoint",
    "ChecklistTemplate",
    "SummaryAck",
    "DailySummary",
    "Device",
    "District",
    "Hazard",
    "HazardEvent",
    "HazardMatter",
    "HazardPhoto",
    "HazardReminder",
    "Heartbeat",
    "Inspection",
    "InspectionPlan",
    "InspectionTask",
    "LogHead",
    "LogLeaf",
    "LogNode",
    "LoginAudit",
    "Matter",
    "MatterLink",
    "Notification",
    "NotificationDelivery",
    "NotificationPreference",
    "Site",
    "SyncChange",
    "SyncClock",
    "SyncDevice",
    "SyncOp",
    "UsedProof",
    "User",
    "UserDistrict",
    "UserSite",
    "WitnessReport",
]
