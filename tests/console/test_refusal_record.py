"""The printed 检查记录 of an inspection whose site representative refused to sign (拒签):
the refusal, its witness, the circumstances and the photo stand where the signature would."""

from __future__ import annotations

import uuid

from console_helpers import raise_inspection

from server.blobs.store import digest
from server.demo import demo_png


def test_printed_record_shows_the_refusal(console, live_demo, clock, browser, artifacts):
    inspector = live_demo.login("inspector")
    shas = []
    for seed in ("sign", "scene"):
        data = demo_png(f"{seed}-{uuid.uuid4().hex}", (30, 40, 50))
        assert inspector.put(f"/blobs/{digest(data)}", content=data).status_code == 201
        shas.append(digest(data))
    signature, scene = shas
    signatures = {
        "inspector": signature,
        "representative_name": "赵店长",
        "refusal": {"witness": "李见证（物业主管）", "photo": scene, "reason": "称须请示总部"},
    }
    inspection_id, _ = raise_inspection(live_demo.app.state.engine, clock, signatures=signatures)
    officer = console("officer")
    html = officer.get(f"/console/inspections/{inspection_id}").text
    refused = html.split("data-refused>")[1].split("</div>")[0]
    assert "被检查单位负责人拒签" in refused and "（赵店长）" in refused
    assert "见证人：李见证（物业主管）" in refused and "拒签情况：称须请示总部" in refused
    assert f'/console/blobs/{scene}"' in refused
    assert officer.get(f"/console/blobs/{scene}").status_code == 200
    english = console("officer", lang="en").get(f"/console/inspections/{inspection_id}").text
    assert "refused to sign" in english and "Witness" in english

    page = browser.new_page()
    try:
        page.goto(live_demo.url + "/console/login")
        page.fill("input[name=username]", "officer")
        page.fill("input[name=password]", "demo-password")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_demo.url}/console/inspections/{inspection_id}")
        page.emulate_media(media="print")
        page.wait_for_load_state("networkidle")
        assert page.locator("[data-refused]").is_visible()
        page.locator(".signatures").screenshot(path=str(artifacts / "refusal-record.png"))
    finally:
        page.close()
