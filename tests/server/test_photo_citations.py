"""A photo's SHA-256 grants nothing (issue 11, defect 2), over real HTTP on both databases.

Two districts (inspector and officer in 海勃湾区, inspector2 and officer2 in 乌达区) and two
sites (the mall's enterprise user, and one at the supermarket): on every path that cites a
hash — a report, ``photo_added``, rectification evidence, sync ``photo.add`` and evidence,
inspection photos and signatures, and the resumable upload itself — another user's photo is
answered exactly as an unknown hash and its bytes are never served to the citer or their
scope; the uploader's own citation works; a user who sees a photo through a hazard in scope
may link it (linked, not copied); a citer who then sends the bytes has proved they hold them.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from server.blobs.store import digest
from server.demo import demo_png, did
from server.hazards.models import BlobOwner
from shared.clock import to_iso
from tests.checklists.checklist_fixtures import TEMPLATE_ID, full_answers, import_test_templates
from tests.console.console_helpers import ConsoleClient
from tests.sync.tablets import op, push_raw

MALL = did("site", "万达广场乌海店")  # 海勃湾区
SUPERMARKET = did("site", "华联超市海勃湾店")  # 海勃湾区, another site
H_MALL = did("hazard", "地下车库电动自行车违规充电")  # at the mall, assigned to enterprise
H_WUDA = did("hazard", "采煤工作面甲烷浓度超限仍在作业")  # 乌达区


@pytest.fixture
def people(live_demo):
    admin = live_demo.login("admin")
    r = admin.post(
        "/users",
        json={
            "username": "enterprise2",
            "display_name": "超市安全员",
            "role": "enterprise",
            "password": "long-enough-pw",
            "site_ids": [SUPERMARKET],
        },
    )
    assert r.status_code == 201, r.text
    out = {u: live_demo.login(u) for u in ("inspector", "inspector2", "officer", "officer2")}
    out["enterprise"] = live_demo.login("enterprise")
    out["enterprise2"] = live_demo.login("enterprise2", "long-enough-pw")
    return out


def fresh() -> bytes:
    """A real PNG nobody has uploaded (the blob folder is shared between tests): ``demo_png``
    draws only 32 stripes per colour, so the colour is random too."""
    u = uuid.uuid4().bytes
    return demo_png(u.hex(), (u[0], u[1], u[2]))


def nobodys() -> str:
    """A hash no file has."""
    return digest(uuid.uuid4().bytes)


def upload(client, data: bytes) -> str:
    sha = digest(data)
    r = client.put(f"/blobs/{sha}", content=data)
    assert r.status_code == 201, r.text
    return sha


def unseen(client, sha: str, *, head: bool = True) -> None:
    """The caller gets neither the bytes nor a sign that they exist: exactly the answers for a
    hash nobody ever uploaded."""
    unknown = nobodys()
    a, b = client.get(f"/blobs/{sha}"), client.get(f"/blobs/{unknown}")
    assert a.status_code == b.status_code == 404
    assert a.json() == b.json() == {"code": "not_found", "message": "文件不存在", "fields": {}}
    if head:
        a, b = client.head(f"/blobs/{sha}"), client.head(f"/blobs/{unknown}")
        assert a.status_code == b.status_code == 404
        assert "Upload-Offset" not in a.headers


def owners(engine, sha: str) -> set[str]:
    with Session(engine) as s:
        return set(s.exec(select(BlobOwner.user_id).where(BlobOwner.sha256 == sha)).all())


def report(client, sha: str, site: str = SUPERMARKET) -> str:
    r = client.post(
        "/hazards",
        json={"site_id": site, "title": "消防通道堵塞", "severity": "general", "photos": [sha]},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def photo_added(client, hazard_id: str, sha: str):
    return client.post(
        f"/hazards/{hazard_id}/events",
        json={"type": "photo_added", "payload": {"photos": [sha]}},
    )


def evidence(client, sha: str):
    return client.post(
        f"/hazards/{H_MALL}/events",
        json={
            "type": "rectification_submitted",
            "payload": {"description": "已整改", "evidence": [sha]},
        },
    )


def refusal(r, sha: str) -> tuple:
    """A refusal with the file's own name blanked, to compare two refusals."""
    body = r.json()
    return r.status_code, body["code"], body["message"], str(body["fields"]).replace(sha[:12], "…")


def test_a_report_citing_anothers_photo_grants_nothing(people, live_demo):
    victim, thief = people["inspector2"], people["inspector"]
    data = fresh()
    theirs = upload(victim, data)
    hid = report(thief, theirs)  # accepted, as for a photo not uploaded yet: the link waits
    report(thief, nobodys())
    for who in ("inspector", "officer", "enterprise2"):  # the citer and the hazard's scope
        unseen(people[who], theirs)
    assert victim.get(f"/blobs/{theirs}").content == data

    own = fresh()
    mine = upload(thief, own)
    report(thief, mine)
    for who in ("inspector", "officer", "enterprise2"):
        assert people[who].get(f"/blobs/{mine}").content == own
    unseen(people["inspector2"], mine)
    unseen(people["enterprise"], mine)  # another site

    console = ConsoleClient(live_demo.url).login("officer")
    try:  # the console neither serves it nor shows it as received
        assert console.get(f"/console/blobs/{theirs}").status_code == 404
        assert console.get(f"/console/blobs/{theirs}/thumb").status_code == 404
        page = console.get(f"/console/hazards/{hid}").text
        assert "尚未上传完成" in page and "已上传至服务器" not in page
        # the citer sends the very bytes: they hold them, so their waiting link now grants
        assert thief.put(f"/blobs/{theirs}", content=data).status_code == 201
        assert people["officer"].get(f"/blobs/{theirs}").content == data
        assert people["enterprise2"].get(f"/blobs/{theirs}").content == data
        assert console.get(f"/console/blobs/{theirs}").content == data
        assert "已上传至服务器" in console.get(f"/console/hazards/{hid}").text
    finally:
        console.close()


def test_photo_added_with_anothers_hash_grants_nothing(people):
    data = fresh()
    theirs = upload(people["inspector2"], data)
    assert photo_added(people["inspector2"], H_WUDA, theirs).status_code == 201
    assert people["officer2"].get(f"/blobs/{theirs}").content == data  # its own scope
    for sha in (theirs, nobodys()):  # another site, another district
        assert photo_added(people["enterprise"], H_MALL, sha).status_code == 201
        assert photo_added(people["officer"], H_MALL, sha).status_code == 201
    for who in ("enterprise", "officer", "inspector", "enterprise2"):
        unseen(people[who], theirs)
    assert people["officer2"].get(f"/blobs/{theirs}").content == data


def test_who_sees_a_photo_through_a_hazard_may_link_it_not_copy_it(people, engine):
    data = fresh()
    q = upload(people["inspector"], data)
    report(people["inspector"], q)  # at the supermarket
    unseen(people["enterprise"], q)
    # the district's officer sees it through that hazard, and links it on the mall's
    assert photo_added(people["officer"], H_MALL, q).status_code == 201
    assert people["enterprise"].get(f"/blobs/{q}").content == data
    assert people["enterprise2"].get(f"/blobs/{q}").content == data
    unseen(people["inspector2"], q)
    unseen(people["officer2"], q)
    inspector_id = people["inspector"].get("/me").json()["id"]
    assert owners(engine, q) == {inspector_id}  # nobody else became its owner
    # the mall's user now sees it through the mall's hazard, so may cite it too
    assert photo_added(people["enterprise"], H_MALL, q).status_code == 201


def test_evidence_citing_anothers_photo_is_refused_like_an_unknown_one(people):
    ent = people["enterprise"]
    theirs = upload(people["enterprise2"], fresh())
    unknown = nobodys()
    a, b = evidence(ent, theirs), evidence(ent, unknown)
    assert refusal(a, theirs) == refusal(b, unknown)
    assert a.status_code == 422 and a.json()["code"] == "photo_pending"
    assert "evidence" in a.json()["fields"]
    r = ent.post(
        f"/hazards/{H_MALL}/events",
        json={
            "type": "rectification_submitted",
            "payload": {"description": "x", "evidence": [theirs]},
        },
        headers={"Accept-Language": "en"},
    )
    assert r.json()["message"] == "1 evidence photo(s) not yet uploaded; submit once they are"
    for who in ("enterprise", "officer"):
        unseen(people[who], theirs)

    data = fresh()
    mine = upload(ent, data)
    assert evidence(ent, mine).status_code == 201
    assert people["officer"].get(f"/blobs/{mine}").content == data
    unseen(people["enterprise2"], mine)
    unseen(people["officer2"], mine)


def test_sync_ops_wait_for_the_citers_own_bytes(people):
    ent = people["enterprise"]
    data = fresh()
    theirs = upload(people["inspector2"], data)
    unknown = nobodys()

    def add(seq: int, sha: str) -> dict:
        photo = {"sha256": sha, "size": len(data), "mime": "image/png"}
        return op(seq, "photo.add", {"hazard_id": H_MALL, "photos": [photo]})

    def rectify(seq: int, sha: str) -> dict:
        payload = {"description": "已整改", "evidence": [sha]}
        return op(seq, "hazard.event", {"hazard_id": H_MALL, "type": "rectification_submitted",
                                        "payload": payload})  # fmt: skip

    body = push_raw(ent, "tablet-ent-01", [add(1, theirs), add(2, unknown)])
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert [r["data"]["pending_blobs"] for r in body["results"]] == [[theirs], [unknown]]
    for who in ("enterprise", "officer"):
        unseen(people[who], theirs)

    answers = []
    for sha in (theirs, unknown):
        body = push_raw(ent, "tablet-ent-01", [rectify(3, sha)])
        (r,) = body["results"]
        assert r["status"] == "missing_blob" and r["data"]["missing_blobs"] == [sha]
        assert body["stopped"]["reason"] == "missing_blob" and body["last_seq"] == 2
        answers.append((r["code"], r["message_zh"], r["message_en"]))
    assert answers[0] == answers[1]
    unseen(ent, theirs)

    # the tablet sends the bytes, as it does before pushing: now its ops may use them
    r = ent.patch(
        f"/blobs/{theirs}",
        content=data,
        headers={"Upload-Offset": "0", "Upload-Length": str(len(data))},
    )
    assert r.status_code == 204 and r.headers["Upload-Complete"] == "1"
    body = push_raw(ent, "tablet-ent-01", [rectify(3, theirs)])
    assert body["results"][0]["status"] == "applied", body
    assert body["results"][0]["data"]["pending_blobs"] == []
    assert people["officer"].get(f"/blobs/{theirs}").content == data
    unseen(people["enterprise2"], theirs)


def jpeg(n: int = 6000) -> bytes:
    return b"\xff\xd8\xff\xe0" + random.Random(uuid.uuid4().int).randbytes(n)


def patch(client, sha: str, chunk: bytes, offset: int, length: int):
    return client.patch(
        f"/blobs/{sha}",
        content=chunk,
        headers={"Upload-Offset": str(offset), "Upload-Length": str(length)},
    )


def test_an_unfinished_upload_is_its_uploaders_alone(people):
    owner, other = people["inspector2"], people["inspector"]
    data = jpeg()
    sha, half, n = digest(data), len(data) // 2, len(data)
    r = patch(owner, sha, data[:half], 0, n)
    assert r.status_code == 204 and r.headers["Upload-Offset"] == str(half)
    assert owner.head(f"/blobs/{sha}").headers["Upload-Offset"] == str(half)
    unseen(other, sha)  # its offset is not theirs to see

    # nor to complete: continuing at the owner's offset is answered as for any unknown file
    unknown = nobodys()
    a, b = patch(other, sha, data[half:], half, n), patch(other, unknown, data[half:], half, n)
    assert a.status_code == b.status_code == 409
    assert a.json()["code"] == b.json()["code"] == "offset_mismatch"
    assert a.headers["Upload-Offset"] == b.headers["Upload-Offset"] == "0"
    assert owner.head(f"/blobs/{sha}").headers["Upload-Offset"] == str(half)
    unseen(other, sha)

    r = patch(owner, sha, data[half:], half, n)
    assert r.status_code == 204 and r.headers["Upload-Complete"] == "1"
    assert owner.get(f"/blobs/{sha}").content == data
    # a finished file is no shortcut: the hash alone neither completes nor opens it
    assert other.put(f"/blobs/{sha}", content=jpeg()).json()["code"] == "hash_mismatch"
    r = patch(other, sha, data[:10], 0, n)
    assert r.status_code == 204 and r.headers["Upload-Offset"] == "10"
    assert "Upload-Complete" not in r.headers
    unseen(other, sha, head=False)
    assert other.head(f"/blobs/{sha}").headers["Upload-Offset"] == "10"  # their own bytes
    # sending the rest proves they hold the photo: then it is theirs as well
    r = patch(other, sha, data[10:], 10, n)
    assert r.status_code == 204 and r.headers["Upload-Complete"] == "1"
    assert other.get(f"/blobs/{sha}").content == data


def test_blobs_are_served_with_nosniff(people):
    data = fresh()
    sha = upload(people["inspector"], data)
    r = people["inspector"].get(f"/blobs/{sha}")
    assert r.content == data and r.headers["content-type"] == "image/png"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def inspection(clock, photo: str, inspector_sig: str, representative_sig: str) -> dict:
    """The mall's safety exit found blocked (major, photo required), the rest passed, signed."""
    return {
        "id": str(uuid.uuid4()),
        "site_id": MALL,
        "template_id": TEMPLATE_ID,
        "template_version": 1,
        "answers": full_answers({"t.exit.clear": "no"}),
        "photos": {"t.exit.clear": [photo]},
        "notes": "例行检查",
        "started_at": to_iso(clock.now() - timedelta(hours=1)),
        "ended_at": to_iso(clock.now()),
        "signatures": {
            "inspector": inspector_sig,
            "representative": representative_sig,
            "representative_name": "陈安全员",
        },
    }


def test_inspection_photos_and_signatures_are_the_inspectors_own(people, live_demo, clock):
    import_test_templates(live_demo.app.state.engine, clock)
    insp = people["inspector"]
    data = fresh()
    theirs = upload(people["inspector2"], data)
    sig, rep = upload(insp, fresh()), upload(insp, fresh())
    unknown = nobodys()

    # a signature: another's is refused exactly as one not uploaded, over HTTP and sync
    a = insp.post("/inspections", json=inspection(clock, sig, theirs, rep))
    b = insp.post("/inspections", json=inspection(clock, sig, unknown, rep))
    assert refusal(a, theirs) == refusal(b, unknown)
    assert a.status_code == 422 and a.json()["code"] == "photo_pending"
    assert "signatures" in a.json()["fields"]
    body = push_raw(insp, "tablet-insp-01", [op(1, "inspection.submit",
                                                inspection(clock, sig, theirs, rep))])  # fmt: skip
    assert body["results"][0]["status"] == "missing_blob"
    assert body["results"][0]["data"]["missing_blobs"] == [theirs]

    # an item photo may wait for its bytes, but another's grants nothing: neither through
    # the inspection nor through the hazard it raised
    r = insp.post("/inspections", json=inspection(clock, theirs, sig, rep))
    assert r.status_code == 201, r.text
    for who in ("inspector", "officer", "enterprise"):
        unseen(people[who], theirs)

    own = fresh()
    mine = upload(insp, own)
    r = insp.post("/inspections", json=inspection(clock, mine, sig, rep))
    assert r.status_code == 201, r.text
    for who in ("officer", "enterprise"):  # through the inspection and its hazard
        assert people[who].get(f"/blobs/{mine}").content == own
        assert people[who].get(f"/blobs/{sig}").status_code == 200
    for who in ("inspector2", "officer2", "enterprise2"):
        unseen(people[who], mine)
        unseen(people[who], sig)
