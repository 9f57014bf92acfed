"""The inspector's item notes, written descriptions and signatures (签字确认) on an inspection,
over HTTP and sync on both databases: signature images must be on the server before the
inspection is accepted, and then they are stored, served, visible in scope and kept by the GC."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from checklist_fixtures import import_test_templates
from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, select
from test_inspections import PHOTO, body, submit

from server.auth.scope import scope_of
from server.blobs.scheduled import gc_orphan_blobs
from server.blobs.store import BlobStore, digest
from server.context import Caller
from server.demo import demo_png
from server.hazards.models import Attachment
from server.inspections import service as inspections
from server.inspections.models import Inspection
from server.inspections.schemas import InspectionSubmit
from server.migrate import downgrade, upgrade
from server.uow import unit_of_work
from server.users.models import User
from shared.findings import finding_hazard_id


def png() -> bytes:
    """A real PNG no other test uploads (the blob store is shared between tests)."""
    return demo_png(uuid.uuid4().hex, (20, 20, 20))


def upload(client, data: bytes) -> str:
    sha = digest(data)
    r = client.put(f"/blobs/{sha}", content=data)
    assert r.status_code == 201, r.text
    return sha


def signed_body(clock, inspector_sha: str, representative_sha: str, **over):
    """Fails the exit (major, with a photo) and the alarm; notes on a failed and a passed item."""
    data = body(
        clock,
        {"t.exit.clear": "no", "t.alarm.works": "no", "t.ext.pressure": 1.2},
        photos={"t.exit.clear": [PHOTO]},
        item_notes={"t.exit.clear": "东侧出口", "t.ext.pressure": "压力表读数1.2"},
        descriptions={"t.exit.clear": "  东侧安全出口被货物堵塞  ", "t.alarm.works": "   "},
        signatures={
            "inspector": inspector_sha,
            "representative": representative_sha,
            "representative_name": "陈安全员",
        },
    )
    data.update(over)
    return data


def test_signatures_must_be_uploaded_then_everything_is_stored_and_served(
    checklists, clock, settings
):
    inspector = checklists.login("inspector")
    mine, theirs = png(), png()
    data = signed_body(clock, digest(mine), digest(theirs))

    r = inspector.post("/inspections", json=data)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "photo_pending"
    assert digest(mine)[:12] in r.json()["fields"]["signatures"]
    assert digest(theirs)[:12] in r.json()["fields"]["signatures"]
    upload(inspector, mine)
    r = inspector.post("/inspections", json=data)
    assert r.status_code == 422 and r.json()["code"] == "photo_pending"
    assert r.json()["fields"]["signatures"] == f"not yet uploaded: {digest(theirs)[:12]}"
    assert inspector.get(f"/inspections/{data['id']}").status_code == 404  # nothing stored

    upload(inspector, theirs)
    out = submit(inspector, data)
    assert out["signatures"] == data["signatures"] | {"refusal": None}  # no 拒签
    assert out["item_notes"] == data["item_notes"]
    assert out["descriptions"] == {"t.exit.clear": "东侧安全出口被货物堵塞"}  # blank: none
    assert inspector.get(f"/inspections/{data['id']}").json() == out
    assert inspector.post("/inspections", json=data).status_code == 200  # a retry replays

    exit_hazard = inspector.get(f"/hazards/{finding_hazard_id(data['id'], 't.exit.clear')}")
    assert exit_hazard.json()["description"] == "东侧安全出口被货物堵塞"
    alarm = inspector.get(f"/hazards/{finding_hazard_id(data['id'], 't.alarm.works')}").json()
    assert "否（要求 是）" in alarm["description"] and "\n" in alarm["description"]

    # whoever may read the inspection may fetch its signatures; nobody else
    for sha in (digest(mine), digest(theirs)):
        assert checklists.login("leader").get(f"/blobs/{sha}").content in (mine, theirs)
        assert checklists.login("inspector2").get(f"/blobs/{sha}").status_code == 404

    # the orphan clean-up keeps what an inspection cites
    engine = checklists.app.state.engine
    with Session(engine) as s:
        store = BlobStore(settings.blob_dir)
        gc_orphan_blobs(s, store, clock.now() + timedelta(days=30), days=7)
        kept = s.exec(
            select(Attachment.sha256).where(Attachment.sha256.in_([digest(mine), digest(theirs)]))
        ).all()
    assert sorted(kept) == sorted([digest(mine), digest(theirs)])


def test_a_count_rule_may_carry_a_written_description(checklists, clock):
    officer = checklists.login("officer")
    answers = {"t.alarm.works": "no", "t.ext.pressure": 0.99, "t.drill.freq": "never"}
    data = body(clock, answers, descriptions={"t.rule.g": "消防设施整体失效"})
    out = submit(officer, data)
    rule = officer.get(f"/hazards/{finding_hazard_id(data['id'], 't.rule.g')}").json()
    assert rule["description"] == "消防设施整体失效" and out["signatures"] is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"item_notes": {"t.nope": "x"}}, "item_notes.t.nope"),
        ({"item_notes": {"t.rule.g": "x"}}, "item_notes.t.rule.g"),  # a rule is not an item
        ({"descriptions": {"t.nope": "x"}}, "descriptions.t.nope"),
        ({"item_notes": {"t.alarm.works": "x" * 2001}}, "item_notes.t.alarm.works"),
        ({"signatures": {"inspector": "nothex", "representative": "ab" * 32}}, "inspector"),
        ({"signatures": {"inspector": "ab" * 32}}, "signatures.representative"),
        ({"signatures": {"inspector": "ab" * 32, "representative": "cd" * 32, "x": 1}}, "x"),
        (
            {
                "signatures": {
                    "inspector": "ab" * 32,
                    "representative": "cd" * 32,
                    "representative_name": "名" * 101,
                }
            },  # fmt: skip
            "signatures.representative_name",
        ),
    ],
)
def test_bad_notes_descriptions_and_signatures_are_refused(checklists, clock, over, field):
    inspector = checklists.login("inspector")
    data = body(clock, {"t.alarm.works": "no"}, **over)
    r = inspector.post("/inspections", json=data)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_input"
    assert any(field in name for name in r.json()["fields"]), r.json()
    assert inspector.get(f"/inspections/{data['id']}").status_code == 404


def test_sync_push_waits_for_the_signatures(checklists, clock):
    inspector = checklists.login("inspector")
    mine, theirs = png(), png()
    data = signed_body(clock, digest(mine), digest(theirs))
    upload(inspector, mine)

    def push(seq: int, op_id: str) -> dict:
        op = {"op_id": op_id, "device_seq": seq, "type": "inspection.submit", "payload": data}
        r = inspector.post(
            "/sync/push",
            json={"device_id": "tablet-sign-01", "schema_version": 1, "ops": [op]},
        )
        assert r.status_code == 200, r.text
        return r.json()

    op_id = str(uuid.uuid4())
    answer = push(1, op_id)
    result = answer["results"][0]
    assert result["status"] == "missing_blob" and result["code"] == "missing_blob"
    assert result["data"]["missing_blobs"] == [PHOTO, digest(theirs)]  # the item photo too
    assert "signatures" in result["fields"]
    assert answer["stopped"]["reason"] == "missing_blob" and answer["last_seq"] == 0
    assert inspector.get(f"/inspections/{data['id']}").status_code == 404

    upload(inspector, theirs)
    result = push(1, op_id)["results"][0]
    assert result["status"] == "applied", result
    assert result["data"]["pending_blobs"] == [PHOTO]  # item photos may still follow
    stored = inspector.get(f"/inspections/{data['id']}").json()
    assert stored["signatures"]["representative"] == digest(theirs)


def test_a_payload_without_the_new_fields_hashes_as_before():
    """Stored before notes, descriptions and signatures existed: a retry must still replay."""
    data = {
        "id": "6f1c2f0e-9a53-4f4b-8a59-3b0b7c2f1e10",
        "site_id": "s",
        "template_id": "test_fire",
        "template_version": 1,
        "answers": {"t.alarm.works": "no"},
        "started_at": "2026-03-02T01:00:00Z",
        "ended_at": "2026-03-02T02:00:00Z",
    }
    # the digest the server stored for this payload before the three fields were added
    before = "db2b6303b8c3848ba07a02d339ac5705eae41176f41334a70082fc2dbbb25298"
    assert InspectionSubmit.model_validate(data).sha256() == before
    blank = {"item_notes": {"t.alarm.works": " "}, "descriptions": {}, "signatures": None}
    assert InspectionSubmit.model_validate({**data, **blank}).sha256() == before
    noted = InspectionSubmit.model_validate({**data, "item_notes": {"t.alarm.works": "x"}})
    assert noted.sha256() != before


def test_migration_gives_earlier_inspections_empty_notes(db_url, demo, clock):
    import_test_templates(demo, clock)
    with unit_of_work(demo) as s:  # the test is the edge that commits
        user = s.exec(select(User).where(User.username == "inspector")).one()
        data = body(clock, {"t.alarm.works": "no"}, photos={})
        done = inspections.submit(
            s, Caller(user, scope_of(s, user)), InspectionSubmit(**data), now=clock.now()
        )
        digest_before = done.inspection.payload_sha256
    demo.dispose()
    downgrade(db_url, "0006-1")
    columns = {c["name"] for c in sa_inspect(demo).get_columns("inspection")}
    assert "signatures" not in columns and "item_notes" not in columns
    demo.dispose()
    upgrade(db_url)
    with Session(demo) as s:
        row = s.get(Inspection, data["id"])
        assert (row.item_notes, row.descriptions, row.signatures) == ({}, {}, None)
        assert row.payload_sha256 == digest_before
