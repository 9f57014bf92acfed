"""Mounts the console on the app: its routers, its static files, an HTML 404 for any other
path under ``/console/``, and ``/`` sending a browser to the console."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from server.console import admin, leader, tasks, views, where
from server.console.pages import STATIC_DIR, ConsoleRoute, page_for_exception
from shared.errors import not_found

_fallback = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)


@_fallback.get("/{path:path}")
def unknown_page(request: Request, path: str) -> Response:
    return page_for_exception(request, not_found("页面", "page"))


def mount_console(app: FastAPI) -> None:
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    for router in (
        views.router,
        leader.router,
        admin.router,
        tasks.router,
        where.router,
        _fallback,
    ):
        app.include_router(router)

    @app.get("/console", include_in_schema=False)
    def console_root() -> Response:
        return RedirectResponse("/console/", status_code=307)

    @app.get("/", include_in_schema=False)
    def front_door() -> Response:
        """A newcomer opening the bare address lands on the console (its login when signed out),
        not on a JSON 404."""
        return RedirectResponse("/console/", status_code=307)
