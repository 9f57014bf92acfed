"""Prometheus metrics. Counters are counted where the work happens (the edge: a view, the job
runner); the hazard and device figures are read from the database at scrape time, so every
replica reports the same truth and nothing drifts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import and_, func, select
from sqlalchemy.engine import Engine
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.hazards.models import Hazard
from server.hazards.overdue import overdue_clause
from server.logs import new_request_id, request_id
from server.sync.models import SyncDevice, SyncOp
from shared.sync_wire import PushResponse

REGISTRY = CollectorRegistry(auto_describe=True)
OPEN_STATES = ("reported", "assigned", "rectifying", "in_review", "verified")

REQUEST_SECONDS = Histogram(
    "hazardchain_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SYNC_OPS = Counter(
    "hazardchain_sync_ops_total", "Pushed ops by result", ["result"], registry=REGISTRY
)
PULL_CHANGES = Counter(
    "hazardchain_sync_pull_changes_total", "Changes served to devices", registry=REGISTRY
)
BLOB_BYTES = Counter(
    "hazardchain_blob_bytes_received_total", "Photo bytes received", registry=REGISTRY
)
JOB_RUNS = Counter(
    "hazardchain_job_runs_total", "Job runs by outcome", ["job", "outcome"], registry=REGISTRY
)
JOB_SECONDS = Histogram(
    "hazardchain_job_duration_seconds",
    "Job run time",
    ["job"],
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800),
)


def count_ops(resp: PushResponse) -> None:
    for result in resp.results:
        SYNC_OPS.labels(result.status.value).inc()


class Timed:
    """Time a job run and count its outcome: ``ran``, ``skipped`` (lock elsewhere), ``failed``."""

    def __init__(self, job: str) -> None:
        self.job, self.outcome = job, "ran"

    def __enter__(self) -> Timed:
        self.start = time.perf_counter()
        return self

    def __exit__(self, exc_type, *_: object) -> None:
        outcome = "failed" if exc_type is not None else self.outcome
        JOB_RUNS.labels(self.job, outcome).inc()
        if outcome != "skipped":
            JOB_SECONDS.labels(self.job).observe(time.perf_counter() - self.start)


class DatabaseFigures(Collector):
    """Open, overdue and major hazards, and each device's time since its last accepted op."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine, self.now = engine, now

    def collect(self) -> Iterable[GaugeMetricFamily]:
        now = self.now()
        h = Hazard.__table__.c
        open_ = h.state.in_(OPEN_STATES)
        overdue = overdue_clause(now)
        hazards = GaugeMetricFamily(
            "hazardchain_hazards", "Hazards now, by kind", labels=["kind", "severity"]
        )
        lag = GaugeMetricFamily(
            "hazardchain_device_push_lag_seconds",
            "Seconds since each device's last op the server accepted",
            labels=["device"],
        )
        with self.engine.connect() as conn:
            for kind, cond in (("open", open_), ("overdue", overdue)):
                rows = conn.execute(
                    select(h.severity, func.count()).where(cond).group_by(h.severity)
                ).all()
                for severity in ("general", "major"):
                    found = dict(rows).get(severity, 0)
                    hazards.add_metric([kind, severity], float(found))
            d, o = SyncDevice.__table__.c, SyncOp.__table__.c
            rows = conn.execute(
                select(d.device_id, o.received_at).join(
                    SyncOp.__table__, and_(o.device_id == d.device_id, o.device_seq == d.last_seq)
                )
            ).all()
        for device_id, received_at in rows:
            lag.add_metric([device_id], max(0.0, (now - received_at).total_seconds()))
        yield hazards
        yield lag


class RequestTimer:
    """Pure ASGI middleware (no BaseHTTPMiddleware: it would buffer streamed uploads): times
    each request under its route's template (so ids do not explode the series) and gives it
    an id that every log line of the request carries and the answer names (X-Request-ID)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), [500]
        given = Headers(scope=scope).get("x-request-id")
        rid = new_request_id(given)
        token = request_id.set(rid)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", rid)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            request_id.reset(token)
            REQUEST_SECONDS.labels(
                Request(scope).method, route_label(scope), f"{status[0] // 100}xx"
            ).observe(time.perf_counter() - start)


def route_label(scope: Scope) -> str:
    """The path with each path parameter put back as ``{name}``; a path no route matched
    (a 404, a static file) gets one label per top-level folder."""
    path = scope.get("path", "/")
    if scope.get("route") is None:
        head = path.split("/")[1] if path.count("/") >= 1 else ""
        return f"/{head}/…" if head else "/"
    values = {str(v): k for k, v in (scope.get("path_params") or {}).items()}
    return "/".join(f"{{{values[p]}}}" if p in values else p for p in path.split("/"))
