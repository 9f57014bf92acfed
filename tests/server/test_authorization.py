"""Every endpoint × every role × in and out of scope, over HTTP on both databases.
Out of scope answers 404 (no hint the record exists); a wrong role answers 403."""

from __future__ import annotations

import pytest

from server.blobs.store import digest
from server.demo import demo_png, did

MALL = did("site", "万达广场乌海店")
MINE_WUDA = did("site", "五虎山煤矿")
SUPERMARKET = did("site", "华联超市海勃湾店")
H_MALL = did("hazard", "地下车库电动自行车违规充电")  # 海勃湾, at the mall, assigned to enterprise
H_WUDA = did("hazard", "采煤工作面甲烷浓度超限仍在作业")  # 乌达
H_SUPER = did("hazard", "安全出口被货物堵塞")  # 海勃湾, not the mall

# role → (hazard in scope, hazard out of scope, site in scope, site out of scope)
SCOPES = {
    "admin": (H_WUDA, None, MINE_WUDA, None),
    "leader": (H_WUDA, None, MINE_WUDA, None),
    "officer": (H_MALL, H_WUDA, MALL, MINE_WUDA),
    "officer2": (H_WUDA, H_MALL, MINE_WUDA, MALL),
    "inspector": (H_SUPER, H_WUDA, SUPERMARKET, MINE_WUDA),
    "inspector2": (H_WUDA, H_SUPER, MINE_WUDA, SUPERMARKET),
    "enterprise": (H_MALL, H_SUPER, MALL, SUPERMARKET),
}
ROLE = {
    "admin": "admin",
    "leader": "leader",
    "officer": "officer",
    "officer2": "officer",
    "inspector": "inspector",
    "inspector2": "inspector",
    "enterprise": "enterprise",
}
CAN_REPORT = {"admin", "officer", "inspector", "enterprise"}
CAN_ASSIGN = {"admin", "officer"}


@pytest.fixture
def clients(live_demo):
    return {user: live_demo.login(user) for user in SCOPES}


def test_anonymous_gets_401_everywhere(live_demo):
    anon = live_demo.client()
    for method, path in [
        ("GET", "/me"),
        ("GET", "/districts"),
        ("GET", "/sites"),
        ("GET", f"/sites/{MALL}"),
        ("GET", "/hazards"),
        ("GET", f"/hazards/{H_MALL}"),
        ("POST", "/hazards"),
        ("POST", f"/hazards/{H_MALL}/events"),
        ("GET", f"/hazards/{H_MALL}/chain/verify"),
        ("GET", "/matters"),
        ("GET", "/matters/lpg"),
        ("GET", "/users"),
        ("POST", "/users"),
        ("PATCH", "/users/x"),
        ("POST", "/sites"),
        ("PATCH", f"/sites/{MALL}"),
        ("GET", "/devices"),
        ("POST", "/devices"),
        ("DELETE", "/devices/x"),
        ("GET", f"/blobs/{'a' * 64}"),
        ("PUT", f"/blobs/{'a' * 64}"),
        ("POST", "/auth/logout"),
    ]:
        r = anon.request(method, path, json={} if method in ("POST", "PATCH") else None)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json()["code"] == "not_authenticated"
    bad = live_demo.client("not-a-token")
    assert bad.get("/me").status_code == 401


def test_read_endpoints_by_role_and_scope(clients):
    for user, (h_in, h_out, s_in, s_out) in SCOPES.items():
        c = clients[user]
        assert c.get("/me").json()["role"] == ROLE[user]
        assert c.get("/districts").status_code == 200
        assert c.get(f"/hazards/{h_in}").status_code == 200, user
        assert c.get(f"/hazards/{h_in}/chain/verify").json()["ok"] is True
        assert c.get(f"/sites/{s_in}").status_code == 200, user
        listed = {h["id"] for h in c.get("/hazards", params={"limit": 200}).json()["items"]}
        sites = {s["id"] for s in c.get("/sites", params={"limit": 500}).json()["items"]}
        assert h_in in listed and s_in in sites
        assert c.get("/matters").status_code == 200 and c.get("/matters/ebike").status_code == 200
        if h_out:
            for path in (f"/hazards/{h_out}", f"/hazards/{h_out}/chain/verify", f"/sites/{s_out}"):
                r = c.get(path)
                assert r.status_code == 404 and r.json()["code"] == "not_found", (user, path)
            assert h_out not in listed and s_out not in sites
    # enterprise sees exactly its own site
    assert {s["id"] for s in clients["enterprise"].get("/sites").json()["items"]} == {MALL}
    # matter counts follow scope: officer2 (乌达) sees the 乌达 LPG hazard, officer does not
    use = lambda c: next(x for x in c.get("/matters/lpg").json()["links"] if x["id"] == "lpg.use")  # noqa: E731
    assert use(clients["officer2"])["open"] == 1 and use(clients["officer"])["open"] == 0
    assert use(clients["leader"])["open"] == 1


def test_reporting_by_role_and_scope(clients):
    for user, (_, _, s_in, s_out) in SCOPES.items():
        c = clients[user]
        r = c.post(
            "/hazards", json={"site_id": s_in, "title": f"{user}上报", "severity": "general"}
        )
        if ROLE[user] in CAN_REPORT:
            assert r.status_code == 201, (user, r.text)
        else:
            assert r.status_code == 403 and r.json()["code"] == "role_not_allowed", user
        if s_out:
            r = c.post("/hazards", json={"site_id": s_out, "title": "越界", "severity": "general"})
            assert r.status_code in (403, 422), user
            if ROLE[user] in CAN_REPORT:
                assert r.json()["fields"] == {"site_id": "site not found"}


def test_appending_events_by_role_and_scope(clients):
    assign = {"type": "assigned", "payload": {"responsible_unit": "u", "responsible_person": "p"}}
    for user, (h_in, h_out, _, _) in SCOPES.items():
        c = clients[user]
        target = H_SUPER if user == "enterprise" else h_in
        r = c.post(f"/hazards/{target}/events", json=assign)
        if user == "enterprise":
            assert r.status_code == 404  # the supermarket is not its site
            r = c.post(f"/hazards/{h_in}/events", json=assign)
        expected = 201 if ROLE[user] in CAN_ASSIGN else 403
        assert r.status_code == expected, (user, r.text)
        note = c.post(f"/hazards/{h_in}/events", json={"type": "note", "payload": {"text": user}})
        assert note.status_code == 201, (user, note.text)
        if h_out:
            r = c.post(f"/hazards/{h_out}/events", json={"type": "note", "payload": {"text": "x"}})
            assert r.status_code == 404, user
        sysonly = c.post(f"/hazards/{h_in}/events", json={"type": "overdue", "payload": {}})
        assert sysonly.status_code == 403 and sysonly.json()["code"] == "role_not_allowed"


def test_admin_endpoints_need_admin(clients):
    body = {
        "username": "newuser",
        "display_name": "新用户",
        "role": "inspector",
        "password": "long-enough-pw",
        "district_ids": ["150302"],
    }
    site = {
        "name": "新场所",
        "industry": "mine",
        "site_type": "open_pit",
        "district_id": "150302",
        "risk_colour": "blue",
    }
    for user, c in clients.items():
        if user == "admin":
            continue
        assert c.get("/users").status_code == 403
        assert c.post("/users", json=body).status_code == 403
        assert c.patch("/users/x", json={}).status_code == 403
        assert c.post("/sites", json=site).status_code == 403
        assert c.patch(f"/sites/{MALL}", json={"name": "x"}).status_code == 403
    admin = clients["admin"]
    created = admin.post("/users", json=body)
    assert created.status_code == 201 and created.json()["district_ids"] == ["150302"]
    assert admin.post("/users", json=body).json()["code"] == "username_taken"
    new_site = admin.post("/sites", json=site)
    assert new_site.status_code == 201
    assert (
        admin.patch(f"/sites/{new_site.json()['id']}", json={"risk_colour": "red"}).json()[
            "risk_colour"
        ]
        == "red"
    )
    assert any(u["username"] == "newuser" for u in admin.get("/users").json()["items"])


def test_blobs_and_devices_are_scoped(clients, live_demo):
    png = demo_png("scoped", (1, 2, 3))
    sha = digest(png)
    officer = clients["officer"]
    assert officer.put(f"/blobs/{sha}", content=png).status_code == 201
    r = officer.post(
        f"/hazards/{H_MALL}/events", json={"type": "photo_added", "payload": {"photos": [sha]}}
    )
    assert r.status_code == 201
    assert clients["enterprise"].get(f"/blobs/{sha}").content == png  # its site's hazard
    assert clients["leader"].get(f"/blobs/{sha}").status_code == 200
    assert clients["officer2"].get(f"/blobs/{sha}").status_code == 404  # other district
    assert clients["inspector2"].head(f"/blobs/{sha}").status_code == 404
    dev = clients["inspector"].post("/devices", json={"id": "tablet-0001", "name": "平板1"})
    assert dev.status_code == 201
    assert clients["inspector2"].delete("/devices/tablet-0001").status_code == 404
    assert clients["inspector2"].post("/devices", json={"id": "tablet-0001"}).status_code == 409
    assert [d["id"] for d in clients["inspector"].get("/devices").json()] == ["tablet-0001"]
    assert clients["admin"].delete("/devices/tablet-0001").json()["revoked_at"]
