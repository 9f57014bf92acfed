"""Protocol edges (TECH-NOTES §1.3 cases 15, 16 and the rest of the contract): old apps get
``426`` and keep their outbox, a token expiring mid-sync is refreshed, a revoked tablet is
stopped with its data intact, bodies travel gzip-compressed, and the app is told progress and
what only it holds."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest
from tablets import MALL, op, photo, push_raw, report_payload, server_events, sqlite_only

from mobile_app.core.sync_client import DeviceRevoked, SyncClient, UpgradeRequired
from shared.sync_wire import SCHEMA_VERSION


def test_old_app_gets_426_and_its_queued_ops_are_accepted_after_the_update(
    live_demo, tablets, engine, clock
):
    """Case 15."""
    old = tablets(live_demo.url, "inspector", schema_version=SCHEMA_VERSION - 1)
    hid = old.outbox.report_hazard(site_id=MALL, title="升级前记录", severity="general")
    old.outbox.append_event(hid, "note", {"text": "旧版本排队的记录"})
    with pytest.raises(UpgradeRequired) as exc:
        old.sync()
    assert "升级" in str(exc.value)
    assert old.outbox.counts()["pending"] == 2  # kept, untouched
    updated = SyncClient(old.store, live_demo.url, clock=clock)  # same data, new app
    assert updated.sync().ok
    assert old.outbox.counts() == {"pending": 0, "sent": 0, "acknowledged": 2, "rejected": 0}
    assert old.events() == server_events(engine, "inspector")
    http = live_demo.login("inspector")
    for path, kw in (
        ("/sync/pull", {"params": {"device_id": "tablet-old-001", "schema_version": 0}}),
        ("/sync/push", {"json": {"device_id": "tablet-old-001", "schema_version": 0, "ops": []}}),
    ):
        r = http.request("GET" if "pull" in path else "POST", path, **kw)
        assert r.status_code == 426 and r.json()["code"] == "upgrade_required"
    # an op whose payload version the server no longer reads is refused, visibly, not lost
    body = push_raw(http, "tablet-old-001", [op(1, "hazard.report", report_payload(
        str(uuid.uuid4())), v=99)])  # fmt: skip
    assert body["results"][0]["code"] == "unsupported_op_version"


def test_token_expiring_mid_sync_is_refreshed_without_loss(live_demo, tablets, engine, clock):
    """Case 16: the access token dies between two push batches."""
    live_demo.app.state.settings.access_token_minutes = 15
    t = tablets(live_demo.url, "inspector", batch_size=2)
    hid = t.outbox.report_hazard(site_id=MALL, title="令牌过期", severity="general")
    for i in range(5):
        t.outbox.append_event(hid, "note", {"text": f"第{i}条"})
    first_token = t.store.meta("access_token")
    moved = []

    def after_each_batch(progress):
        if progress.phase == "push" and progress.records_done and not moved:
            moved.append(clock.advance(minutes=20))  # the token expires now

    t.client.on_progress = after_each_batch
    result = t.sync()
    assert result.ok, result.errors
    assert moved and t.store.meta("access_token") != first_token
    assert t.outbox.counts()["acknowledged"] == 6
    assert [r["result_status"] for r in t.outbox.records()] == ["applied"] * 6
    assert t.events() == server_events(engine, "inspector")


@sqlite_only
def test_revoked_tablet_is_stopped_and_keeps_its_records(live_demo, tablets):
    t = tablets(live_demo.url, "inspector")
    assert t.sync().ok
    t.outbox.report_hazard(site_id=MALL, title="设备停用前", severity="general")
    http = live_demo.login("inspector")
    assert http.delete(f"/devices/{t.store.device_id}").status_code == 200
    with pytest.raises(DeviceRevoked):
        t.sync()
    assert t.outbox.counts()["pending"] == 1 and t.outbox.only_copy().records == 1


@sqlite_only
def test_gzip_both_ways_and_bad_bodies(live_demo):
    http = live_demo.login("inspector")
    hid = str(uuid.uuid4())
    body = {
        "device_id": "tablet-gzip-01",
        "schema_version": SCHEMA_VERSION,
        "ops": [op(1, "hazard.report", report_payload(hid, description="长" * 3000), op_id=hid)],
    }
    raw = json.dumps(body).encode()
    r = http.post(
        "/sync/push",
        content=gzip.compress(raw),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "applied"
    r = http.get(
        "/sync/pull",
        params={"device_id": "tablet-gzip-01", "schema_version": SCHEMA_VERSION},
        headers={"Accept-Encoding": "gzip"},
    )
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert int(r.headers["Content-Length"]) < len(r.content) / 3  # compressed on the wire
    bad = http.post("/sync/push", content=b"\x1f\x8bnot gzip", headers={"Content-Encoding": "gzip"})
    assert bad.status_code == 400 and bad.json()["code"] == "malformed_request"
    bomb = gzip.compress(b"{" + b" " * (20 * 1024 * 1024) + b"}")
    r = http.post("/sync/push", content=bomb, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 413 and r.json()["code"] == "too_large"


@sqlite_only
def test_progress_status_and_only_copy_counts(live_demo, tablets):
    t = tablets(live_demo.url, "inspector", chunk_size=64)
    seen = []
    t.client.on_progress = seen.append
    hid = t.outbox.report_hazard(site_id=MALL, title="进度条", severity="general")
    t.outbox.add_photos(hid, [photo("进度1"), photo("进度2")], caption="现场")
    t.outbox.append_event(hid, "note", {"text": "备注"})
    before = t.outbox.only_copy()
    assert (before.records, before.photos) == (3, 2) and before.photo_bytes > 0
    assert {r["status"] for r in t.outbox.records()} == {"pending"}
    assert t.sync().ok
    phases = [p.phase for p in seen]
    assert phases[0] == "upload" and phases[-1] == "done" and "push" in phases and "pull" in phases
    upload = [p for p in seen if p.phase == "upload"][-1]
    assert upload.records_done == upload.records_total == 2
    assert upload.bytes_done == upload.bytes_total == before.photo_bytes
    push = [p for p in seen if p.phase == "push"][-1]
    assert push.records_done == push.records_total == 3 and push.bytes_done > 0
    pull = [p for p in seen if p.phase == "pull"][-1]
    assert pull.records_done > 0 and pull.bytes_done > 0
    assert t.outbox.only_copy().total == 0
    receipts = t.outbox.records()
    assert all(r["status"] == "acknowledged" and r["server_seq"] for r in receipts)
    assert all(r["received_at"] for r in receipts)
    view = t.hazards()[hid]
    assert len(view["photos"]) == 2 and view["state"] == "reported"
