"""拒签 over HTTP on both databases: when the site's representative refuses to sign, the
inspection stands with a witness and a photo of the refusal, and the server holds the photo
first (the printed record: tests/console/test_refusal_record.py)."""

from __future__ import annotations

import uuid

from test_inspection_signatures import png, upload
from test_inspections import body, submit

from server.blobs.store import digest


def refused_body(clock, inspector_sha: str, photo_sha: str, **refusal):
    return body(
        clock,
        {"t.alarm.works": "no"},
        signatures={
            "inspector": inspector_sha,
            "representative_name": "赵店长",
            "refusal": {"witness": "李见证（物业主管）", "photo": photo_sha} | refusal,
        },
    )


def test_a_refusal_to_sign_is_recorded_with_witness_and_photo(checklists, clock):
    inspector = checklists.login("inspector")
    mine, scene = png(), png()
    upload(inspector, mine)
    data = refused_body(clock, digest(mine), digest(scene), reason="称须请示总部，拒绝签字")
    r = inspector.post("/inspections", json=data)
    assert r.status_code == 422 and r.json()["code"] == "photo_pending"  # the photo first
    assert digest(scene)[:12] in r.json()["fields"]["signatures"]
    upload(inspector, scene)
    out = submit(inspector, data)
    assert out["signatures"]["representative"] is None
    assert out["signatures"]["refusal"] == {
        "witness": "李见证（物业主管）",
        "photo": digest(scene),
        "reason": "称须请示总部，拒绝签字",
    }
    assert inspector.post("/inspections", json=data).status_code == 200  # a retry replays
    # whoever reads the inspection may see the refusal photo
    assert checklists.login("leader").get(f"/blobs/{digest(scene)}").content == scene


def test_a_refusal_needs_witness_and_photo_and_no_signature(checklists, clock):
    inspector = checklists.login("inspector")
    sha = "ab" * 32
    cases = [
        ({"witness": "", "photo": sha}, "signatures.refusal.witness"),
        ({"witness": "王五"}, "signatures.refusal.photo"),
        ({"witness": "王五", "photo": "nothex"}, "signatures.refusal.photo"),
    ]
    for refusal, field in cases:
        data = body(
            clock,
            {"t.alarm.works": "no"},
            signatures={"inspector": sha, "refusal": refusal},
        )
        r = inspector.post("/inspections", json=data)
        assert r.status_code == 422 and r.json()["code"] == "invalid_input", r.text
        assert any(field in name for name in r.json()["fields"]), (field, r.json())
    # signed and refused at once is a contradiction
    data = body(
        clock,
        {"t.alarm.works": "no"},
        signatures={
            "inspector": sha,
            "representative": "cd" * 32,
            "refusal": {"witness": "王五", "photo": "ef" * 32},
        },
    )
    r = inspector.post("/inspections", json=data)
    assert r.status_code == 422 and "signatures.refusal" in r.json()["fields"], r.text
    # neither signed nor refused: the message names the 拒签 path
    data = body(clock, {"t.alarm.works": "no"}, signatures={"inspector": sha})
    r = inspector.post("/inspections", json=data)
    assert r.status_code == 422 and "拒签" in r.json()["message"], r.text
    assert inspector.get(f"/inspections/{uuid.uuid4()}").status_code == 404
