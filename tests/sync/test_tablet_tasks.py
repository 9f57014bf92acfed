"""The inspector's tasks reach the tablet whole, counted in the deployment's days: the tablet
used to ask for the first 500 tasks ever and count "today" in its own zone, so on a busy
server (or after 16:00 UTC, past midnight in Wuhai) Home showed none of today's work. Pages
follow the server's cursor, as every list does (``server.paging``)."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from shared.clock import SystemClock, local_date


def test_every_task_of_the_window_reaches_the_tablet_in_the_deployments_days(
    own_cli_server, tablets
):
    inspector = tablets(own_cli_server.url, "inspector", clock=SystemClock())
    assert inspector.sync().ok
    user_id = json.loads(inspector.store.meta("user"))["id"]
    with own_cli_server.login("officer") as officer:
        sites = officer.get("/sites", params={"limit": 500}).json()["items"]
        today = local_date(SystemClock().now())  # the server's zone (Asia/Shanghai)
        for n in range(1 + 520 // (len(sites) * 8)):  # more than one page of tasks
            plan = officer.post(
                "/plans",
                json={
                    "name": f"全域每日巡查 {n}", "site_ids": [s["id"] for s in sites],
                    "template_id": "crowded_venue", "template_version": 2,
                    "frequency": "daily", "start_date": today.isoformat(),
                    "assignee_user_id": user_id, "checklist_override": "专项行动，全域统一检查",
                },
            )  # fmt: skip
            assert plan.status_code == 201, plan.text
    window = {"mine": "true", "status": ["open", "missed"], "limit": 1}
    window["date_to"] = (today + timedelta(days=14)).isoformat()
    with own_cli_server.login("inspector") as me:
        total = me.get("/tasks", params=window).json()["total"]
    assert total > 500

    asked: list[str] = []  # the tablet's requests, as they went out
    inspector.client.http.hooks["response"].append(lambda r, *_a, **_k: asked.append(r.url))
    assert inspector.sync().ok
    held = [json.loads(r["data"]) for r in inspector.store.read("SELECT data FROM task")]
    assert len(held) == total and len({t["id"] for t in held}) == total
    pages = [urlsplit(u) for u in asked if urlsplit(u).path.endswith("/tasks")]
    assert len(pages) >= 2, "more than one page"
    # paged by the server's cursor (server.paging), not by an offset rows shift under
    assert all("offset" not in parse_qs(p.query) for p in pages)
    assert "cursor" not in parse_qs(pages[0].query)
    assert all(parse_qs(p.query).get("cursor") for p in pages[1:])
    todays = {t["id"] for t in held if t["scheduled_for"] == today.isoformat()}
    assert len(todays) >= len(sites), "today's task of every site, in Wuhai's day"
