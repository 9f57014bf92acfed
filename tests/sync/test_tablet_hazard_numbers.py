"""On the tablet (DeviceBackend, the screens' data): a hazard reported offline has no number
yet and says so; after a sync it shows the 隐患编号 the server allocated, the same as the
server's, and so do the hazards other people reported."""

from __future__ import annotations

from sqlmodel import Session, select
from tablets import MALL

from mobile_app.core.device_backend import DeviceBackend
from server.hazards.models import Hazard
from shared.numbers import NUMBER_RE

PASSWORD = "demo-password"


def test_tablet_shows_the_server_number_once_synced(live_demo, tmp_path, clock):
    app = DeviceBackend(tmp_path / "tablet", live_demo.url, clock=clock)
    try:
        app.login("inspector", PASSWORD)
        assert app.sync().errors == []
        hid = app.outbox.report_hazard(site_id=MALL, title="编号同步测试", severity="general")
        assert app.hazard(hid)["number"] is None  # offline: the server numbers it
        assert app.sync().errors == []
        with Session(live_demo.app.state.engine) as s:
            numbers = {h.id: h.number for h in s.exec(select(Hazard))}
        mine = app.hazard(hid)
        assert NUMBER_RE.match(mine["number"]) and mine["number"] == numbers[hid]
        listed = app.hazards()
        assert len(listed) > 3
        assert all(h["number"] == numbers[h["id"]] for h in listed)
    finally:
        app.close()
