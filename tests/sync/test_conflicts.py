"""Conflicts and time (TECH-NOTES §1.3 cases 8, 9, 10, 18): the server decides against the
chain's current state, keeps every action that applies, refuses the rest with a reason the
user sees, and orders everything by its own clock."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select
from tablets import MALL, photo, server_events, server_hazards

from server.hazards.models import Hazard
from server.hazards.scheduled import flag_overdue
from server.sync.models import SyncDevice
from shared.clock import FixedClock, parse_iso


def _hazard_titled(engine, title: str) -> Hazard:
    with Session(engine) as s:
        return s.exec(select(Hazard).where(Hazard.title == title)).one()


def test_two_devices_conflicting_transitions_exactly_one_applies(live_demo, tablets, engine):
    """Case 8: two officers judge the same rectification offline, one verifies, one rejects."""
    hid = _hazard_titled(engine, "防火卷帘门下堆放杂物").id
    a, b = tablets(live_demo.url, "officer"), tablets(live_demo.url, "officer3")
    assert a.sync().ok and b.sync().ok
    assert a.hazards()[hid]["state"] == b.hazards()[hid]["state"] == "in_review"
    verify = a.outbox.append_event(hid, "verified", {"comment": "现场核查通过"})
    reject = b.outbox.append_event(hid, "rejected", {"reason": "仍有杂物"})
    # each device shows its own decision until the server has judged
    assert a.hazards()[hid]["state"] == "verified" and b.hazards()[hid]["state"] == "rectifying"
    assert a.sync().ok and b.sync().ok
    assert a.outbox.record(verify)["status"] == "acknowledged"
    refused = b.outbox.record(reject)
    assert refused["status"] == "rejected" and refused["code"] == "invalid_state"
    assert "已验收" in refused["message_zh"] and "verified" in refused["message_en"]
    assert a.sync().ok
    server = server_events(engine, "officer")
    assert a.events() == b.events() == server
    assert a.hazards()[hid]["state"] == b.hazards()[hid]["state"] == "verified"
    assert server_hazards(engine)[hid].state == "verified"
    assert a.chains_verify() == b.chains_verify() == []


def test_edit_after_close_is_rejected_and_shown(live_demo, tablets, engine):
    """Case 9: a note written offline on a hazard that was closed meanwhile."""
    hid = _hazard_titled(engine, "消防控制室值班人员不足").id
    t = tablets(live_demo.url, "inspector")
    assert t.sync().ok
    op_id = t.outbox.append_event(hid, "note", {"text": "夜班已增至2人"})
    officer = live_demo.login("officer")
    r = officer.post(f"/hazards/{hid}/events", json={"type": "closed", "payload": {}})
    assert r.status_code == 201, r.text
    result = t.sync()
    assert result.ok and result.rejected == 1
    [shown] = t.outbox.rejections()
    assert shown["op_id"] == op_id and shown["code"] == "invalid_state"
    assert shown["message_zh"] == "隐患当前状态为“已销号”，不能执行“备注”"
    assert shown["message_en"] == "cannot append 'Note' while the hazard is closed"
    view = t.hazards()[hid]
    assert view["state"] == "closed"
    row = t.store.read("SELECT pending_count, conflicts FROM hazard WHERE id = ?", [hid])[0]
    assert row == {"pending_count": 0, "conflicts": None}  # no longer shown as pending


def test_device_clock_skew_does_not_move_order_or_deadlines(live_demo, tablets, engine, clock):
    """Case 10: one tablet two days ahead, one a year behind; the server's clock decides."""
    ahead = tablets(live_demo.url, "officer", clock=FixedClock(clock.now() + timedelta(days=2)))
    behind = tablets(
        live_demo.url, "inspector", clock=FixedClock(clock.now() - timedelta(days=365))
    )
    assert ahead.sync().ok and behind.sync().ok
    hid = behind.outbox.report_hazard(site_id=MALL, title="燃气管道锈蚀", severity="general")
    assert behind.sync().ok and ahead.sync().ok
    ahead.outbox.append_event(
        hid, "assigned", {"responsible_unit": "物业", "responsible_person": "王经理"}
    )
    assert ahead.sync().ok and behind.sync().ok
    chain = ahead.chain(hid)
    assert [e.type for e in chain] == ["reported", "assigned"]
    assert all(parse_iso(e.at) == clock.now() for e in chain)  # server time, not device time
    assert parse_iso(chain[0].device_time) == clock.now() - timedelta(days=365)
    assert parse_iso(chain[1].device_time) == clock.now() + timedelta(days=2)
    # the deadline counts from the server's now: a general crowded-venue hazard gets 7 days
    deadline = parse_iso(chain[1].payload["deadline"])
    assert deadline == clock.now() + timedelta(days=7)
    with Session(engine) as s:
        assert flag_overdue(s, clock.now() + timedelta(days=1)) == 0  # not overdue
        skews = {d.device_id: d.skew_seconds for d in s.exec(select(SyncDevice)).all()}
    assert round(skews[ahead.store.device_id]) == 2 * 86400
    assert round(skews[behind.store.device_id]) == -365 * 86400
    assert ahead.events() == behind.events() == server_events(engine, "inspector")


def test_overdue_racing_an_offline_rectification(live_demo, tablets, engine, clock):
    """Case 18: the server flags the deadline while the enterprise rectifies offline; both
    land, in server order, and ``overdue`` does not block the rectification."""
    officer = live_demo.login("officer")
    ent_id = live_demo.login("enterprise").get("/me").json()["id"]
    hid = officer.post(
        "/hazards", json={"site_id": MALL, "title": "楼梯间堆放纸箱", "severity": "general"}
    ).json()["id"]
    r = officer.post(
        f"/hazards/{hid}/events",
        json={
            "type": "assigned",
            "payload": {
                "responsible_unit": "万达广场",
                "responsible_person": "陈安全员",
                "responsible_user_id": ent_id,
                "deadline": (clock.now() + timedelta(days=1)).isoformat(),
            },
        },
    )
    assert r.status_code == 201, r.text
    ent = tablets(live_demo.url, "enterprise")
    assert ent.sync().ok
    evidence = ent.outbox.add_photo(photo("楼梯间已清理"))["sha256"]
    op_id = ent.outbox.append_event(
        hid, "rectification_submitted", {"description": "纸箱已清走", "evidence": [evidence]}
    )
    clock.advance(days=2)
    with Session(engine) as s:
        assert flag_overdue(s, clock.now()) == 1
    result = ent.sync()
    assert result.ok, result.errors
    assert ent.outbox.record(op_id)["status"] == "acknowledged"
    chain = ent.chain(hid)
    assert [e.type for e in chain] == ["reported", "assigned", "overdue", "rectification_submitted"]
    seqs = [row["server_seq"] for row in ent.store.read(
        "SELECT server_seq FROM event WHERE hazard_id = ? ORDER BY seq", [hid])]  # fmt: skip
    assert seqs == sorted(seqs)
    assert ent.hazards()[hid]["state"] == "in_review"
    assert ent.chains_verify() == []
    assert ent.events() == server_events(engine, "enterprise")
