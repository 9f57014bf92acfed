"""Bad input of every kind gets a 4xx with a field-level message; never a 500."""

from __future__ import annotations

import json

import pytest

from server.demo import did
from shared.sync_wire import MAX_JSON_DEPTH

MALL = did("site", "万达广场乌海店")
H_MALL = did("hazard", "地下车库电动自行车违规充电")

REPORT_CASES = [
    ({"site_id": MALL, "title": "t", "severity": "catastrophic"}, "severity"),
    ({"site_id": MALL, "title": 123, "severity": "general"}, "title"),
    ({"site_id": MALL, "title": "x" * 201, "severity": "general"}, "title"),
    ({"site_id": MALL, "title": "t\x00nul", "severity": "general"}, "title"),
    ({"site_id": MALL, "title": "lone \ud800 surrogate", "severity": "general"}, "title"),
    ({"site_id": MALL, "title": "t", "severity": "general", "id": "not-a-uuid"}, "id"),
    ({"site_id": MALL, "title": "t", "severity": "general", "photos": ["xyz"]}, "photos.0"),
    (
        {"site_id": MALL, "title": "t", "severity": "general", "description": "长" * 4001},
        "description",
    ),
    ({"site_id": "x" * 37, "title": "t", "severity": "general"}, "site_id"),
    ({"site_id": "nope", "title": "t", "severity": "general"}, "site_id"),
    ({"site_id": MALL, "title": "t", "severity": "general", "matter_id": "gas"}, "matter_id"),
    (
        {
            "site_id": MALL,
            "title": "t",
            "severity": "general",
            "matter_id": "lpg",
            "link_id": "ebike.sale",
        },
        "link_id",
    ),
    ({"title": "t", "severity": "general"}, "site_id"),
    ([1, 2, 3], "body"),
]


def test_report_bad_input(live_demo):
    c = live_demo.login("officer")
    for body, field in REPORT_CASES:
        # json.dumps escapes lone surrogates as \\ud800, as a buggy client would send them
        r = c.post(
            "/hazards", content=json.dumps(body), headers={"content-type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
        data = r.json()
        assert data["code"] and data["message"], body
        assert field in data["fields"], (body, data)
    raw = c.post("/hazards", content=b'{"site_id": ', headers={"content-type": "application/json"})
    assert raw.status_code == 422 and raw.json()["code"] == "invalid_input"
    # odd but valid Unicode is kept exactly (NFC), emoji and RTL included
    ok = c.post(
        "/hazards", json={"site_id": MALL, "title": "火灾🔥 ‏עברית e\u0301", "severity": "general"}
    )
    assert ok.status_code == 201 and ok.json()["title"] == "火灾🔥 ‏עברית é"


EVENT_CASES = [
    ({"type": "teleported", "payload": {}}, "type"),
    ({"type": "assigned", "payload": {"responsible_unit": "u"}}, "responsible_person"),
    (
        {"type": "assigned", "payload": {"responsible_unit": "u", "responsible_person": ["p"]}},
        "responsible_person",
    ),
    (
        {
            "type": "assigned",
            "payload": {"responsible_unit": "u", "responsible_person": "p", "deadline": "tomorrow"},
        },
        "deadline",
    ),
    (
        {
            "type": "assigned",
            "payload": {
                "responsible_unit": "u",
                "responsible_person": "p",
                "deadline": "2001-01-01T00:00:00Z",
            },
        },
        "deadline",
    ),
    (
        {
            "type": "assigned",
            "payload": {"responsible_unit": "x" * 4001, "responsible_person": "p"},
        },
        "responsible_unit",
    ),
    (
        {
            "type": "assigned",
            "payload": {
                "responsible_unit": "u",
                "responsible_person": "p",
                "responsible_user_id": "ghost",
            },
        },
        "responsible_user_id",
    ),
    ({"type": "note", "payload": {"text": "\x07bell"}}, "text"),
    ({"type": "note", "payload": {"text": "   "}}, "text"),
    ({"type": "note", "payload": "not an object"}, "payload"),
    ({"type": "photo_added", "payload": {"photos": "ab"}}, "photos"),
    ({"type": "escalated", "payload": {"level": "high"}}, "level"),
    ({"type": "escalated", "payload": {"level": 9}}, "level"),
    ({"type": "note", "payload": {"text": "x"}, "id": "123"}, "id"),
    ({"type": "reported", "payload": {}}, "type"),
]


def test_event_bad_input(live_demo):
    c = live_demo.login("officer")
    for body, field in EVENT_CASES:
        r = c.post(f"/hazards/{H_MALL}/events", json=body)
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)
        assert field in r.json()["fields"], (body, r.json())
    assert c.get(f"/hazards/{H_MALL}").json()["event_count"] == 2  # nothing was written


@pytest.mark.parametrize(
    "path",
    [
        "/hazards?severity=huge",
        "/hazards?state=sleeping",
        "/hazards?limit=0",
        "/hazards?limit=100000",
        "/hazards?overdue=perhaps",
        "/hazards?cursor=%%%",
        "/hazards?cursor=WzEsMl0",
        "/sites?industry=bakery",
        "/sites?offset=-1",
        "/hazards/" + "9" * 300,
    ],
)
def test_query_bad_input(live_demo, path):
    r = live_demo.login("officer").get(path)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["code"] in ("invalid_input", "invalid_cursor", "not_found")


def test_admin_bad_input(live_demo):
    admin = live_demo.login("admin")
    cases = [
        (
            {
                "username": "a b",
                "display_name": "x",
                "role": "inspector",
                "password": "long-enough",
                "district_ids": ["150302"],
            },
            "username",
        ),
        (
            {"username": "abc", "display_name": "x", "role": "god", "password": "long-enough"},
            "role",
        ),
        (
            {"username": "abc", "display_name": "x", "role": "system", "password": "long-enough"},
            "role",
        ),
        (
            {"username": "abc", "display_name": "x", "role": "inspector", "password": "short"},
            "password",
        ),
        (
            {
                "username": "abc",
                "display_name": "x",
                "role": "inspector",
                "password": "long-enough",
            },
            "district_ids",
        ),
        (
            {
                "username": "abc",
                "display_name": "x",
                "role": "enterprise",
                "password": "long-enough",
            },
            "site_ids",
        ),
        (
            {
                "username": "abc",
                "display_name": "x",
                "role": "inspector",
                "password": "long-enough",
                "district_ids": ["999"],
            },
            "district_ids",
        ),
    ]
    for body, field in cases:
        r = admin.post("/users", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in r.json()["fields"], (body, r.json())
    assert admin.post(
        "/sites",
        json={
            "name": "s",
            "industry": "mine",
            "site_type": "open_pit",
            "district_id": "nowhere",
            "risk_colour": "blue",
        },
    ).json()["fields"] == {"district_id": "unknown district"}
    assert admin.patch("/users/nobody", json={"active": False}).status_code == 404


def test_english_messages_on_request(live_demo):
    c = live_demo.login("officer")
    c.headers["Accept-Language"] = "en-GB"
    r = c.post(f"/hazards/{H_MALL}/events", json={"type": "verified", "payload": {}})
    assert (
        r.status_code == 409
        and r.json()["message"] == "cannot append 'Verified' while the hazard is assigned"
    )


# ---------------------------------------------------------------- what a red team got 500s with


def test_deeply_nested_push_is_refused(live_demo):
    """Past the JSON parser's own stack (RecursionError, was a 500) and past the depth any op
    needs: 422 naming the body."""
    c = live_demo.login("inspector")
    headers = {"content-type": "application/json"}
    for depth in (100_000, MAX_JSON_DEPTH + 1):
        raw = '{"device_id": "tablet-deep-01", "schema_version": 1, "ops": ' + "[" * depth
        raw += "]" * depth + "}"
        r = c.post("/sync/push", content=raw, headers=headers)
        assert r.status_code == 422, (depth, r.text)
        assert "body" in r.json()["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/notifications?offset=100000000000000000000",
        "/tasks?offset=9223372036854775808",
        "/sites?offset=1000001",
    ],
)
def test_huge_offsets_are_refused_with_a_field(live_demo, path):
    """PostgreSQL's OFFSET is a bigint: an unbounded one overflowed it into a 500."""
    r = live_demo.login("officer").get(path)
    assert r.status_code == 422, r.text
    assert "offset" in r.json()["fields"]


@pytest.mark.parametrize("header", ["Upload-Offset", "Upload-Length"])
def test_non_ascii_digits_in_upload_headers(live_demo, header):
    """``'²'.isdigit()`` is True and ``int('²')`` raises: a 500 before. (Byte 0xB2 is '²'
    in the Latin-1 that HTTP headers are read as.)"""
    headers = {"Upload-Offset": b"0", "Upload-Length": b"10", header: b"1\xb2"}
    r = live_demo.login("inspector").patch(f"/blobs/{'a' * 64}", content=b"x", headers=headers)
    assert r.status_code == 400, r.text
    assert header in r.json()["fields"]


def test_null_in_a_partial_update_names_the_field(live_demo):
    """``"role": null`` set the role to ``"None"`` (a 500); a null name hit NOT NULL."""
    admin = live_demo.login("admin")
    user_id = next(
        u["id"]
        for u in admin.get("/users", params={"q": "inspector"}).json()["items"]
        if u["username"] == "inspector"
    )
    for path, body, field in [
        (f"/users/{user_id}", {"role": None}, "role"),
        (f"/users/{user_id}", {"display_name": None, "unit": "u"}, "display_name"),
        (f"/sites/{MALL}", {"name": None}, "name"),
    ]:
        r = admin.patch(path, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in r.json()["fields"], (body, r.json())
    me = live_demo.login("inspector").get("/me").json()
    assert me["role"] == "inspector" and me["display_name"] == "张检查"
