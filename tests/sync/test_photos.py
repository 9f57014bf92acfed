"""Photos (TECH-NOTES §1.3 cases 11, 12): resumable uploads that survive a dropped connection
and a corrupted partial file, evidence steps blocked until the server holds every byte, ops
that arrive before their bytes, and bytes no record cites removed after a while."""

from __future__ import annotations

import os
import random
import time
import uuid
from datetime import timedelta

from sqlmodel import Session
from tablets import MALL, op, photo, push_raw, sha

from server.blobs.scheduled import gc_orphan_blobs
from server.blobs.store import BlobStore
from server.hazards.models import Attachment, Hazard
from server.scheduler import run_job
from tests.faultproxy import Fault, FaultProxy

PROBE = "tablet-probe-01"


def big_photo(n: int = 200_000, seed: int = 1) -> bytes:
    """A 'JPEG' of incompressible bytes (the server checks the type by its first bytes)."""
    return b"\xff\xd8\xff\xe0" + random.Random(seed).randbytes(n)


def assigned_to_enterprise(live_demo, clock, title: str) -> str:
    officer = live_demo.login("officer")
    ent_id = live_demo.login("enterprise").get("/me").json()["id"]
    hid = officer.post("/hazards", json={"site_id": MALL, "title": title, "severity": "general"})
    hid = hid.json()["id"]
    r = officer.post(
        f"/hazards/{hid}/events",
        json={
            "type": "assigned",
            "payload": {
                "responsible_unit": "万达广场",
                "responsible_person": "陈安全员",
                "responsible_user_id": ent_id,
            },
        },
    )
    assert r.status_code == 201, r.text
    return hid


def settled_offset(http, digest: str) -> int:
    """The server's offset once it has finished writing what a dropped connection brought."""
    seen: list[int] = []
    for _ in range(100):
        r = http.head(f"/blobs/{digest}")
        seen.append(int(r.headers["Upload-Offset"]) if r.status_code == 200 else 0)
        if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3] and seen[-1] > 0:
            return seen[-1]
        time.sleep(0.05)
    raise AssertionError(f"upload offset never settled: {seen[-5:]}")


def patched_bodies(tablet) -> list[tuple[int, int]]:
    """(Upload-Offset, body length) of every PATCH the tablet sends from now on."""
    sent: list[tuple[int, int]] = []
    real = tablet.client.http.request

    def spy(method, url, **kw):
        if method == "PATCH":
            sent.append((int(kw["headers"]["Upload-Offset"]), len(kw.get("data") or b"")))
        return real(method, url, **kw)

    tablet.client.http.request = spy
    return sent


def test_upload_dropped_at_60_percent_resumes_and_evidence_waits(
    live_demo, tablets, engine, clock, settings
):
    """Case 11: the connection drops at 60% of the photo; the rectification needing it is
    refused as ``missing_blob`` until the rest arrives; the upload resumes where it stopped."""
    hid = assigned_to_enterprise(live_demo, clock, "疏散指示灯损坏")
    proxy = FaultProxy(live_demo.port).start()
    try:
        t = tablets(proxy.url, "enterprise", chunk_size=1 << 20, max_attempts=1)
        assert t.sync().ok
        data = big_photo()
        evidence = t.outbox.add_photo(data)["sha256"]
        op_id = t.outbox.append_event(
            hid, "rectification_submitted", {"description": "已更换", "evidence": [evidence]}
        )
        t.client.http.close()  # the next request opens a new connection (with the fault)
        cuts = iter([Fault(up_cut=int(len(data) * 0.6), name="cut_at_60")])
        proxy.plan = lambda: next(cuts, Fault())
        result = t.sync()
        assert not result.ok  # the network went away; nothing is lost
        assert t.outbox.only_copy().photos == 1 and t.outbox.record(op_id)["status"] == "pending"
        http = live_demo.login("enterprise")
        held = settled_offset(http, evidence)
        assert 0.4 * len(data) < held < 0.61 * len(data)
        # the evidence step is refused while the server lacks bytes, and nothing is recorded
        probe = op(1, "hazard.event", {"hazard_id": hid, "type": "rectification_submitted",
                                       "payload": {"description": "x", "evidence": [evidence]}})  # fmt: skip
        body = push_raw(http, PROBE, [probe])
        assert body["results"][0]["status"] == "missing_blob"
        assert body["results"][0]["data"]["missing_blobs"] == [evidence]
        assert body["stopped"]["reason"] == "missing_blob" and body["last_seq"] == 0
        sent = patched_bodies(t)
        t.client.max_attempts = 4
        result = t.sync()
        assert result.ok, result.errors
        assert sent == [(held, len(data) - held)]  # resumed from the server's offset
        assert t.outbox.record(op_id)["status"] == "acknowledged"
        assert t.outbox.only_copy().total == 0
        assert BlobStore(settings.blob_dir).read(evidence) == data
        with Session(engine) as s:
            assert s.get(Hazard, hid).state == "in_review"
            assert s.get(Attachment, evidence).complete
    finally:
        proxy.stop()


def test_corrupt_partial_file_restarts_the_upload(live_demo, tablets, settings):
    """Case 11: the bytes the server assembled do not hash to the name: start again."""
    proxy = FaultProxy(live_demo.port).start()
    try:
        t = tablets(proxy.url, "inspector", chunk_size=1 << 20, max_attempts=1)
        data = big_photo(seed=2)
        digest = t.outbox.add_photo(data)["sha256"]
        t.client.http.close()  # the next request opens a new connection (with the fault)
        cuts = iter([Fault(up_cut=len(data) // 2, name="cut_half")])
        proxy.plan = lambda: next(cuts, Fault())
        assert not t.sync().ok
        http = live_demo.login("inspector")
        settled_offset(http, digest)
        store = BlobStore(settings.blob_dir)
        mine = store.partial(digest, http.get("/me").json()["id"])
        with open(mine, "r+b") as fh:  # a bad disk flips bytes
            fh.seek(1000)
            fh.write(b"\x00" * 64)
        sent = patched_bodies(t)
        t.client.max_attempts = 4
        assert t.sync().ok
        assert sent[-1] == (0, len(data)) and sent[0][0] > 0  # resumed, refused, restarted
        assert store.read(digest) == data and sha(store.read(digest)) == digest
    finally:
        proxy.stop()


def test_op_before_its_bytes_is_pending_and_orphans_are_collected(
    live_demo, engine, clock, settings
):
    """Case 12: ``photo.add`` before the upload is applied with its photo pending; bytes no
    record cites, and uploads abandoned half-way, go after ``blob_orphan_days``."""
    http = live_demo.login("inspector")
    hid = str(uuid.uuid4())
    later = photo("稍后上传")
    ops = [
        op(
            1,
            "hazard.report",
            {"hazard_id": hid, "site_id": MALL, "title": "配电柜门未关", "severity": "general"},
            op_id=hid,
        ),  # fmt: skip
        op(
            2,
            "photo.add",
            {
                "hazard_id": hid,
                "photos": [{"sha256": sha(later), "size": len(later), "mime": "image/png"}],
            },
        ),  # fmt: skip
    ]
    body = push_raw(http, PROBE, ops)
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert body["results"][1]["data"]["pending_blobs"] == [sha(later)]
    head = http.head(f"/blobs/{sha(later)}")
    assert head.headers["Upload-Offset"] == "0"
    assert head.headers["Upload-Length"] == str(len(later))
    assert http.get(f"/blobs/{sha(later)}").status_code == 404
    r = http.patch(
        f"/blobs/{sha(later)}",
        content=later,
        headers={"Upload-Offset": "0", "Upload-Length": str(len(later))},
    )
    assert r.status_code == 204 and r.headers["Upload-Complete"] == "1"
    assert http.get(f"/blobs/{sha(later)}").content == later
    # bytes nobody cites, and half an upload
    orphan = photo("没有记录引用")
    r = http.patch(
        f"/blobs/{sha(orphan)}",
        content=orphan,
        headers={"Upload-Offset": "0", "Upload-Length": str(len(orphan))},
    )
    assert r.status_code == 204
    half = big_photo(2000, seed=3)
    r = http.patch(
        f"/blobs/{sha(half)}",
        content=half[:1000],
        headers={"Upload-Offset": "0", "Upload-Length": str(len(half))},
    )
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "1000"
    store = BlobStore(settings.blob_dir)
    with Session(engine) as s:
        assert gc_orphan_blobs(s, store, clock.now(), days=7) == 0  # too young
    # the scheduled job, with the server's own folder and orphan age (7 days)
    removed = run_job(engine, "gc_blobs", clock.now() + timedelta(days=8), settings)
    assert removed >= 1
    with Session(engine) as s:
        assert s.get(Attachment, sha(orphan)) is None and not store.has(sha(orphan))
        assert s.get(Attachment, sha(later)).complete and store.has(sha(later))
    # the abandoned partial file goes once it is old enough (by its modification time)
    old = (clock.now() - timedelta(days=10)).timestamp()
    me = http.get("/me").json()["id"]
    os.utime(store.partial(sha(half), me), (old, old))
    with Session(engine) as s:
        assert gc_orphan_blobs(s, store, clock.now() + timedelta(days=8), days=7) >= 1
    assert store.partial_size(sha(half), me) == 0
