"""The leader's sign-off records the day's signed log checkpoint, and the printed daily report
carries its root and a QR code of the signed note (which verifies with the public key)."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import Session, select

from server.scheduler import run_job
from server.summaries.models import SummaryAck
from server.tlog.checkpoints import day_checkpoint
from server.tlog.keys import public_key
from shared import checkpoint as note

YESTERDAY = "2026-03-01"  # the demo clock stands at 2026-03-02 09:00 in Wuhai


def test_sign_off_and_report_carry_the_days_checkpoint(console, live_demo, clock, settings):
    leader = console("leader")
    report = leader.get(f"/console/reports/daily?date={YESTERDAY}&district=150300").text
    assert 'id="log-checkpoint"' not in report  # no checkpoint signed after that day yet

    result = run_job(live_demo.app.state.engine, "daily_summary", clock.now(), settings)
    assert result["log_size"] > 0
    r = leader.post_form(
        "/console/dashboard/ack",
        {"date": YESTERDAY, "district": "150300"},
        from_page="/console/dashboard",
    )
    assert r.status_code == 303
    with Session(live_demo.app.state.engine) as s:
        ack = s.exec(select(SummaryAck)).one()
        cp = day_checkpoint(s, date(2026, 3, 1), settings.timezone)
    assert cp is not None and cp.reason == "daily"
    assert (ack.checkpoint_size, ack.checkpoint_root) == (cp.size, cp.root)
    signed = note.verify(cp.note, public_key(settings), settings.log_origin)
    assert (signed.size, signed.root_hex) == (cp.size, cp.root)

    report = leader.get(f"/console/reports/daily?date={YESTERDAY}&district=150300").text
    root = re.search(r'<code id="checkpoint-root">([0-9a-f]{64})</code>', report)
    assert root and root.group(1) == cp.root
    assert "<svg" in report.split('id="log-checkpoint"', 1)[1]  # the QR code
    assert f"{cp.size}/{cp.root[:16]}" in report  # beside the leader's name
    english = (
        console("leader", "en").get(f"/console/reports/daily?date={YESTERDAY}&district=150300").text
    )
    assert "Record checkpoint" in english and "Root hash" in english
