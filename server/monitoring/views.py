"""/metrics and /readyz, outside the API's auth: the first for an allow-listed scraper or a
token holder, the second for load balancers (it says nothing private)."""

from __future__ import annotations

import hmac
import ipaddress
import os
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from server.monitoring.metrics import REGISTRY
from server.monitoring.readiness import readiness
from shared.errors import DomainError

router = APIRouter(tags=["ops"])


@router.get("/readyz", responses={503: {"description": "a check failed; each is named"}})
def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    checks = readiness(
        state.engine,
        state.settings.blob_dir,
        state.clock.now(),
        timedelta(seconds=state.settings.heartbeat_stale_seconds),
    )
    ok = all(c.ok for c in checks)
    body = {
        "status": "ready" if ok else "not_ready",
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", response_class=Response, responses={403: {"description": "not allowed"}})
def metrics(request: Request) -> Response:
    _allow(request)
    figures = CollectorRegistry(auto_describe=True)
    figures.register(request.app.state.db_metrics)  # this app's database, read now
    counted = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # serve --workers: every process's counts
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    body = generate_latest(counted) + generate_latest(figures)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _allow(request: Request) -> None:
    """A scraper on the allow list, or one presenting the metrics token."""
    settings = request.app.state.settings
    token = settings.metrics_token
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if token and given and hmac.compare_digest(given.encode(), token.encode()):
        return
    host = request.client.host if request.client else ""
    if _in(host, settings.metrics_allow):
        return
    raise DomainError.of(
        "forbidden",
        "无权读取监控指标（地址不在允许列表中，且未提供令牌）",
        "metrics are for allow-listed addresses or the metrics token",
    )


def _in(host: str, allow: str) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    for item in filter(None, (x.strip() for x in allow.split(","))):
        try:
            if addr in ipaddress.ip_network(item, strict=False):
                return True
        except ValueError:
            continue
    return False
