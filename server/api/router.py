"""Wires every domain's router under /api/v1; no logic here."""

from fastapi import APIRouter

from server.api.errors import COMMON_ERRORS
from server.auth.views import router as auth_router
from server.blobs.views import router as blobs_router
from server.checklists.views import router as checklists_router
from server.hazards.views import router as hazards_router
from server.imports.views import router as imports_router
from server.inspections.views import router as inspections_router
from server.matters.views import router as matters_router
from server.notifications.views import router as notifications_router
from server.plans.views import router as plans_router
from server.sites.views import router as sites_router
from server.summaries.views import router as summaries_router
from server.sync.views import router as sync_router
from server.tlog.views import router as log_router
from server.users.views import router as users_router

api_router = APIRouter(prefix="/api/v1", responses=COMMON_ERRORS)
for r in (auth_router, users_router, sites_router, hazards_router, matters_router, blobs_router):
    api_router.include_router(r)
for r in (checklists_router, inspections_router):
    api_router.include_router(r)
for r in (notifications_router, summaries_router, plans_router):
    api_router.include_router(r)
api_router.include_router(sync_router)
api_router.include_router(log_router)
api_router.include_router(imports_router)
