"""Wires every domain's router under /api/v1; no logic here."""

from fastapi import APIRouter

from server.auth.views import router as auth_router
from server.blobs.views import router as blobs_router
from server.hazards.views import router as hazards_router
from server.matters.views import router as matters_router
from server.sites.views import router as sites_router
from server.users.views import router as users_router

api_router = APIRouter(prefix="/api/v1")
for r in (auth_router, users_router, sites_router, hazards_router, matters_router, blobs_router):
    api_router.include_router(r)
