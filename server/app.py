"""The FastAPI application: built by a factory so tests can give it a database and a clock."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from server.api.errors import install_error_handlers
from server.api.router import api_router
from server.blobs.store import BlobStore
from server.console.web import mount_console
from server.db import make_engine
from server.logs import setup_logging
from server.monitoring.metrics import DatabaseFigures, RequestTimer
from server.monitoring.views import router as monitoring_router
from server.settings import Settings, get_settings
from shared.clock import Clock, SystemClock
from shared.deadlines import DeadlinePolicy

log = logging.getLogger("hazardchain.app")


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, engine: Engine | None = None
) -> FastAPI:
    settings = settings or get_settings()
    setup_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        scheduler = None
        if settings.scheduler_enabled:
            from server.scheduler import start_scheduler

            scheduler = start_scheduler(app.state.engine, settings, app.state.clock)
        log.info(
            "server started",
            extra={"scheduler": bool(scheduler), "db": app.state.engine.dialect.name},
        )
        yield
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        log.info("server stopped")

    app = FastAPI(
        title="HazardChain 隐患一条链",
        version="0.1.0",
        description="Hazard inspection and rectification chains (一件事一条链).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.policy = DeadlinePolicy.with_overrides(settings.deadline_overrides())
    app.state.blobs = BlobStore(settings.blob_dir)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(monitoring_router)  # /metrics, /readyz
    app.add_middleware(RequestTimer)
    app.state.db_metrics = DatabaseFigures(app.state.engine, app.state.clock.now)
    mount_console(app)  # /console/: server-rendered pages over the same services

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
