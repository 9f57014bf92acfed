"""Evidence travels (issue 16, point 6), over real HTTP to a server set up as ``make run`` does,
on both databases, with real tablet cores: the enterprise's tablet shows the inspector's defect
photo after a sync, the inspector's tablet the enterprise's rectification photo; previews first,
the full photo on a tap (checked against the hash the chain cites), kept for offline use within
a budget that never takes a photo the tablet took; large camera photos travel as evidence
copies; a user out of scope gets nothing, not even a preview."""

from __future__ import annotations

import io
import uuid

import requests
from PIL import Image
from tablets import MALL

from mobile_app.core.evidence_copy import drop_uploaded_originals, original_of
from mobile_app.core.photo_cache import PhotoCache
from mobile_app.core.sync_client import SyncClient
from server.blobs.store import digest
from tests.cli_server import assigned_to_the_mall

DEAD = "http://127.0.0.1:9"  # nothing listens: a tablet in a mine


def picture(width: int, height: int, fmt: str = "PNG", exif=None) -> bytes:
    """A real picture nobody has sent: a gradient with a random tint."""
    tint = uuid.uuid4().bytes
    img = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    img = Image.merge(
        "RGB", [b.point(lambda v, k=k: (v + tint[k]) % 256) for k, b in enumerate(img.split())]
    )
    out = io.BytesIO()
    img.save(out, fmt, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def report(tablet, title: str, data: bytes) -> tuple[str, str]:
    """The tablet reports a hazard at the mall with one photo; (hazard id, photo hash)."""
    sha = tablet.outbox.add_photo(data)["sha256"]
    hid = tablet.outbox.report_hazard(site_id=MALL, title=title, severity="general", photos=[sha])
    return hid, sha


def test_the_enterprise_sees_the_inspectors_defect_photo(cli_server, tablets):
    insp = tablets(cli_server.url, "inspector")
    data = picture(1200, 900)
    hid, sha = report(insp, f"配电箱门缺失-{uuid.uuid4().hex[:6]}", data)
    assert insp.sync().ok

    ent = tablets(cli_server.url, "enterprise")
    cache = PhotoCache(ent.store)
    assert cache.get(sha, "thumb").status == "missing"  # the hazard is not even here yet
    assert ent.sync().ok
    assert sha in ent.hazards()[hid]["photos"]
    assert cache.wanted().index(sha) < len(cache.wanted())
    prefetched = cache.prefetch(ent.client)
    assert prefetched.fetched >= 1 and not prefetched.offline

    thumb = cache.get(sha, "thumb")
    assert thumb.status == "cached" and thumb.data[:3] == b"\xff\xd8\xff"
    assert size_of(thumb.data) == (480, 360)  # previews first: the full photo stays there
    assert cache.get(sha, "full").status == "missing"
    full = cache.fetch(ent.client, sha, "full")  # a tap
    assert full.status == "cached" and full.data == data and digest(full.data) == sha
    assert cache.path(sha, "full").read_bytes() == data

    # offline now: what was fetched still shows; what was not says so
    offline = SyncClient(ent.store, DEAD, max_attempts=1, backoff_base=0, timeout=(1.0, 1.0))
    assert cache.get(sha, "full").data == data
    assert cache.fetch(offline, sha, "thumb").data == thumb.data
    _, other = report(insp, f"灭火器过期-{uuid.uuid4().hex[:6]}", picture(640, 480))
    assert insp.sync().ok and ent.sync().ok
    gone = cache.fetch(offline, other, "thumb")
    assert (gone.status, gone.error, gone.data) == ("missing", "offline", None)
    assert cache.fetch(ent.client, other, "thumb").status == "cached"  # the network is back


def test_the_inspector_sees_the_enterprises_rectification_photo(cli_server, tablets):
    hid = assigned_to_the_mall(cli_server, MALL, f"安全出口锁闭-{uuid.uuid4().hex[:6]}")
    ent = tablets(cli_server.url, "enterprise")
    assert ent.sync().ok
    after = picture(800, 600, "JPEG")
    sha = ent.outbox.add_photo(after)["sha256"]
    ent.outbox.append_event(
        hid, "rectification_submitted", {"description": "已解锁并拆除链条", "evidence": [sha]}
    )
    assert ent.sync().ok

    insp = tablets(cli_server.url, "inspector")
    assert insp.sync().ok
    assert insp.hazards()[hid]["state"] == "in_review"
    cache = PhotoCache(insp.store)
    cache.prefetch(insp.client)
    thumb = cache.get(sha, "thumb")
    assert thumb.status == "cached" and size_of(thumb.data) == (480, 360)
    assert cache.fetch(insp.client, sha, "full").data == after  # 复查 on site: the full photo
    # the enterprise's own tablet shows its own copy, never fetched
    own = PhotoCache(ent.store).get(sha, "thumb")
    assert own.status == "local" and own.data == after


def test_the_budget_evicts_the_least_recently_viewed_and_never_an_unsent_photo(cli_server, tablets):
    insp = tablets(cli_server.url, "inspector")
    shas = [report(insp, f"隐患{i}-{uuid.uuid4().hex[:6]}", picture(900, 700))[1] for i in range(4)]
    assert insp.sync().ok
    ent = tablets(cli_server.url, "enterprise")
    assert ent.sync().ok
    mine = picture(700, 500)
    own = ent.outbox.add_photo(mine)["sha256"]  # taken after the sync: not uploaded

    probe = PhotoCache(ent.store)
    order = probe.wanted()
    assert set(order[:4]) == set(shas)  # open and newest first: the four just reported
    sizes = [len(probe.fetch(ent.client, s, "thumb").data) for s in order[:3]]
    probe.budget_bytes = 0
    probe.evict_to_budget()  # everything fetched goes; the tablet's own photo stays
    assert probe.usage() == 0 and probe.get(order[0], "thumb").status == "missing"
    assert probe.get(own, "thumb").data == mine

    budget = sizes[0] + sizes[1] + sizes[2] // 2  # room for two previews, not three
    cache = PhotoCache(ent.store, budget_bytes=budget)
    first = cache.prefetch(ent.client)
    assert first.fetched == 2 and first.left >= 1  # this run's previews are never evicted
    assert cache.usage() <= budget
    assert [cache.get(s, "thumb").status for s in order[:3]] == ["cached", "cached", "missing"]
    viewed, unviewed = order[:2]
    cache.get(viewed, "thumb")  # looked at again: the other is the least recently viewed

    second = cache.prefetch(ent.client, limit=1)  # one more preview: room is made for it
    assert second.fetched == 1 and cache.usage() <= budget
    assert cache.get(order[2], "thumb").status == "cached"
    assert cache.get(viewed, "thumb").status == "cached"
    assert cache.get(unviewed, "thumb").status == "missing"
    assert not cache.path(unviewed, "thumb").exists()

    # nothing fetched, however old, takes the place of an unsent photo: it is not the cache's
    assert ent.store.read("SELECT server_complete FROM blob WHERE sha256 = ?", [own]) == [
        {"server_complete": 0}
    ]
    assert ent.store.blob_path(own).read_bytes() == mine
    assert cache.get(own, "full").status == "local"


def test_a_large_camera_photo_travels_as_its_evidence_copy(cli_server, tablets):
    exif = Image.Exif()
    exif[0x0112] = 6  # held sideways: the camera says "rotate 90°"
    exif[0x010F] = "TestCam"
    camera = picture(4000, 3000, "JPEG", exif=exif.tobytes())
    insp = tablets(cli_server.url, "inspector")
    ref = insp.outbox.add_photo(camera)
    sha = ref["sha256"]
    copy = insp.store.blob_path(sha).read_bytes()
    assert digest(copy) == sha and ref["size"] == len(copy) and ref["mime"] == "image/jpeg"
    assert size_of(copy) == (1200, 1600)  # upright, 1600 px on the long side
    kept = Image.open(io.BytesIO(copy)).getexif()
    assert 0x0112 not in kept and kept[0x010F] == "TestCam"
    assert original_of(insp.store, sha).read_bytes() == camera  # until the copy is uploaded
    small = picture(640, 480, "JPEG")
    assert insp.outbox.add_photo(small)["sha256"] == digest(small)  # small enough as it is

    hid = insp.outbox.report_hazard(
        site_id=MALL, title=f"脚手架松动-{uuid.uuid4().hex[:6]}", severity="general", photos=[sha]
    )
    assert drop_uploaded_originals(insp.store) == 0  # not uploaded yet: the original stays
    assert original_of(insp.store, sha) is not None
    assert insp.sync().ok
    with cli_server.login("officer") as officer:
        assert officer.get(f"/hazards/{hid}").json()["photos"] == [sha]  # what the chain cites
        assert officer.get(f"/blobs/{sha}").content == copy
    assert drop_uploaded_originals(insp.store) == 1
    assert original_of(insp.store, sha) is None
    assert not list((insp.store.blob_dir / "originals").iterdir())
    assert insp.store.blob_path(sha).read_bytes() == copy  # the evidence copy stays


def test_a_user_out_of_scope_gets_no_preview(cli_server, tablets):
    insp = tablets(cli_server.url, "inspector")
    data = picture(600, 400)
    _, sha = report(insp, f"楼梯间堆物-{uuid.uuid4().hex[:6]}", data)
    assert insp.sync().ok
    unknown = digest(uuid.uuid4().bytes)
    with cli_server.login("enterprise") as ent:  # the mall's: in scope
        r = ent.get(f"/blobs/{sha}/thumb")
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert size_of(r.content) == (480, 320)
        assert ent.get(f"/blobs/{'z' * 64}/thumb").status_code == 422
    with cli_server.login("inspector2") as other:  # another district: as for no file at all
        a, b = other.get(f"/blobs/{sha}/thumb"), other.get(f"/blobs/{unknown}/thumb")
        assert a.status_code == b.status_code == 404
        assert a.json() == b.json() == {"code": "not_found", "message": "文件不存在", "fields": {}}
    r = requests.get(f"{cli_server.url}/api/v1/blobs/{sha}/thumb", timeout=30)
    assert r.status_code == 401

    # the other district's tablet asks as well and keeps nothing
    wuda = tablets(cli_server.url, "inspector2")
    assert wuda.sync().ok
    got = PhotoCache(wuda.store).fetch(wuda.client, sha, "thumb")
    assert (got.status, got.error, got.data) == ("failed", "not_found", None)
    assert PhotoCache(wuda.store).get(sha, "thumb").status == "failed"
