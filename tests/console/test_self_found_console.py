"""自查自改 through a server built as the README says, on both databases (issue 18, points 4
and 5): the mall's safety manager finds general hazards, fixes and closes them with photos
before and after; the share drawn for 抽查 waits for the officer, whose spot-check reopens one
and passes another; a major hazard the enterprise finds goes to the regulator at once; a patrol
done fills a slot; and the leader's figures (the daily summary's Excel, as the dashboard's tiles)
move by exactly what the test did."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from console_helpers import ConsoleClient
from openpyxl import load_workbook

from server.blobs.store import digest
from server.checklists.service import DEFAULT_ROOT
from server.demo import demo_png, did
from server.demo_inspections import answered_in_full
from shared.checklist import load_all
from shared.clock import to_iso
from shared.deadlines import DEFAULT_POLICY

MALL = did("site", "万达广场乌海店")  # the demo's enterprise user is bound to it
MALL_DISTRICT = "海勃湾区"  # 万达广场乌海店's
PATROL = load_all(DEFAULT_ROOT)[("fire_patrol_daily", 1)]


def _upload(client, seed: str) -> str:
    data = demo_png(seed, (200, 60, 20))
    sha = digest(data)
    r = client.put(f"/blobs/{sha}", content=data)
    assert r.status_code in (200, 201), r.text
    return sha


def _id(drawn: bool) -> str:
    """A hazard id the spot-check draw does (or does not) pick, as the server will decide."""
    while True:
        hid = str(uuid.uuid4())
        if DEFAULT_POLICY.spot_check_drawn(hid) is drawn:
            return hid


def _report(client, hid: str, severity: str = "general", photos=()) -> dict:
    body = {
        "id": hid,
        "site_id": MALL,
        "title": f"自查发现：灭火器压力不足 {hid[:6]}",
        "severity": severity,
        "photos": list(photos),
    }
    r = client.post("/hazards", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _event(client, hid: str, type_: str, expect: int = 201, **payload) -> dict:
    r = client.post(f"/hazards/{hid}/events", json={"type": type_, "payload": payload})
    assert r.status_code == expect, r.text
    return r.json()


def _figures(leader: ConsoleClient) -> tuple[dict, dict]:
    """The live day's tiles (the overview sheet) and the mall's district's row of the
    self-inspection sheet, from the Excel the dashboard offers (its sites' list holds the sites
    to look at first: with every industry owing self-inspections, the mall may not be in it)."""
    r = leader.get("/console/export/daily.xlsx?date=today")
    assert r.status_code == 200, r.text[:300]
    wb = load_workbook(io.BytesIO(r.content))
    tiles = {row[0]: row for row in wb.worksheets[0].iter_rows(values_only=True) if row}
    sheet = wb["企业自查成效"]
    rows = list(sheet.iter_rows(values_only=True))
    head = next(r for r in rows if r and r[0] == "辖区")
    mall = next(r for r in rows if r and r[0] == MALL_DISTRICT)
    return tiles, dict(zip(head, mall, strict=True))


def _free_slot(ent, tz: str) -> datetime:
    """10 minutes into a two-hour slot of an earlier day of the window that no patrol of the
    mall covers yet (the shared server holds the demo's month of patrols and other tests')."""
    ended: list[datetime] = []
    cursor = None
    while True:
        params = {"site": MALL, "template": "fire_patrol_daily", "limit": 200}
        page = ent.get("/inspections", params=params | ({"cursor": cursor} if cursor else {}))
        ended += [datetime.fromisoformat(i["ended_at"]) for i in page.json()["items"]]
        cursor = page.json().get("next_cursor")
        if not cursor:
            break
    today = datetime.now(ZoneInfo(tz)).replace(minute=0, second=0, microsecond=0)
    for back in range(1, 28):
        for hour in range(9, 21, 2):
            start = (today - timedelta(days=back)).replace(hour=hour)
            if not any(start <= t < start + timedelta(hours=2) for t in ended):
                return start + timedelta(minutes=10)
    raise AssertionError("no free patrol slot in the window")


def _patrol(ent, ended: datetime) -> str:
    """A patrol of the mall that found nothing, ended at ``ended`` (the device's time)."""
    body = {
        "id": str(uuid.uuid4()),
        "site_id": MALL,
        "template_id": "fire_patrol_daily",
        "template_version": 1,
        "answers": answered_in_full(PATROL, {}, None),
        "started_at": to_iso(ended - timedelta(minutes=15)),
        "ended_at": to_iso(ended),
        "signatures": {"inspector": _upload(ent, f"sig-{uuid.uuid4()}")},
    }
    r = ent.post("/inspections", json=body)
    assert r.status_code == 201, r.text
    return body["id"]


def test_self_found_hazards_are_closed_by_the_enterprise_and_spot_checked(cli_server):
    leader = ConsoleClient(cli_server.url).login("leader")
    ent, officer = cli_server.login("enterprise"), cli_server.login("officer")
    tiles0, mall0 = _figures(leader)

    # two general hazards the enterprise found, one the draw picks for 抽查, one it does not
    before = _upload(ent, f"before-{uuid.uuid4()}")
    free, drawn = _id(False), _id(True)
    for hid in (free, drawn):
        h = _report(ent, hid, photos=[before])
        detail = ent.get(f"/hazards/{hid}").json()
        assert h["origin"] == "self_report" and detail["link_owner"] == {"role": "enterprise"}
        assert detail["awaits_me"] and "self_closed" in detail["allowed_events"]
    r = ent.post(
        f"/hazards/{free}/events",
        json={"type": "self_closed", "payload": {"description": "已更换灭火器"}},
    )
    assert r.status_code == 422 and "evidence" in r.json()["fields"], r.text
    after = _upload(ent, f"after-{uuid.uuid4()}")
    for hid in (free, drawn):
        h = _event(ent, hid, "self_closed", description="已更换灭火器", evidence=[after])
        assert h["state"] == "closed" and h["self_closed"] and h["closed_at"]
    assert officer.get(f"/hazards/{free}").json()["spot_check"] is None
    waiting = officer.get("/hazards", params={"spot_check": "drawn", "site": MALL}).json()
    assert drawn in [i["id"] for i in waiting["items"]]
    assert free not in [i["id"] for i in waiting["items"]]

    # the console's 待抽查 tab holds the drawn closure; 企业自查发现 both
    desk = ConsoleClient(cli_server.url).login("officer")
    spot = desk.get("/console/queue", params={"tab": "spot", "site": MALL}).text
    assert f'data-hazard="{drawn}"' in spot and f'data-hazard="{free}"' not in spot
    own = desk.get("/console/queue", params={"tab": "self", "site": MALL}).text
    assert f'data-hazard="{drawn}"' in own and f'data-hazard="{free}"' in own
    desk.close()

    # the officer's 抽查: the drawn one fails and is reopened; any other may be checked too
    h = _event(officer, drawn, "reopened", reason="灭火器仍为过期产品")
    assert (h["state"], h["spot_check"], h["self_closed"]) == ("rectifying", "reopened", False)
    assert h["link_owner"]["role"] == "enterprise" and h["deadline"]
    again = _event(ent, drawn, "self_closed", 409, description="再次", evidence=[after])
    assert again["code"] == "invalid_state"
    h = _event(ent, drawn, "rectification_submitted", description="已更换合格灭火器",
               evidence=[after])  # fmt: skip
    assert h["state"] == "in_review"  # now the regulator's chain: reviewed and closed by it
    h = _event(officer, free, "spot_checked", comment="现场核实已整改")
    assert h["spot_check"] == "passed" and h["state"] == "closed"
    assert _event(officer, free, "reopened", 409, reason="x")["code"] == "already_spot_checked"

    # a major hazard the enterprise finds enters the regulator's chain at once
    major = _report(ent, str(uuid.uuid4()), "major", photos=[before])
    detail = ent.get(f"/hazards/{major['id']}").json()
    assert [e["type"] for e in detail["events"]] == ["reported", "escalated"]
    assert (
        detail["link_owner"] == {"role": "officer"}
        and "self_closed" not in (detail["allowed_events"])
    )
    refused = _event(ent, major["id"], "self_closed", 409, description="x", evidence=[after])
    assert refused["code"] == "major_needs_regulator"
    # the regulator's own finding is not the enterprise's to close
    theirs = _report(officer, str(uuid.uuid4()), photos=[])
    assert theirs["origin"] == "regulator"
    refused = _event(ent, theirs["id"], "self_closed", 409, description="x", evidence=[after])
    assert refused["code"] == "not_self_found"

    slot = _free_slot(ent, "Asia/Shanghai")
    _patrol(ent, slot)
    tiles1, mall1 = _figures(leader)
    assert tiles1["企业自查发现隐患"][1] - tiles0["企业自查发现隐患"][1] == 3
    assert tiles1["监管发现隐患"][1] - tiles0["监管发现隐患"][1] == 1
    assert mall1["企业自查发现隐患"] - mall0["企业自查发现隐患"] == 3
    assert mall1["监管发现隐患"] - mall0["监管发现隐患"] == 1
    assert mall1["自查自改销号"] - mall0["自查自改销号"] == 1  # the reopened one is not
    assert (mall1["已自查"] - mall0["已自查"], mall1["应自查"]) == (1, mall0["应自查"])
    assert mall1["从未自报的场所"] <= mall0["从未自报的场所"]  # the mall self-reports now

    # a second patrol in the same two-hour slot covers nothing more
    _patrol(ent, slot + timedelta(minutes=30))
    _tiles2, mall2 = _figures(leader)
    assert mall2["已自查"] == mall1["已自查"]
    leader.close()
