"""Change a stored event with SQL: the verify endpoint and `hazardchain chains verify` name it."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import text

from server.demo import did


def test_edited_event_is_named_by_endpoint_and_cli(live_demo, db_url):
    officer = live_demo.login("officer")
    hid = did("hazard", "消防控制室值班人员不足")
    before = officer.get(f"/hazards/{hid}").json()
    victim = before["events"][1]  # the assignment
    assert officer.get(f"/hazards/{hid}/chain/verify").json()["ok"] is True

    env = {**os.environ, "HAZARDCHAIN_DATABASE_URL": db_url, "HAZARDCHAIN_SECRET_KEY": "x" * 40}
    cli = [sys.executable, "-m", "server.cli", "chains", "verify"]
    clean = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    with live_demo.app.state.engine.begin() as conn:  # someone edits the deadline in the database
        conn.execute(
            text("UPDATE hazard_event SET next_deadline = :d WHERE id = :id"),
            {"d": "2099-01-01T00:00:00.000000Z", "id": victim["id"]},
        )
    verdict = officer.get(f"/hazards/{hid}/chain/verify").json()
    assert verdict == {
        "ok": False,
        "broken_at": {"seq": 2, "event_id": victim["id"], "reason": "hash_mismatch"},
    }
    assert officer.get(f"/hazards/{hid}").json()["chain_ok"] is False

    broken = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert f"BROKEN hazard {hid}: event {victim['id']} (seq 2)" in broken.stdout


def test_deleted_event_is_detected(live_demo):
    officer = live_demo.login("officer")
    hid = did("hazard", "厨房燃气未安装泄漏报警装置")
    events = officer.get(f"/hazards/{hid}").json()["events"]
    with live_demo.app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM hazard_event WHERE id = :id"), {"id": events[3]["id"]})
    verdict = officer.get(f"/hazards/{hid}/chain/verify").json()
    assert verdict["ok"] is False and verdict["broken_at"]["event_id"] == events[4]["id"]


def test_a_hazard_without_events_is_shown_broken_not_a_500(live_demo):
    """Its events deleted by hand: the detail (API and console) shows the stored projection
    flagged broken, and /chain/verify names the missing chain, both from the one check."""
    from tests.console.console_helpers import ConsoleClient

    officer = live_demo.login("officer")
    hid = did("hazard", "安全出口被货物堵塞")
    with live_demo.app.state.engine.begin() as conn:
        conn.execute(text("DELETE FROM hazard_event WHERE hazard_id = :id"), {"id": hid})
    detail = officer.get(f"/hazards/{hid}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["chain_ok"] is False and body["events"] == [] and body["allowed_events"] == []
    assert body["title"] == "安全出口被货物堵塞"
    verdict = officer.get(f"/hazards/{hid}/chain/verify").json()
    assert verdict == {
        "ok": False,
        "broken_at": {"seq": 1, "event_id": "", "reason": "missing_events"},
    }
    page = ConsoleClient(live_demo.url).login("officer")
    try:
        r = page.get(f"/console/hazards/{hid}")
        assert r.status_code == 200 and "事件缺失" in r.text  # the reason in words
    finally:
        page.close()


def test_chain_ok_includes_the_projection_check(live_demo):
    """A projection rewritten by hand (its chain intact): the detail's chain_ok and
    /chain/verify agree that it is broken."""
    officer = live_demo.login("officer")
    hid = did("hazard", "消防控制室值班人员不足")
    last = officer.get(f"/hazards/{hid}").json()["events"][-1]
    with live_demo.app.state.engine.begin() as conn:
        conn.execute(
            text("UPDATE hazard SET last_hash = :h WHERE id = :id"), {"h": "0" * 64, "id": hid}
        )
    assert officer.get(f"/hazards/{hid}").json()["chain_ok"] is False
    assert officer.get(f"/hazards/{hid}/chain/verify").json()["broken_at"] == {
        "seq": last["seq"],
        "event_id": last["id"],
        "reason": "projection_mismatch",
    }
