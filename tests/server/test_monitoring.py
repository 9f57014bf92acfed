"""/readyz names each failing check; /metrics counts requests, sync, photos and jobs, reads the
hazard figures from the database, and is only for allow-listed scrapers or the token."""

from __future__ import annotations

import json
import logging
import re
import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select

from server.app import create_app
from server.demo import demo_png, did
from server.hazards.models import Hazard
from server.monitoring.readiness import beat
from server.scheduler import run_job
from server.testing import LiveServer

MALL = did("site", "万达广场乌海店")


def _serve(settings, clock, engine, **overrides) -> LiveServer:
    return LiveServer(
        create_app(settings.model_copy(update=overrides), clock=clock, engine=engine)
    ).start()


def _metric(body: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels`` (0 when none)."""
    total = 0.0
    for line in body.splitlines():
        if line.startswith("#") or not (line.startswith(name + "{") or line.startswith(name + " ")):
            continue
        head, _, value = line.rpartition(" ")
        got = dict(re.findall(r'(\w+)="([^"]*)"', head[len(name) :]))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(value)
    return total


def test_readyz_names_each_failing_check(settings, clock, engine, demo, tmp_path):
    live = _serve(settings, clock, engine)
    try:
        r = httpx.get(f"{live.url}/readyz")
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert checks["database"]["ok"] and checks["migrations"]["ok"] and checks["blobs"]["ok"]
        assert not checks["scheduler"]["ok"] and "no scheduler" in checks["scheduler"]["detail"]

        beat(engine, clock.now())
        r = httpx.get(f"{live.url}/readyz")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ready"

        clock.advance(minutes=10)  # the scheduler fell silent
        r = httpx.get(f"{live.url}/readyz")
        assert r.status_code == 503
        assert "600 s ago" in r.json()["checks"]["scheduler"]["detail"]
        beat(engine, clock.now())

        with engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version WHERE version_num = '0011'"))
        r = httpx.get(f"{live.url}/readyz")
        assert r.status_code == 503
        assert "0011" in r.json()["checks"]["migrations"]["detail"]
    finally:
        live.stop()

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    live = _serve(settings, clock, engine, blob_dir=not_a_dir / "blobs")
    try:
        checks = httpx.get(f"{live.url}/readyz").json()["checks"]
        assert not checks["blobs"]["ok"] and "not writable" in checks["blobs"]["detail"]
    finally:
        live.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_readyz_when_the_database_is_gone(settings, clock):
    from server.db import make_engine

    gone = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    live = LiveServer(create_app(settings, clock=clock, engine=gone)).start()
    try:
        r = httpx.get(f"{live.url}/readyz")
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert not checks["database"]["ok"] and "unreachable" in checks["database"]["detail"]
        assert "migrations" not in checks  # not guessed at when the database cannot answer
    finally:
        live.stop()
        gone.dispose()


def test_metrics_count_what_happens(settings, clock, engine, demo):
    live = _serve(settings, clock, engine)
    try:
        http = live.login("inspector")
        hazard = http.get("/hazards", params={"limit": 1}).json()["items"][0]["id"]
        assert http.get(f"/hazards/{hazard}").status_code == 200
        device = f"tablet-{uuid.uuid4().hex[:8]}"
        op = {
            "op_id": str(uuid.uuid4()),
            "device_seq": 1,
            "type": "hazard.report",
            "payload": {
                "hazard_id": str(uuid.uuid4()),
                "site_id": MALL,
                "title": "监控测试：消防门被锁",
                "severity": "general",
            },
        }
        body = {"device_id": device, "schema_version": 1, "app_version": "t", "ops": [op]}
        pushed = http.post("/sync/push", json=body)
        assert pushed.status_code == 200, pushed.text
        status = pushed.json()["results"][0]["status"]
        pulled = http.get("/sync/pull", params={"device_id": device, "schema_version": 1})
        assert pulled.status_code == 200
        served = len(pulled.json()["changes"])
        data = demo_png(f"metrics-{uuid.uuid4()}", (1, 2, 3))
        from server.blobs.store import digest

        up = http.patch(
            f"/blobs/{digest(data)}",
            content=data,
            headers={
                "Upload-Offset": "0",
                "Upload-Length": str(len(data)),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        assert up.status_code == 204, up.text
        run_job(engine, "flag_overdue", clock.now(), settings)

        r = httpx.get(f"{live.url}/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        m = r.text
        assert (
            _metric(
                m,
                "hazardchain_http_request_duration_seconds_count",
                route="/api/v1/hazards/{hazard_id}",
                method="GET",
                status="2xx",
            )
            >= 1
        )
        assert _metric(m, "hazardchain_sync_ops_total", result=status) >= 1
        assert _metric(m, "hazardchain_sync_pull_changes_total") >= served > 0
        assert _metric(m, "hazardchain_blob_bytes_received_total") >= len(data)
        assert _metric(m, "hazardchain_job_runs_total", job="flag_overdue", outcome="ran") >= 1
        assert _metric(m, "hazardchain_job_duration_seconds_count", job="flag_overdue") >= 1
        with Session(engine) as s:
            majors = s.exec(
                select(func.count())
                .select_from(Hazard)
                .where(Hazard.severity == "major")
                .where(
                    Hazard.state.in_(
                        ["reported", "assigned", "rectifying", "in_review", "verified"]
                    )
                )
            ).one()
        assert _metric(m, "hazardchain_hazards", kind="open", severity="major") == majors > 0
        assert _metric(m, "hazardchain_device_push_lag_seconds", device=device) >= 0
        assert f'device="{device}"' in m
    finally:
        live.stop()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_metrics_only_for_the_allow_list_or_the_token(settings, clock, engine):
    live = _serve(
        settings, clock, engine, metrics_allow="10.0.0.0/8", metrics_token="s3cret-" + "t" * 30
    )
    try:
        refused = httpx.get(f"{live.url}/metrics")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        wrong = httpx.get(f"{live.url}/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        ok = httpx.get(
            f"{live.url}/metrics", headers={"Authorization": "Bearer s3cret-" + "t" * 30}
        )
        assert ok.status_code == 200 and "hazardchain_hazards" in ok.text
    finally:
        live.stop()


class _Lines(logging.Handler):
    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_request_id_follows_the_request_and_the_job_into_the_log(settings, clock, engine, demo):
    from server.logs import JsonFormatter, TextFormatter

    root = logging.getLogger("hazardchain")
    as_json, as_text = _Lines(JsonFormatter()), _Lines(TextFormatter())
    live = _serve(settings, clock, engine, log_format="json")
    root.addHandler(as_json)
    root.addHandler(as_text)
    try:
        r = httpx.post(
            f"{live.url}/api/v1/auth/token",
            data={"username": "officer", "password": "demo-password"},
            headers={"X-Request-ID": "trace-0001-abc"},
        )
        assert r.status_code == 200 and r.headers["x-request-id"] == "trace-0001-abc"
        fresh = httpx.get(f"{live.url}/healthz").headers["x-request-id"]
        assert len(fresh) == 32 and fresh != "trace-0001-abc"
        bad = httpx.get(f"{live.url}/healthz", headers={"X-Request-ID": "x y;/"})
        assert bad.headers["x-request-id"] != "x y;/"  # not echoed into the log unchecked
        run_job(engine, "flag_overdue", clock.now(), settings)
    finally:
        root.removeHandler(as_json)
        root.removeHandler(as_text)
        live.stop()
    records = [json.loads(line) for line in as_json.lines]
    login = [r for r in records if r["event"] == "login"]
    assert login and login[0]["request_id"] == "trace-0001-abc"
    job = [r for r in records if r["event"] == "job ran"]
    assert job and job[0]["request_id"].startswith("job-flag_overdue-")
    assert any('request_id="trace-0001-abc"' in line for line in as_text.lines)
    assert all("\n" not in line for line in as_json.lines)  # one line per event
