"""The officer's pages over real HTTP on SQLite and PostgreSQL: the queue's order and filters,
every action through its form (refusals shown readably), batch assignment, matters, photos."""

from __future__ import annotations

import re

from console_helpers import CLOSED, IN_REVIEW, OVERDUE, REPORTED, WUDA_MAJOR, hazard_rows

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo import did


def test_queue_puts_overdue_then_major_first_and_filters(console, live_demo):
    officer = console("officer")
    page = officer.get("/console/queue")
    assert page.status_code == 200
    ids = hazard_rows(page.text)
    api = live_demo.login("officer")
    items = {h["id"]: h for h in api.get("/hazards", params={"limit": 200}).json()["items"]}
    opened = [i for i in items.values() if i["state"] not in ("closed", "cancelled")]
    assert sorted(ids) == sorted(h["id"] for h in opened)  # every open hazard in scope, once
    late = [items[i]["overdue"] for i in ids]
    major = [items[i]["severity"] == "major" for i in ids]
    assert late == sorted(late, reverse=True)  # overdue first
    n_late = sum(late)
    assert major[n_late:] == sorted(major[n_late:], reverse=True)  # then major
    assert OVERDUE in ids[:n_late] and items[ids[0]]["overdue"]
    # an unassigned hazard past the officer's own step deadline is late like the unit's
    unassigned_late = [i for i in ids[:n_late] if items[i]["state"] == "reported"]
    assert unassigned_late, "the demo's old unassigned reports are overdue for the officer"
    assert WUDA_MAJOR not in ids  # 乌达区 is not the officer's
    # filters and tabs
    assert hazard_rows(officer.get("/console/queue?q=卷帘").text) == [IN_REVIEW]
    assert set(hazard_rows(officer.get("/console/queue?tab=done").text)) == {
        CLOSED,
        did("hazard", "氧气汇流排间门未上锁"),
    }
    officer_tab = hazard_rows(officer.get("/console/queue?tab=next").text)
    assert officer_tab and all("officer" in items[i]["acts_next"] for i in officer_tab)
    assert (
        hazard_rows(officer.get("/console/queue?tab=officer").text) == officer_tab
    )  # old bookmarks
    assert set(hazard_rows(officer.get("/console/queue?tab=overdue").text)) == {
        i for i in ids if items[i]["overdue"]
    }
    majors = hazard_rows(officer.get("/console/queue?severity=major&state=rectifying").text)
    assert majors == [did("hazard", "液氯储罐区未设置独立安全仪表系统")]
    empty = officer.get("/console/queue?q=没有这样的隐患")
    assert hazard_rows(empty.text) == [] and "没有符合条件的隐患" in empty.text
    assert officer.get("/console/queue?state=bogus&page=x").status_code == 200  # stale links open


def test_verify_needs_the_evidence_check_then_close(console, live_demo):
    officer = console("officer")
    page = f"/console/hazards/{IN_REVIEW}"
    act = f"{page}/act"
    r = officer.post_form(act, {"action": "verified", "comment": "看过了"}, from_page=page)
    assert r.status_code == 422 and "请先核对整改照片并勾选确认" in r.text
    assert "看过了" in r.text  # the input is kept
    r = officer.post_form(
        act,
        {"action": "verified", "evidence_checked": "yes", "comment": "复查通过"},
        from_page=page,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=verified")
    r = officer.post_form(act, {"action": "closed", "comment": "同意销号"}, from_page=page)
    assert r.status_code == 303
    html = officer.get(page).text
    assert "已销号" in html and "链条完整" in html
    detail = live_demo.login("officer").get(f"/hazards/{IN_REVIEW}").json()
    assert detail["state"] == "closed" and detail["chain_ok"]
    assert [e["type"] for e in detail["events"]][-2:] == ["verified", "closed"]
    assert detail["events"][-2]["payload"] == {"comment": "复查通过"}


def test_domain_refusals_read_in_the_users_language(console):
    zh = console("officer")
    page = f"/console/hazards/{IN_REVIEW}"
    r = zh.post_form(f"{page}/act", {"action": "rejected"}, from_page=page)
    assert r.status_code == 422 and "请填写不通过原因" in r.text  # a missing field, as the API says
    r = zh.post_form(f"{page}/act", {"action": "closed"}, from_page=page)
    assert r.status_code == 409 and "不能执行“销号”" in r.text
    en = console("officer", lang="en")
    r = en.post_form(f"{page}/act", {"action": "rejected"}, from_page=page)
    assert r.status_code == 422 and "reason is required" in r.text
    r = en.post_form(
        f"/console/hazards/{REPORTED}/act",
        {"action": "assigned", "responsible_unit": "乌海一中", "responsible_person": "校长",
         "deadline": "2020-01-01"},
        from_page=f"/console/hazards/{REPORTED}",
    )  # fmt: skip
    assert r.status_code == 422 and "deadline must be in the future" in r.text
    r = en.post_form(f"{page}/act", {"action": "fly"}, from_page=page)
    assert r.status_code == 422 and "unknown action" in r.text
    # an officer of another district learns nothing
    r = console("officer2").post_form(
        f"/console/hazards/{REPORTED}/act",
        {"action": "note", "text": "x"},
        from_page="/console/queue",
    )
    assert r.status_code == 404


def test_assign_extend_note_cancel(console, live_demo):
    officer = console("officer")
    page = f"/console/hazards/{REPORTED}"

    def act(data):
        r = officer.post_form(f"{page}/act", data, from_page=page)
        assert r.status_code == 303, r.text[:2000]

    act({"action": "assigned", "responsible_unit": "乌海市第一中学", "responsible_person": "王校长",
         "deadline": "2026-03-20", "comment": "尽快整改"})  # fmt: skip
    act({"action": "extension_requested", "new_deadline": "2026-04-10", "reason": "需采购新标志"})
    act({"action": "extension_granted", "comment": "同意"})
    act({"action": "note", "text": "已电话督促"})
    detail = live_demo.login("officer").get(f"/hazards/{REPORTED}").json()
    types = [e["type"] for e in detail["events"]]
    assert types[-4:] == ["assigned", "extension_requested", "extension_granted", "note"]
    assigned = detail["events"][-4]["payload"]
    assert assigned["deadline"] == "2026-03-20T15:59:00.000000Z"  # 23:59 in Wuhai
    assert detail["deadline"].startswith("2026-04-10T15:59")
    html = officer.get(page).text
    assert "已电话督促" in html and "王校长" in html and "2026-04-10 23:59" in html
    act({"action": "cancelled", "reason": "误报：标志系停电测试"})
    assert "已撤销" in officer.get(page).text


def test_batch_assignment_reports_each_result(console, live_demo):
    officer = console("officer")
    school = did("hazard", "学生宿舍私拉电线")
    r = officer.post_form(
        "/console/queue/assign",
        {"hazard_id": [REPORTED, school, IN_REVIEW], "responsible_unit": "海勃湾区教育局",
         "responsible_person": "刘科长", "deadline": "2026-03-30"},
        from_page="/console/queue",
    )  # fmt: skip
    # three sites for one unit: a warning naming them, and nothing assigned until confirmed
    assert r.status_code == 200 and 'id="mixed-sites"' in r.text
    warning = r.text.split('id="mixed-sites"')[1].split("</section>")[0]
    assert "选中的隐患属于不同场所" in warning and "乌海市第一中学" in warning
    assert "海勃湾区教育局" in warning and "批量交办结果" not in r.text
    api = live_demo.login("officer")
    assert api.get(f"/hazards/{REPORTED}").json()["state"] == "reported"
    hidden = re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', warning)
    assert ("mixed_sites", "yes") in hidden and ("deadline", "2026-03-30") in hidden
    resent = [(k, v) for k, v in hidden if k != "csrf_token"]
    assert [v for k, v in resent if k == "hazard_id"] == [REPORTED, school, IN_REVIEW]
    r = officer.post_form("/console/queue/assign", resent, from_page="/console/queue")
    assert r.status_code == 200 and 'id="mixed-sites"' not in r.text
    assert "2 成功，1 失败" in r.text and "待复查" in r.text  # the refusal names the state
    for hid in (REPORTED, school):
        h = api.get(f"/hazards/{hid}").json()
        assert h["state"] == "assigned" and h["responsible_unit"] == "海勃湾区教育局"
    assert api.get(f"/hazards/{IN_REVIEW}").json()["state"] == "in_review"
    r = officer.post_form(
        "/console/queue/assign", {"responsible_unit": "x", "responsible_person": "y"},
        from_page="/console/queue",
    )  # fmt: skip
    assert "请至少选择一条隐患" in r.text


def test_batch_assignment_of_one_sites_hazards_needs_no_confirmation(console, live_demo):
    api = live_demo.login("inspector")
    mall = did("site", "万达广场乌海店")
    made = [
        api.post("/hazards", json={"site_id": mall, "title": f"同场所{i}", "severity": "general"})
        for i in range(2)
    ]
    ids = [m.json()["id"] for m in made]
    r = console("officer").post_form(
        "/console/queue/assign",
        {"hazard_id": ids, "responsible_unit": "万达广场", "responsible_person": "陈经理"},
        from_page="/console/queue",
    )
    assert 'id="mixed-sites"' not in r.text and "2 成功，0 失败" in r.text


def test_matter_page_lines_up_every_link(console, live_demo, clock):
    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())  # as `db upgrade` does
    officer = console("officer")
    html = officer.get("/console/matters/lpg").text
    detail = live_demo.login("officer").get("/matters/lpg").json()
    departments = [link["department"] for link in detail["links"]]
    # in chain order, each with its department
    assert re.findall(r'<p class="dept">([^<]+)</p>', html) == departments
    assert "充装" in html and "使用（餐饮）" in html
    # each link's registered sites and inspection coverage, the same figures as the API
    shown = re.findall(r'<p class="nums small coverage">(.*?)</p>', html, re.S)
    assert len(shown) == len(detail["links"])
    for link, text in zip(detail["links"], shown, strict=True):
        if link["sites"]:
            assert f"场所 {link['sites']} · 近30天已检 {link['inspected_30d']}" in text
        else:
            assert "本环节暂无登记场所" in text
    assert any(link["sites"] for link in detail["links"])
    assert "瓶装液化石油气" in officer.get("/console/matters").text


def test_photos_are_served_within_scope(console, live_demo):
    detail = live_demo.login("officer").get(f"/hazards/{IN_REVIEW}").json()
    sha = detail["evidence"][0]
    r = console("officer").get(f"/console/blobs/{sha}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")
    assert console("officer2").get(f"/console/blobs/{sha}").status_code == 404
