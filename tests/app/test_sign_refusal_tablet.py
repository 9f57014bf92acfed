"""拒签 on the tablet's review screen with real Kivy widgets: the representative refuses to
sign, the inspector names a witness, says what happened and takes a photo; the inspection is
submitted without the representative's signature and the server records the refusal."""

from __future__ import annotations

from pathlib import Path

from app_helpers import dialog_button, login, sync

from server.demo import did

MALL = did("site", "万达广场乌海店")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "app"


def test_a_refusal_to_sign_on_the_review_screen(server, start_app, photo_dir):
    d = start_app(server.url, "tablet")
    store = d.app.backend._inner
    login(d, "inspector")
    sync(d)
    template = store.template("crowded_venue", 1)
    draft = store.open_draft(MALL, "crowded_venue", 1, "mall")
    item = next(i for i in template.items() if i.answer == "yes_no" and i.applies_to("mall"))
    store.save_answer(draft["id"], item.id, value=item.pass_when)
    store.mark_unanswered(draft["id"], "unchecked", "时间所限，下次补查")
    review = d.go("review", draft_id=draft["id"])
    review.ids.representative.text = "赵店长"
    review.ids.pad_inspector.draw_points([(0.1, 0.2), (0.5, 0.8), (0.9, 0.3)])
    review.flush()
    d.pump()

    # without the representative's signature or a refusal: refused, naming both ways
    d.press(review.ids.submit_button)
    d.press(dialog_button(d, d.app.t("Submit")))
    d.pump()
    assert not review.locked

    # 拒签: no witness is refused in the dialog; then witness, circumstances and a photo
    d.press(review.ids.refuse_button)
    form = d.popups()[0]
    d.press(form.ids.submit_button)
    assert form in d.popups() and "见证人" in d.app.toast_text
    form.inputs["witness"].text = "李见证（物业主管）"
    form.inputs["reason"].text = "称须请示总部，拒绝签字"
    d.press(form.ids.submit_button)
    d.settle_popups()
    chooser = d.popups()[0]
    chooser.ids.chooser.selection = [str(photo_dir / "before.png")]
    d.press(dialog_button(d, d.app.t("Use this photo")))
    d.pump()
    assert not d.settle_popups()
    assert "负责人拒签" in review.ids.refusal.text and "李见证" in review.ids.refusal.text
    d.screenshot(SHOTS / "review-refusal.png")

    d.press(review.ids.submit_button)
    d.press(dialog_button(d, d.app.t("Submit")))
    d.pump()
    assert review.locked
    sync(d)
    with server.login("officer") as officer:
        got = officer.get(f"/inspections/{draft['id']}").json()
    assert got["signatures"]["representative"] is None
    refusal = got["signatures"]["refusal"]
    assert refusal["witness"] == "李见证（物业主管）" and refusal["reason"].startswith("称须请示")
    with server.login("officer") as officer:
        assert officer.get(f"/blobs/{refusal['photo']}").status_code == 200

    # the site's inspections name the checklist as people do, not by its id
    site = d.go("site", site_id=MALL)
    rows = [w.title for w in site.ids.inspections.children if hasattr(w, "title")]
    assert rows and all("crowded_venue" not in r for r in rows), rows
    assert any(r.startswith(template.title.zh) for r in rows), rows
