"""检查记录编号 over real HTTP on both databases: allocated by the server when it accepts an
inspection, one sequence per district and year, distinct and gap-free when submits race; the
printed 检查记录, the console's list and the hazard export show it instead of the UUID."""

from __future__ import annotations

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from console_helpers import MALL
from openpyxl import load_workbook

from server.checklists.service import DEFAULT_ROOT, import_into
from server.demo_inspections import answered_in_full
from shared.checklist import load_all
from shared.clock import local_date, to_iso
from shared.numbers import INSPECTION_NUMBER_RE, sequence_of


def _body(clock, fail: bool) -> dict:
    template = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    failing = {}
    if fail:
        item = next(
            i
            for i in template.items()
            if i.answer == "yes_no" and i.profiles is None and not i.photo_required
        )
        failing = {item.id: "no" if item.pass_when == "yes" else "yes"}
    return {
        "id": str(uuid.uuid4()),
        "site_id": MALL,
        "template_id": "crowded_venue",
        "template_version": 1,
        "profile": "mall",
        "answers": answered_in_full(template, failing, "mall"),
        "photos": {},
        "started_at": to_iso(clock.now() - timedelta(hours=1)),
        "ended_at": to_iso(clock.now()),
    }


def test_racing_submits_get_consecutive_record_numbers_shown_on_paper_and_lists(
    live_demo, console, clock
):
    import_into(live_demo.app.state.engine, DEFAULT_ROOT, clock.now())
    inspectors = [live_demo.login("inspector") for _ in range(4)]

    def submit(i: int) -> dict:
        r = inspectors[i % 4].post("/inspections", json=_body(clock, fail=i == 0))
        assert r.status_code == 201, r.text
        return r.json()

    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(submit, range(8)))
    numbers = [m["number"] for m in made]
    assert all(INSPECTION_NUMBER_RE.match(n) for n in numbers), numbers
    assert len(set(numbers)) == 8
    seqs = sorted(sequence_of(n) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 8)), "a sequence without gaps"
    year = local_date(clock.now()).year
    assert all(n.startswith(f"JC-{made[0]['district_id']}-{year}-") for n in numbers)

    one = made[0]
    api = inspectors[0]
    assert api.get(f"/inspections/{one['id']}").json()["number"] == one["number"]
    listed = api.get("/inspections", params={"site": MALL, "limit": 50}).json()["items"]
    assert {i["id"]: i["number"] for i in listed if i["id"] in {m["id"] for m in made}} == {
        m["id"]: m["number"] for m in made
    }
    officer = console("officer")
    paper = officer.get(f"/console/inspections/{one['id']}").text
    assert f'<span id="record-number">{one["number"]}</span>' in paper
    assert one["id"] not in paper.split('id="record-number"')[1][:80]
    listing = officer.get("/console/inspections").text
    assert one["number"] in listing
    # the hazard the failing inspection raised names its inspection by number in the export
    hazard = one["hazards"][0]
    book = officer.get(f"/console/export/hazards.xlsx?tab=all&q={hazard['number']}")
    rows = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert rows[0][-1] == "来源检查"
    assert [(r[0], r[-1]) for r in rows[1:]] == [(hazard["number"], one["number"])]
