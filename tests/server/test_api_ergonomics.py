"""One list style over real HTTP: cursor pages (old offsets still answered), sort keys checked,
date ranges and ``updated_since``, site and district names on items, field messages in the
caller's language, and a token from JSON as well as the form."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

WUHAI = ZoneInfo("Asia/Shanghai")


def _all(http, path: str, **params) -> list[dict]:
    """Every item, following next_cursor."""
    seen, cursor = [], None
    while True:
        r = http.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return seen


def test_token_from_json_or_form_and_field_messages_in_the_callers_language(live_demo):
    with live_demo.client() as anon:
        form = anon.post("/auth/token", data={"username": "officer", "password": "demo-password"})
        js = anon.post("/auth/token", json={"username": "officer", "password": "demo-password"})
        assert form.status_code == js.status_code == 200, js.text
        assert js.json()["user"]["username"] == "officer" and js.json()["access_token"]
        wrong = anon.post("/auth/token", json={"username": "officer", "password": "nope-nope"})
        assert wrong.status_code == 401
        missing = anon.post("/auth/token", json={"username": "officer"})
        assert missing.status_code == 422 and missing.json()["fields"] == {"password": "必填"}
        en = anon.post(
            "/auth/token", json={"username": "officer"}, headers={"Accept-Language": "en-GB"}
        )
        assert en.json()["fields"] == {"password": "Field required"}
        assert (
            anon.post(
                "/auth/token", content=b"{", headers={"Content-Type": "application/json"}
            ).status_code
            == 422
        )
        assert anon.post("/auth/token", json=["officer"]).status_code == 422
    leader = live_demo.login("leader")
    zh = leader.get("/hazards", params={"limit": 0}).json()
    assert zh["fields"] == {"limit": "不能小于1"} and zh["message"] == "输入有误，请检查标出的字段"
    en = leader.get("/hazards", params={"limit": 0}, headers={"Accept-Language": "en"}).json()
    assert en["fields"] == {"limit": "Input should be greater than or equal to 1"}
    bad_enum = leader.get("/hazards", params={"severity": "huge"}).json()["fields"]["severity"]
    assert bad_enum == "取值无效，可选：general、major"


@pytest.mark.parametrize(
    "path", ["/hazards", "/inspections", "/tasks", "/sites", "/users", "/notifications"]
)
def test_every_list_pages_by_cursor(live_demo, path):
    admin = live_demo.login("admin")
    whole = admin.get(path, params={"limit": 200})
    assert whole.status_code == 200, whole.text
    assert "next_cursor" in whole.json() and "total" in whole.json()
    everything = [i["id"] for i in whole.json()["items"]]
    assert [i["id"] for i in _all(admin, path, limit=2)] == everything
    assert whole.json()["total"] == len(everything)


@pytest.mark.parametrize("path", ["/hazards", "/inspections", "/tasks", "/sites", "/users"])
def test_unknown_sort_keys_are_refused_by_field(live_demo, path):
    admin = live_demo.login("admin")
    r = admin.get(path, params={"sort": "password"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_sort"
    assert "password" in r.json()["fields"]["sort"]
    en = admin.get(path, params={"sort": "-nope"}, headers={"Accept-Language": "en"}).json()
    assert en["message"].startswith("unknown sort key 'nope'")


def test_sorts_and_old_offsets(live_demo):
    leader = live_demo.login("leader")
    newest = [h["id"] for h in _all(leader, "/hazards", limit=5)]
    oldest = [h["id"] for h in _all(leader, "/hazards", limit=5, sort="reported_at")]
    assert len(newest) >= 16 and sorted(newest) == sorted(oldest)
    stamps = [h["reported_at"] for h in _all(leader, "/hazards", limit=7, sort="reported_at")]
    assert stamps == sorted(stamps)
    titles = [h["title"] for h in _all(leader, "/hazards", limit=4, sort="-title")]
    assert titles == sorted(titles, reverse=True)
    a_to_z = [s["name"] for s in leader.get("/sites", params={"limit": 500}).json()["items"]]
    assert a_to_z == sorted(a_to_z)
    # the old offset still pages, for clients of the last release (the tablet's task pages)
    second = leader.get("/sites", params={"limit": 5, "offset": 5}).json()["items"]
    assert [s["name"] for s in second] == a_to_z[5:10]
    # a cursor is for the sort it was made for
    c = leader.get("/hazards", params={"limit": 2}).json()["next_cursor"]
    r = leader.get("/hazards", params={"limit": 2, "cursor": c, "sort": "title"})
    assert r.status_code == 422 and "cursor" in r.json()["fields"]


def test_items_carry_site_and_district_names(cli_server):
    """On the README-built server, whose demo holds inspections (its checklists imported)."""
    leader = cli_server.login("leader")
    sites = {s["id"]: s for s in leader.get("/sites", params={"limit": 500}).json()["items"]}
    districts = {d["id"]: d for d in leader.get("/districts").json()}
    for path in ("/hazards", "/inspections"):
        items = leader.get(path, params={"limit": 200}).json()["items"]
        assert items, path
        for i in items:
            assert i["site_name"] == sites[i["site_id"]]["name"]
            assert i["district_name"] == districts[i["district_id"]]["name"]
    en = leader.get("/hazards", params={"limit": 5}, headers={"Accept-Language": "en"}).json()
    assert all(i["district_name"] == districts[i["district_id"]]["name_en"] for i in en["items"])


def _local_day(stamp: str) -> str:
    return datetime.fromisoformat(stamp).astimezone(WUHAI).date().isoformat()


def test_date_ranges_and_updated_since(cli_server):
    leader = cli_server.login("leader")
    hazards = _all(leader, "/hazards", limit=200)
    days = sorted({_local_day(h["reported_at"]) for h in hazards})
    assert len(days) >= 2
    day = days[len(days) // 2]
    on_day = _all(leader, "/hazards", limit=200, date_from=day, date_to=day)
    assert {h["id"] for h in on_day} == {
        h["id"] for h in hazards if _local_day(h["reported_at"]) == day
    }
    since_day = _all(leader, "/hazards", limit=200, date_from=day)
    assert {h["id"] for h in since_day} == {
        h["id"] for h in hazards if _local_day(h["reported_at"]) >= day
    }
    stamps = sorted(h["updated_at"] for h in hazards)
    mid = stamps[len(stamps) // 2]
    changed = _all(leader, "/hazards", limit=200, updated_since=mid)
    assert {h["id"] for h in changed} == {
        h["id"]
        for h in hazards
        if datetime.fromisoformat(h["updated_at"]) > datetime.fromisoformat(mid)
    }
    backwards = leader.get("/hazards", params={"date_from": days[-1], "date_to": days[0]})
    assert backwards.status_code == 422 and "date_to" in backwards.json()["fields"]
    assert leader.get("/hazards", params={"date_from": "yesterday"}).json()["fields"].keys() == {
        "date_from"
    }

    inspections = _all(leader, "/inspections", limit=200)
    assert inspections
    day = _local_day(inspections[0]["ended_at"])
    got = _all(leader, "/inspections", limit=200, date_from=day, date_to=day)
    assert {i["id"] for i in got} == {
        i["id"] for i in inspections if _local_day(i["ended_at"]) == day
    }
    latest = max(i["submitted_at"] for i in inspections)
    assert _all(leader, "/inspections", updated_since=latest) == []

    tasks = _all(leader, "/tasks", limit=200)
    if tasks:  # the demo's plans schedule tasks; the window reads scheduled_for
        day = tasks[0]["scheduled_for"]
        got = _all(leader, "/tasks", limit=200, date_from=day, date_to=day)
        assert {t["id"] for t in got} == {t["id"] for t in tasks if t["scheduled_for"] == day}
        latest = max(t["updated_at"] for t in tasks)
        assert _all(leader, "/tasks", updated_since=latest) == []
