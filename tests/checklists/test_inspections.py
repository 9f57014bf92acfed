"""POST/GET /inspections over HTTP on both databases: findings become hazards with their
chains, in one transaction, idempotent by the client's inspection UUID."""

from __future__ import annotations

import uuid
from datetime import timedelta

from checklist_fixtures import (
    TEMPLATE_ID,
    full_answers,
    import_test_templates,
    make_template,
    template_dict,
)

from server.demo import did
from shared.checklist import template_digest
from shared.clock import to_iso
from shared.findings import finding_hazard_id

MALL = did("site", "万达广场乌海店")  # 海勃湾区, in the inspector's scope
WUDA_SCHOOL = did("site", "乌达区第二小学")  # 乌达区, outside it
PHOTO = "ab" * 32
PHOTO2 = "cd" * 32


def body(clock, answers, complete=True, **over):
    """The payload; every item not in ``answers`` answered so that it passes, unless
    ``complete`` is False."""
    data = {
        "id": str(uuid.uuid4()),
        "site_id": MALL,
        "template_id": TEMPLATE_ID,
        "template_version": 1,
        "answers": full_answers(answers, over.get("profile")) if complete else answers,
        "photos": {},
        "notes": "例行检查",
        "started_at": to_iso(clock.now() - timedelta(hours=1)),
        "ended_at": to_iso(clock.now()),
        "location": {"lat": 39.65, "lon": 106.83, "accuracy": 12},
    }
    data.update(over)
    return data


def submit(client, data, expect=201):
    r = client.post("/inspections", json=data)
    assert r.status_code == expect, r.text
    return r.json()


def site_hazard_count(client, site=MALL) -> int:
    return client.get("/hazards", params={"site": site, "limit": 1}).json()["total"]


def test_findings_become_hazards_with_their_chains(checklists, clock):
    inspector = checklists.login("inspector")
    before = site_hazard_count(inspector)
    data = body(
        clock,
        {
            "t.exit.clear": "no",  # major, photo required
            "t.alarm.works": "no",  # general
            "t.ext.pressure": 1.4,  # the upper bound passes
            "t.drill.freq": "half_year",
            "t.note": "二楼走廊堆放杂物",
            "t.mall.shutters": "no",  # mall profile only
        },
        profile="mall",
        photos={"t.exit.clear": [PHOTO, PHOTO], "t.ext.pressure": [PHOTO2]},
    )
    out = submit(inspector, data)
    iid = data["id"]
    assert out["id"] == iid and out["finding_count"] == 3
    assert out["template_digest"] == template_digest(make_template(1))
    assert out["photos"] == {"t.exit.clear": [PHOTO], "t.ext.pressure": [PHOTO2]}
    assert out["answers"]["t.ext.pressure"] == 1.4
    assert [f["item_id"] for f in out["findings"]] == [
        "t.exit.clear",
        "t.alarm.works",
        "t.mall.shutters",
    ]
    hazards = out["hazards"]
    assert [h["id"] for h in hazards] == [
        finding_hazard_id(iid, i) for i in ("t.exit.clear", "t.alarm.works", "t.mall.shutters")
    ]
    assert [h["severity"] for h in hazards] == ["major", "general", "general"]
    assert all(h["inspection_id"] == iid and h["site_id"] == MALL for h in hazards)
    assert hazards[0]["title"] == "安全出口被封堵"
    assert hazards[0]["escalation_level"] == 1 and hazards[1]["escalation_level"] == 0

    major = inspector.get(f"/hazards/{hazards[0]['id']}").json()
    assert [e["type"] for e in major["events"]] == ["reported", "escalated"]
    reported = major["events"][0]["payload"]
    assert reported["basis"] == "重大火灾隐患判定规则（GB 35181-2025） 第5.3条"
    assert reported["item_id"] == "t.exit.clear" and reported["inspection_id"] == iid
    assert reported["deadline_days"] == 0 and reported["photos"] == [PHOTO]
    assert reported["location"] == "39.65000,106.83000 ±12m"
    assert "否（要求 是）" in reported["description"]
    assert "no (required: yes)" in reported["description"]
    assert major["events"][0]["device_time"] == data["ended_at"]
    assert major["photos"] == [PHOTO] and major["chain_ok"] is True
    general = inspector.get(f"/hazards/{hazards[1]['id']}").json()
    assert [e["type"] for e in general["events"]] == ["reported"]
    assert general["events"][0]["payload"]["deadline_days"] == 7
    assert site_hazard_count(inspector) == before + 3

    # reading it back, in scope
    assert inspector.get(f"/inspections/{iid}").json() == out
    listed = inspector.get("/inspections", params={"site": MALL}).json()
    assert [i["id"] for i in listed["items"]] == [iid] and listed["next_cursor"] is None
    assert inspector.get("/inspections", params={"site": WUDA_SCHOOL}).json()["items"] == []
    assert checklists.login("enterprise").get(f"/inspections/{iid}").status_code == 200
    assert checklists.login("leader").get(f"/inspections/{iid}").status_code == 200
    other = checklists.login("inspector2")
    assert other.get(f"/inspections/{iid}").json()["code"] == "not_found"
    assert other.get(f"/inspections/{iid}").status_code == 404
    assert other.get("/inspections").json()["items"] == []

    # a retry after a lost response: 200, the same inspection and hazards, nothing doubled
    clock.advance(minutes=5)
    again = inspector.post("/inspections", json=data)
    assert again.status_code == 200 and again.json() == out
    assert site_hazard_count(inspector) == before + 3

    # the same id with another payload, or from someone else, is refused
    changed = {**data, "answers": {**data["answers"], "t.alarm.works": "yes"}}
    reuse = inspector.post("/inspections", json=changed)
    assert reuse.status_code == 409 and reuse.json()["code"] == "id_reuse"
    assert reuse.json()["fields"] == {"id": "already used for a different inspection"}
    by_officer = checklists.login("officer").post("/inspections", json=data)
    assert by_officer.status_code == 409 and by_officer.json()["code"] == "id_reuse"
    assert site_hazard_count(inspector) == before + 3


def test_not_applicable_count_rules_and_profiles(checklists, clock):
    officer = checklists.login("officer")
    everything_na = {
        i: "na"
        for i in (
            "t.exit.clear",
            "t.alarm.works",
            "t.ext.pressure",
            "t.drill.freq",
            "t.note",
            "t.mall.shutters",
        )
    }
    reasons = dict.fromkeys(everything_na, "本次不适用：该区域停用")
    out = submit(officer, body(clock, everything_na, profile="mall", item_notes=reasons))
    assert out["finding_count"] == 0 and out["hazards"] == [] and out["findings"] == []

    out = submit(
        officer,
        body(
            clock,
            {
                "t.exit.clear": "yes",
                "t.alarm.works": "no",
                "t.ext.pressure": 0.99,  # just below the lower bound
                "t.drill.freq": "never",
                "t.mall.shutters": "no",  # no profile given: the mall-only item does not apply
            },
        ),
    )
    kinds = [(f["item_id"], f["kind"], f["severity"]) for f in out["findings"]]
    assert kinds == [
        ("t.alarm.works", "item", "general"),
        ("t.ext.pressure", "item", "general"),
        ("t.drill.freq", "item", "general"),
        ("t.rule.g", "count_rule", "major"),
    ]
    rule = officer.get(f"/hazards/{out['hazards'][3]['id']}").json()
    assert rule["title"] == "综合判定：消防设施" and rule["escalation_level"] == 1
    payload = rule["events"][0]["payload"]
    assert payload["item_id"] == "t.rule.g" and payload["deadline_days"] == 3
    assert payload["basis"].endswith("第6章")
    assert "3 项不合格" in payload["description"] and "灭火器压力" in payload["description"]
    pressure = officer.get(f"/hazards/{out['hazards'][1]['id']}").json()
    assert "0.99 MPa（要求 1.0–1.4 MPa）" in pressure["description"]


def test_refusals_store_nothing(checklists, clock):
    inspector = checklists.login("inspector")
    before = site_hazard_count(inspector)

    def refused(data, status, code, field=None, client=inspector):
        r = client.post("/inspections", json=data)
        assert r.status_code == status, r.text
        assert r.json()["code"] == code, r.text
        if field is not None:
            assert field in r.json()["fields"], r.json()
        return r.json()

    err = refused(
        body(clock, {"t.ext.pressure": "abc"}), 422, "invalid_answer", "answers.t.ext.pressure"
    )
    assert "灭火器压力" in err["message"]
    refused(body(clock, {"t.nope": "yes"}), 422, "invalid_answer", "answers.t.nope")
    refused(body(clock, {"t.drill.freq": "weekly"}), 422, "invalid_answer", "answers.t.drill.freq")
    refused(body(clock, {"t.alarm.works": "maybe"}), 422, "invalid_answer", "answers.t.alarm.works")
    refused(body(clock, {"t.exit.clear": "no"}), 422, "photo_required", "photos.t.exit.clear")
    refused(
        body(clock, {"t.alarm.works": "yes"}, photos={"t.nope": [PHOTO]}),
        422,
        "invalid_input",
        "photos.t.nope",
    )
    refused(
        body(clock, {"t.alarm.works": "yes"}, profile="school"), 422, "invalid_profile", "profile"
    )
    refused(body(clock, {}, template_version=9), 422, "unknown_template", "template_version")
    refused(body(clock, {}, template_id="nope"), 422, "unknown_template", "template_id")
    # outside the inspector's districts, or unknown: the same answer, like hazards
    refused(body(clock, {}, site_id=WUDA_SCHOOL), 422, "site_not_found", "site_id")
    refused(body(clock, {}, site_id=str(uuid.uuid4())), 422, "site_not_found", "site_id")
    # a role that does not inspect; the enterprise self-inspects, with its own checklists only
    refused(body(clock, {}), 403, "forbidden", client=checklists.login("leader"))
    ent = checklists.login("enterprise")
    refused(body(clock, {}), 403, "checklist_not_yours", "template_id", client=ent)
    # malformed payloads
    late = body(
        clock, {}, started_at=to_iso(clock.now()), ended_at=to_iso(clock.now() - timedelta(hours=1))
    )
    refused(late, 422, "invalid_input", "ended_at")
    refused(body(clock, {"t.alarm.works": True}), 422, "invalid_input")
    refused(body(clock, {}, id="not-a-uuid"), 422, "invalid_input", "id")
    refused(body(clock, {}, extra="x"), 422, "invalid_input", "extra")
    refused(body(clock, {}, location={"lat": 91, "lon": 0}), 422, "invalid_input", "location.lat")
    refused(body(clock, {}, photos={"t.alarm.works": ["nothex"]}), 422, "invalid_input")

    assert inspector.get("/inspections").json()["items"] == []
    assert site_hazard_count(inspector) == before


def test_all_or_nothing_when_the_second_hazard_fails(checklists, clock):
    inspector, officer = checklists.login("inspector"), checklists.login("officer")
    data = body(
        clock,
        {"t.exit.clear": "no", "t.alarm.works": "no"},
        photos={"t.exit.clear": [PHOTO]},
    )
    first_hid = finding_hazard_id(data["id"], "t.exit.clear")
    second_hid = finding_hazard_id(data["id"], "t.alarm.works")
    # someone else's hazard already holds the id the second finding needs
    r = officer.post(
        "/hazards",
        json={"id": second_hid, "site_id": MALL, "title": "占位", "severity": "general"},
    )
    assert r.status_code == 201
    before = site_hazard_count(inspector)

    r = inspector.post("/inspections", json=data)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "hazard_id_conflict"
    # the first hazard (reported and escalated before the failure) was rolled back with it
    assert inspector.get(f"/hazards/{first_hid}").status_code == 404
    assert inspector.get(f"/inspections/{data['id']}").status_code == 404
    assert inspector.get("/inspections").json()["items"] == []
    assert site_hazard_count(inspector) == before
    assert officer.get(f"/hazards/{second_hid}").json()["title"] == "占位"

    # the same inspection under a fresh id goes through
    out = submit(inspector, {**data, "id": str(uuid.uuid4())})
    assert out["finding_count"] == 2 and len(out["hazards"]) == 2


def test_all_or_nothing_on_an_unexpected_error(checklists, clock, monkeypatch):
    from server.hazards import service as hazard_service

    inspector = checklists.login("inspector")
    before = site_hazard_count(inspector)
    real_report = hazard_service.report
    calls = []

    def failing_report(*args, **kwargs):
        calls.append(kwargs["hazard_id"])
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_report(*args, **kwargs)

    monkeypatch.setattr(hazard_service, "report", failing_report)
    data = body(
        clock,
        {"t.exit.clear": "no", "t.alarm.works": "no"},
        photos={"t.exit.clear": [PHOTO]},
    )
    r = inspector.post("/inspections", json=data)
    assert r.status_code == 500 and len(calls) == 2
    monkeypatch.setattr(hazard_service, "report", real_report)
    inspector = checklists.login("inspector")  # the server dropped the connection after a 500
    assert inspector.get(f"/hazards/{calls[0]}").status_code == 404
    assert inspector.get(f"/inspections/{data['id']}").status_code == 404
    assert site_hazard_count(inspector) == before
    # the retry the device will make succeeds as a first submission
    assert inspector.post("/inspections", json=data).status_code == 201


def test_inspections_stay_pinned_to_their_template_version(checklists, clock):
    data = template_dict(2)
    data["sections"][0]["items"][2]["pass_rule"] = {"op": "between", "min": 1.0, "max": 1.6}
    v2 = make_template(**data)
    import_test_templates(checklists.app.state.engine, clock, v2)
    inspector = checklists.login("inspector")
    on_v1 = submit(inspector, body(clock, {"t.ext.pressure": 1.5}))
    on_v2 = submit(inspector, body(clock, {"t.ext.pressure": 1.5}, template_version=2))
    assert on_v1["finding_count"] == 1 and on_v2["finding_count"] == 0
    assert on_v1["template_version"] == 1 and on_v2["template_digest"] == template_digest(v2)
    listed = inspector.get("/inspections", params={"limit": 1}).json()
    assert len(listed["items"]) == 1 and listed["next_cursor"]
    rest = inspector.get("/inspections", params={"limit": 1, "cursor": listed["next_cursor"]})
    assert {listed["items"][0]["id"], rest.json()["items"][0]["id"]} == {on_v1["id"], on_v2["id"]}


def test_concurrent_retries_store_one_inspection(checklists, clock):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    clients = [checklists.login("inspector") for _ in range(2)]
    before = site_hazard_count(clients[0])
    rounds = 3
    for _ in range(rounds):
        data = body(
            clock,
            {"t.exit.clear": "no", "t.alarm.works": "no"},
            photos={"t.exit.clear": [PHOTO]},
        )
        barrier = Barrier(2)

        def post(client, data=data, barrier=barrier):
            barrier.wait()
            return client.post("/inspections", json=data)

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(post, clients))
        assert sorted(r.status_code for r in responses) == [200, 201], [r.text for r in responses]
        assert responses[0].json()["hazards"] == responses[1].json()["hazards"]
    assert site_hazard_count(clients[0]) == before + 2 * rounds
    assert len(clients[0].get("/inspections").json()["items"]) == rounds
