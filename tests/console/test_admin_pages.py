"""Users, sites and inspection plans through the admin pages (SQLite and PostgreSQL)."""

from __future__ import annotations

import re

from console_helpers import MALL
from sqlmodel import Session, select

from server.checklists.service import DEFAULT_ROOT, import_into
from server.plans.models import InspectionPlan
from server.sites.models import Site
from server.users.models import User


def test_admin_creates_and_edits_a_user(console, live_demo):
    admin = console("admin")
    r = admin.post_form(
        "/console/admin/users",
        {"username": "officer9", "display_name": "周监管", "role": "officer",
         "password": "long-enough-1", "district_ids": ["150303"]},
        from_page="/console/admin/users",
    )  # fmt: skip
    assert r.status_code == 303
    assert "周监管" in admin.get("/console/admin/users").text
    assert console().login("officer9", "long-enough-1").get("/console/queue").status_code == 200
    r = admin.post_form(
        "/console/admin/users",
        {"username": "x", "display_name": "短", "role": "officer", "password": "short"},
        from_page="/console/admin/users",
    )
    assert r.status_code == 422 and "输入有误" in r.text and "password" in r.text
    r = admin.post_form(
        "/console/admin/users",
        {
            "username": "officer10",
            "display_name": "无辖区",
            "role": "officer",
            "password": "long-enough-1",
        },
        from_page="/console/admin/users",
    )
    assert r.status_code == 422 and "该角色必须指定辖区" in r.text
    with Session(live_demo.app.state.engine) as s:
        uid = s.exec(select(User.id).where(User.username == "officer9")).one()
    r = admin.post_form(
        f"/console/admin/users/{uid}",
        {
            "display_name": "周监管",
            "role": "officer",
            "district_ids": ["150303"],
        },  # active unticked
        from_page=f"/console/admin/users/{uid}",
    )
    assert r.status_code == 303
    with Session(live_demo.app.state.engine) as s:
        assert s.get(User, uid).active is False


def test_admin_creates_and_edits_a_site(console, live_demo):
    admin = console("admin")
    r = admin.post_form(
        "/console/admin/sites",
        {"name": "海勃湾新建商场", "industry": "crowded_venue", "site_type": "mall",
         "district_id": "150302", "risk_colour": "yellow", "address": "海勃湾区滨河路"},
        from_page="/console/admin/sites",
    )  # fmt: skip
    assert r.status_code == 303
    assert "海勃湾新建商场" in admin.get("/console/admin/sites?name=新建").text
    r = admin.post_form(
        f"/console/admin/sites/{MALL}",
        {"name": "万达广场乌海店", "industry": "crowded_venue", "site_type": "mall",
         "district_id": "150302", "risk_colour": "red", "active": "yes"},
        from_page=f"/console/admin/sites/{MALL}",
    )  # fmt: skip
    assert r.status_code == 303
    with Session(live_demo.app.state.engine) as s:
        assert s.get(Site, MALL).risk_colour == "red"
    r = admin.post_form(
        "/console/admin/sites",
        {"name": "坏场所", "industry": "mine", "site_type": "mall", "district_id": "nowhere",
         "risk_colour": "red"},
        from_page="/console/admin/sites",
    )  # fmt: skip
    assert r.status_code == 422 and "辖区不存在" in r.text


def test_officer_makes_and_stops_an_inspection_plan(console, live_demo, clock):
    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    officer = console("officer")
    page = officer.get("/console/plans").text
    latest = max(int(v) for v in re.findall(r"crowded_venue@(\d+)", page))  # the form offers it
    assert "新建检查计划" in page and latest >= 2
    r = officer.post_form(
        "/console/plans",
        {"name": "商场每周消防检查", "template": f"crowded_venue@{latest}", "frequency": "weekly",
         "interval": "1", "start_date": "2026-03-02", "site_ids": [MALL]},
        from_page="/console/plans",
    )  # fmt: skip
    assert r.status_code == 303, r.text[:1000]
    with Session(live_demo.app.state.engine) as s:
        plan = s.exec(select(InspectionPlan)).one()
    assert plan.site_ids == [MALL] and plan.generated_until is not None
    r = officer.post_form(
        f"/console/plans/{plan.id}/active", {"active": "no"}, from_page="/console/plans"
    )
    assert r.status_code == 303
    with Session(live_demo.app.state.engine) as s:
        assert s.get(InspectionPlan, plan.id).active is False
    r = officer.post_form(
        "/console/plans",
        {"name": "越界", "template": f"crowded_venue@{latest}", "frequency": "weekly",
         "start_date": "2026-03-02", "site_ids": ["not-a-site"]},
        from_page="/console/plans",
    )  # fmt: skip
    assert r.status_code == 422 and "场所不存在或不在您的辖区" in r.text
    leader_page = console("leader").get("/console/plans").text
    assert "商场每周消防检查" in leader_page and not re.search(
        r'action="/console/plans"', leader_page
    )
