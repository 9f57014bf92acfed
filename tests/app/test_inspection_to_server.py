"""A whole inspection on the tablet, through its widgets: login, pick the site and checklist,
answer every kind of item (yes/no, number, choice, text, not applicable, note, photo), review
the findings, edit one, sign twice, submit (it locks), sync, and find the hazards with their
chains on the server."""

from __future__ import annotations

from pathlib import Path

from app_helpers import dialog_button, login, sync

from mobile_app.ui.checklist_model import is_failed

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "app"


def _row_index(screen, answer_type: str, skip: int = 0) -> int:
    hits = [
        i
        for i, r in enumerate(screen.rows)
        if r["viewclass"] != "SectionRow"
        and screen.template.item(r["item_id"]).answer == answer_type
    ]
    return hits[skip]


def _visible(d, screen, index: int):
    screen.scroll_to(max(index - 1, 0))
    d.pump()
    view = screen._view(index)
    assert view is not None, f"row {index} not on screen"
    return view


def test_inspection_submit_sync_hazard_on_server(server, start_app, photo_dir):
    d = start_app(server.url, "inspector")
    login(d, "inspector")
    assert d.app.manager.current == "home"
    sync(d)

    # sites: search, open the site, start the coal-mine checklist (every answer type)
    sites = d.go("sites")
    sites.ids.search.text = "千里山石灰石"
    d.pump()
    assert [r["title"] for r in sites.ids.rv.data] == ["千里山石灰石矿"]
    site_id = sites.ids.rv.data[0]["key"]
    site = d.go("site", site_id=site_id)
    d.press(site.ids.start)
    picker = d.popups()[0]
    d.screenshot(SHOTS / "picker-open-pit.png")
    # a limestone pit: the non-coal mine checklist with its open-pit items is preselected
    chosen = [b for b in picker.ids.templates.children if getattr(b, "state", "") == "down"]
    assert [b.template_id for b in chosen] == ["noncoal_mine"]
    assert [b.profile_id for b in picker.ids.profiles.children if b.state == "down"] == ["open_pit"]
    # the coal-mine one (every answer type) only with a reason, which the record keeps
    coal = next(
        b for b in picker.ids.templates.children if getattr(b, "template_id", "") == "coal_mine"
    )
    d.press(coal)
    d.press(picker.ids.go)
    why = d.popups()[0]
    assert "不适用于露天矿山" in why.ids.fields.children[-1].text
    d.press(why.ids.submit_button)  # no reason: nothing starts
    assert d.app.manager.current == "site"
    why.inputs["reason"].text = "该矿兼采煤层，按要求加查煤矿项目"
    d.press(why.ids.submit_button)
    d.pump()
    screen = d.app.screen()
    assert d.app.manager.current == "checklist"
    template = screen.template
    assert template.id == "coal_mine"

    # yes/no: fail one (against pass_when) and pass another
    i_fail = _row_index(screen, "yes_no")
    item = template.item(screen.rows[i_fail]["item_id"])
    wrong = "no" if item.pass_when == "yes" else "yes"
    view = _visible(d, screen, i_fail)
    d.press(view.ids[wrong])
    assert screen.rows[i_fail]["failed"] and view.failed
    i_pass = _row_index(screen, "yes_no", 1)
    item_pass = template.item(screen.rows[i_pass]["item_id"])
    view = _visible(d, screen, i_pass)
    d.press(view.ids[item_pass.pass_when])
    assert not screen.rows[i_pass]["failed"]

    # number: a reading outside the rule, typed, shown with its unit and rule
    i_num = _row_index(screen, "number")
    num_item = template.item(screen.rows[i_num]["item_id"])
    view = _visible(d, screen, i_num)
    assert view.unit == num_item.unit and num_item.pass_rule.describe(num_item.unit) in view.rule
    bad = next(x for x in (0, 1, 5, 50, 150, 1000, -1) if not num_item.pass_rule.passes(x))
    view.ids.entry.text = str(bad)
    view.flush()
    d.pump()
    assert screen.rows[i_num]["failed"]

    # choice: the failing option
    i_choice = _row_index(screen, "choice")
    choice_item = template.item(screen.rows[i_choice]["item_id"])
    failing = next(c for c in choice_item.choices if not c.passes)
    view = _visible(d, screen, i_choice)
    btn = next(b for b in view.ids.choice_box.children if b.choice == failing.value)
    d.press(btn)
    assert screen.rows[i_choice]["failed"]

    # text, not applicable, a note
    i_text = _row_index(screen, "text")
    view = _visible(d, screen, i_text)
    view.ids.entry.text = "通风设施台账齐全"
    view.flush()
    i_na = _row_index(screen, "yes_no", 2)
    view = _visible(d, screen, i_na)
    na_toggle = next(w for w in view.walk() if getattr(w, "text", None) == d.app.t("N/A"))
    d.press(na_toggle)
    assert screen.rows[i_na]["value"] == "na"
    note_button = next(w for w in view.walk() if getattr(w, "text", "").startswith(d.app.t("Note")))
    d.press(note_button)  # 不适用 needs its reason
    form = d.popups()[0]
    form.inputs["note"].text = "该采区已封闭"
    d.press(form.ids.submit_button)
    view = _visible(d, screen, i_pass)
    note_button = next(w for w in view.walk() if getattr(w, "text", "").startswith(d.app.t("Note")))
    d.press(note_button)
    form = d.popups()[0]
    form.inputs["note"].text = "与矿长核实"
    d.press(form.ids.submit_button)

    # a photo for every failed item that needs one, through the file chooser
    for index, row in enumerate(screen.rows):
        if row.get("failed") and row["photo_required"]:
            view = _visible(d, screen, index)
            photo_button = next(
                w for w in view.walk() if getattr(w, "text", "").startswith(d.app.t("Photo"))
            )
            d.press(photo_button)
            chooser = d.popups()[0]
            chooser.ids.chooser.selection = [str(photo_dir / "before.png")]
            d.press(dialog_button(d, d.app.t("Use this photo")))
            assert screen.rows[index]["photos"] == 1

    draft_id = screen.draft["id"]
    store = d.app.backend._inner  # the test reads the store directly; the app never does
    stored = store.draft(draft_id)["answers"]
    assert stored[item.id]["value"] == wrong
    assert stored[num_item.id]["value"] == bad
    assert stored[choice_item.id]["value"] == failing.value
    assert stored[item_pass.id]["note"] == "与矿长核实"
    failed_ids = {r["item_id"] for r in screen.rows if r.get("failed")}
    assert failed_ids == {k for k, a in stored.items() if is_failed(template.item(k), a["value"])}

    # review: findings, one description edited, two signatures, then submit and confirm
    d.press(screen.ids.review_button)
    review = d.app.screen()
    assert d.app.manager.current == "review"
    assert len(review.findings) >= 3
    first = review.ids.findings.children[-1]
    entry = first.ids.body.children[0]
    entry.text = "瓦斯检查记录缺失（检查员补充：已责令当班补记）"
    # most items unanswered: the review says how many, and submitting is refused naming them
    left = len(review.completion["unanswered"])
    assert left > 80 and review.completion["not_applicable"] == 1
    assert f"未作答 {left} 项" in review.ids.completion.text
    assert review.ids.mark_rest.opacity == 1
    d.screenshot(SHOTS / "review-unanswered.png")
    d.press(review.ids.submit_button)
    d.press(dialog_button(d, d.app.t("Submit")))
    assert f"还有 {left} 项未作答" in d.app.toast_text
    assert store.draft(draft_id)["status"] == "draft"  # nothing queued
    d.press(review.ids.mark_rest)  # the rest 未检查, with one reason
    dlg = d.popups()[0]
    dlg.inputs["reason"].text = "井下停产检修，本次未下井"
    d.press(dlg.ids.submit_button)
    d.pump()
    review = d.app.screen()
    assert review.completion["unanswered"] == [] and review.completion["unchecked"] == left
    assert "未作答" not in review.ids.completion.text and review.ids.mark_rest.opacity == 0
    d.screenshot(SHOTS / "review-complete.png")
    entry = review.ids.findings.children[-1].ids.body.children[0]
    entry.text = "瓦斯检查记录缺失（检查员补充：已责令当班补记）"
    d.press(review.ids.submit_button)  # without signatures: refused with a reason
    d.press(dialog_button(d, d.app.t("Submit")))
    assert "签字" in d.app.toast_text
    review.ids.representative.text = "吴矿长"
    review.ids.pad_inspector.draw_points([(0.1, 0.2), (0.5, 0.8), (0.9, 0.3)])
    review.ids.pad_representative.draw_points([(0.1, 0.7), (0.5, 0.2), (0.9, 0.6)])
    review.flush()
    d.pump()
    d.press(review.ids.submit_button)
    d.press(dialog_button(d, d.app.t("Submit")))
    d.pump()
    assert review.locked and review.ids.submit_button.disabled
    draft = store.draft(draft_id)
    assert draft["status"] == "submitted"
    sig = draft["extra"]["signatures"]
    for sha in sig.values():
        assert store.blob(sha).startswith(b"\x89PNG")
    # locked: the checklist no longer takes answers
    screen = d.go("checklist", draft_id=draft_id)
    assert screen.locked
    before = dict(screen.answers)
    _visible(d, screen, i_pass).answer("no")
    assert screen.answers == before

    # sync: the inspection, its photos and signatures reach the server
    sync(d)
    state = store.sync_state()
    assert state["pending"] == 0 and state["unsent_files"] == 0
    assert all(r["status"] == "acknowledged" for r in state["records"])

    with server.login("officer") as officer:
        got = officer.get(f"/inspections/{draft_id}").json()
        assert got["site_id"] == site_id
        assert got["answers"][num_item.id] == bad
        assert got["signatures"] == {
            "inspector": sig["inspector"],
            "representative": sig["representative"],
            "representative_name": "吴矿长",
            "refusal": None,  # the representative signed (no 拒签)
        }
        assert got["item_notes"][item_pass.id] == "与矿长核实"
        assert got["checklist_override"] == "该矿兼采煤层，按要求加查煤矿项目"
        assert got["completion"]["unchecked"] == left and got["completion"]["unanswered"] == []
        for sha in sig.values():
            assert officer.get(f"/blobs/{sha}").content.startswith(b"\x89PNG")
        assert len(got["hazards"]) == len(review.findings)
        for h in got["hazards"]:
            detail = officer.get(f"/hazards/{h['id']}").json()
            assert detail["chain_ok"] and detail["events"][0]["type"] == "reported"
        edited = next(h for h in got["hazards"] if h["id"] == review.findings[0]["hazard_id"])
        # what the inspector wrote over the generated text is the hazard's description
        reported = officer.get(f"/hazards/{edited['id']}").json()["events"][0]
        assert reported["payload"]["description"].startswith("瓦斯检查记录缺失（检查员补充")
        photo_sha = stored[item.id]["photos"][0] if stored[item.id]["photos"] else None
        if photo_sha:
            assert officer.get(f"/blobs/{photo_sha}").status_code == 200

    # the app shows the server's hazards (no longer pending) after the pull
    hazards = d.go("hazards")
    titles = {r["title"] for r in hazards.ids.rv.data}
    # titled with each failed item's defect wording, not its requirement
    assert {template.item(f["item_id"]).hazard.zh for f in review.findings} <= titles
    local = [h for h in store.hazards() if h["id"] in {f["hazard_id"] for f in review.findings}]
    assert local and not any(h["has_pending"] for h in local)

    # the UI never touched the device store or the network on the main thread
    assert d.app.backend.main_thread_calls == []
