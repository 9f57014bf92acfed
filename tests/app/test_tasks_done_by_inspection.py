"""Home lists the inspector's tasks; an inspection submitted offline takes its task off the
list at once (as the server will decide), and after the sync the server has the task done by
that inspection."""

from __future__ import annotations

from app_helpers import DEAD_SERVER, login, sync

from server.demo import did
from shared.checklist import Template

MALL = did("site", "万达广场乌海店")


def _signed_inspection(store, template: Template) -> str:
    draft = store.open_draft(MALL, "crowded_venue", 1, "mall")
    item = next(i for i in template.items() if i.answer == "yes_no" and i.applies_to("mall"))
    store.save_answer(draft["id"], item.id, value=item.pass_when)
    store.mark_unanswered(draft["id"], "unchecked", "时间所限，下次补查")
    png = b"\x89PNG\r\n\x1a\n" + b"sig" * 20
    sig = {"inspector": store.add_blob(png + b"1"), "representative": store.add_blob(png + b"2")}
    store.save_draft_fields(draft["id"], signatures=sig, representative_name="陈安全员")
    store.submit_draft(draft["id"])
    return draft["id"]


def test_an_offline_inspection_takes_its_task_off_home(server, start_app):
    d = start_app(server.url, "tablet")
    store = d.app.backend._inner
    login(d, "inspector")
    with server.login("officer") as officer:
        plan = officer.post(
            "/plans",
            json={
                "name": "商场每日巡查", "site_ids": [MALL], "template_id": "crowded_venue",
                "template_version": 1, "frequency": "daily", "start_date": "2026-03-02",
                "district_id": "150302", "assignee_user_id": store.current_user()["id"],
            },
        )  # fmt: skip
        assert plan.status_code == 201, plan.text
    sync(d)
    home = store.home()
    mall_tasks = [t for t in home["tasks_today"] if t["site_id"] == MALL]
    assert mall_tasks, "the plan's tasks are on the tablet"

    store.set_server_url(DEAD_SERVER)
    inspection_id = _signed_inspection(store, store.template("crowded_venue", 1))
    left = [t for t in store.home()["tasks_today"] if t["site_id"] == MALL]
    assert len(left) == len(mall_tasks) - 1
    fulfilled = ({t["id"] for t in mall_tasks} - {t["id"] for t in left}).pop()
    store.set_server_url(server.url)
    sync(d)
    with server.login("officer") as officer:
        task = officer.get(f"/tasks/{fulfilled}").json()
    assert task["status"] == "done" and task["inspection_id"] == inspection_id
    after = [t for t in store.home()["tasks_today"] if t["site_id"] == MALL]
    assert {t["id"] for t in after} == {t["id"] for t in left}
