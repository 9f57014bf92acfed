"""Hazard list filters and keyset pages, site search, matter views."""

from __future__ import annotations

from server.demo import did


def test_keyset_pages_cover_everything_once(live_demo):
    leader = live_demo.login("leader")
    everything = leader.get("/hazards", params={"limit": 200}).json()
    assert everything["total"] == len(everything["items"]) >= 16
    seen, cursor = [], None
    while True:
        page = leader.get(
            "/hazards", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [h["id"] for h in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [h["id"] for h in everything["items"]]
    stamps = [h["reported_at"] for h in everything["items"]]
    assert stamps == sorted(stamps, reverse=True)


def test_filters(live_demo, clock):
    leader = live_demo.login("leader")

    def ids(**params):
        return {
            h["id"] for h in leader.get("/hazards", params={"limit": 200, **params}).json()["items"]
        }

    majors = ids(severity="major")
    assert did("hazard", "液氯储罐区未设置独立安全仪表系统") in majors
    assert all(
        h["severity"] == "major"
        for h in leader.get("/hazards", params={"severity": "major"}).json()["items"]
    )
    assert ids(state=["closed"]) == {did("hazard", "厨房燃气未安装泄漏报警装置")}
    assert ids(state=["cancelled", "closed"]) == ids(state=["closed"]) | {
        did("hazard", "氧气汇流排间门未上锁")
    }
    overdue = ids(overdue="true")
    assert (
        did("hazard", "安全出口被货物堵塞") in overdue
        and did("hazard", "采煤工作面甲烷浓度超限仍在作业") in overdue
    )
    assert not overdue & ids(overdue="false")
    assert ids(escalated="true") == majors  # majors are escalated at report
    wuda = leader.get("/hazards", params={"district": "150304"}).json()["items"]
    assert wuda and all(h["district_id"] == "150304" for h in wuda)
    assert ids(district="150300") == ids()  # the city includes its districts
    assert ids(matter="ebike") == {did("hazard", "地下车库电动自行车违规充电")}
    assert ids(matter="lpg", link="lpg.use") == {
        did("hazard", "后厨液化气钢瓶与灶具间距不足"),
        did("hazard", "厨房燃气未安装泄漏报警装置"),
    }
    assert ids(q="卷帘") == {did("hazard", "防火卷帘门下堆放杂物")}
    assert ids(q="100%_") == set()  # LIKE wildcards are literal
    assert ids(site=did("site", "万达广场乌海店"), industry="crowded_venue") == ids(
        site=did("site", "万达广场乌海店")
    )
    ent = live_demo.login("enterprise")
    mine = {h["id"] for h in ent.get("/hazards", params={"mine": "true"}).json()["items"]}
    assert did("hazard", "地下车库电动自行车违规充电") in mine


def test_sites_search_and_matter_view(live_demo):
    officer = live_demo.login("officer")
    page = officer.get("/sites", params={"industry": "crowded_venue", "name": "乌海"}).json()
    assert page["total"] == len(page["items"]) > 0
    assert all(s["district_id"] == "150302" and "乌海" in s["name"] for s in page["items"])
    red = officer.get("/sites", params={"risk": "red"}).json()["items"]
    assert [s["name"] for s in red] == ["千里山工业园氯碱化工"]
    lpg = live_demo.login("leader").get("/matters/lpg").json()
    assert [link["name"] for link in lpg["links"]] == [
        "充装",
        "储存",
        "运输配送",
        "销售",
        "使用（餐饮）",
        "钢瓶检验报废",
    ]
    assert all(link["department"] for link in lpg["links"])
    storage = next(link for link in lpg["links"] if link["id"] == "lpg.storage")
    assert storage["open"] == 1 and storage["major_open"] == 1
    assert lpg["open"] == sum(link["open"] for link in lpg["links"])
    assert live_demo.login("leader").get("/matters/nothing").status_code == 404
