"""``GET /plans`` is paged like every other list (``server.paging``): ``{items, next_cursor,
total}`` by a cursor that rows made meanwhile do not shift, an unknown sort key refused with
the keys there are; over real HTTP on both databases."""

from __future__ import annotations

import uuid

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo import did

MALL = did("site", "万达广场乌海店")


def test_plans_page_by_cursor(live_demo, clock):
    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    officer = live_demo.login("officer")
    tag = uuid.uuid4().hex[:6]
    made = []
    for n in range(3):
        r = officer.post(
            "/plans",
            json={"name": f"分页计划{tag}-{n}", "site_ids": [MALL], "district_id": "150302",
                  "template_id": "crowded_venue", "template_version": 1,
                  "frequency": "monthly", "start_date": "2026-03-02"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])

    seen: list[str] = []
    first = officer.get("/plans", params={"limit": 2}).json()
    total = first["total"]
    assert total >= 3 and len(first["items"]) == 2 and first["next_cursor"]
    page = first
    while True:
        seen += [p["id"] for p in page["items"]]
        if not page["next_cursor"]:
            break
        if len(seen) == 2:  # a plan made between pages neither repeats a row nor hides one
            r = officer.post(
                "/plans",
                json={"name": f"分页计划{tag}-late", "site_ids": [MALL], "district_id": "150302",
                      "template_id": "crowded_venue", "template_version": 1,
                      "frequency": "monthly", "start_date": "2026-03-02"},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
        page = officer.get("/plans", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(seen) == len(set(seen)) == total + 1 and set(made) <= set(seen)

    by_name = officer.get("/plans", params={"sort": "-name", "limit": 500}).json()["items"]
    names = [p["name"] for p in by_name]
    assert names == sorted(names, reverse=True)
    r = officer.get("/plans", params={"sort": "colour"})
    assert r.status_code == 422 and "sort" in r.json()["fields"]
    r = officer.get("/plans", params={"sort": "name", "cursor": first["next_cursor"]})
    assert r.status_code == 422 and "cursor" in r.json()["fields"]
