"""The FastAPI application: built by a factory so tests can give it a database and a clock."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse
from fastapi_offline import FastAPIOffline
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
OFFLINE_ASSETS = "/static-offline-docs"  # where fastapi-offline mounts its files
# ReDoc's sidebar always shows its maker's logo from the maker's CDN (no option turns it off):
# point that one image at the local favicon before ReDoc sets it
REDOC_LOCAL_LOGO = f"""<script>(function () {{
  var cdn = /^https:[/][/]cdn[.]redoc[.]ly[/]/, local = "{OFFLINE_ASSETS}/favicon.png";
  var setAttr = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (n, v) {{
    return setAttr.call(this, n, n === "src" && cdn.test(v) ? local : v);
  }};
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {{
    get: src.get,
    set: function (v) {{ src.set.call(this, cdn.test(v) ? local : v); }},
  }});
}})();</script>"""
DOCS_PATHS = frozenset({"/docs", "/redoc"})
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


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

    # /docs and /redoc from assets shipped in the fastapi-offline wheel: the stock pages load
    # Swagger UI and ReDoc from a CDN, so they stay blank on a network without the internet
    app = FastAPIOffline(
        title="HazardChain 隐患一条链",
        version="0.1.0",
        description="Hazard inspection and rectification chains (一件事一条链).",
        lifespan=lifespan,
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from swagger.io
        redoc_url=None,  # served below, without the logo ReDoc fetches from its maker's CDN
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.policy = DeadlinePolicy.with_overrides(
        settings.deadline_overrides(),
        spot_check_share=settings.spot_check_share,
        separate_verify_close=settings.separate_verify_close,
        assign_days=settings.officer_assign_days,
    )
    app.state.blobs = BlobStore(settings.blob_dir)
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(monitoring_router)  # /metrics, /readyz
    app.add_middleware(RequestTimer)
    app.state.db_metrics = DatabaseFigures(app.state.engine, app.state.clock.now)
    mount_console(app)  # /console/: server-rendered pages over the same services

    @app.middleware("http")
    async def docs_stay_local(request, call_next):
        """Belt and braces: the docs pages may fetch nothing but the server's own files."""
        response = await call_next(request)
        if request.url.path in DOCS_PATHS:
            response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=app.title + " - ReDoc",
            redoc_js_url=f"{OFFLINE_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{OFFLINE_ASSETS}/favicon.png",
            with_google_fonts=False,
        )
        html = page.body.decode().replace("<body>", f"<body>{REDOC_LOCAL_LOGO}", 1)
        return HTMLResponse(html)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
