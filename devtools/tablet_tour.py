"""The screenshot tour: a demo server on loopback (the Wuhai demo data and the real
checklists), then the real app driven through every screen as an inspector and as an
enterprise user, each screen saved as a PNG. Anyone can see the app without a tablet."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from devtools.demo_photos import write_demo_photos

PASSWORD = "demo-password"
MALL = "万达广场乌海店"  # the demo's crowded venue, whose safety manager logs in as enterprise
PATROL = "fire_patrol_daily"  # 每日防火巡查 (公安部令61号 第二十五条)


@contextlib.contextmanager
def demo_server(workdir: Path, now: datetime | None = None) -> Iterator[object]:
    """A LiveServer on a fresh SQLite demo database (server.testing, loopback only)."""
    from sqlmodel import Session

    from server.app import create_app
    from server.blobs.store import BlobStore
    from server.checklists.service import DEFAULT_ROOT, import_into
    from server.demo import load_demo
    from server.migrate import upgrade
    from server.settings import Settings
    from server.testing import LiveServer, engine_for

    now = now or datetime.now(UTC)
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'server.db'}"
    upgrade(url)
    blobs = workdir / "blobs"
    with engine_for(url) as engine:
        import_into(engine, DEFAULT_ROOT, now)
        with Session(engine, expire_on_commit=False) as session:
            load_demo(session, password=PASSWORD, now=now, store=BlobStore(blobs))
        settings = Settings(
            env="test",
            database_url=url,
            secret_key="tour-secret-" + "x" * 40,
            scheduler="off",
            blob_dir=blobs,
        )
        server = LiveServer(create_app(settings, engine=engine)).start()
        try:
            yield server
        finally:
            server.stop()


def _login(driver, username: str) -> None:
    screen = driver.app.manager.get_screen("login")
    screen.ids.username.text = username
    screen.ids.password.text = PASSWORD
    driver.press(screen.ids.login_button)
    driver.pump()


def run_tour(out: Path, workdir: Path | None = None) -> list[Path]:
    """Render every screen for both roles into ``out``; returns the PNG paths."""
    from kivy.core.window import Window

    from devtools.kivy_driver import Driver
    from mobile_app.app import HazardChainApp
    from mobile_app.core.device_backend import DeviceBackend

    workdir = workdir or Path(tempfile.mkdtemp(prefix="hc-tour-"))
    out.mkdir(parents=True, exist_ok=True)
    Window.size = (1280, 800)
    photo_dir = write_demo_photos(workdir / "photos")
    shots: list[Path] = []
    with demo_server(workdir / "server") as server:
        # ------------------------------------------------------------ inspector
        backend = DeviceBackend(workdir / "inspector", server.url)
        d = Driver(HazardChainApp(backend, auto_sync=False)).start()
        login = d.app.manager.get_screen("login")
        login.ids.username.text = "inspector"
        shots.append(d.screenshot(out / "inspector-01-login.png"))
        _login(d, "inspector")
        plan_tasks(server, backend)
        d.app.start_sync()
        d.pump()
        shots.append(d.screenshot(out / "inspector-02-home.png"))
        d.go("sites")
        shots.append(d.screenshot(out / "inspector-03-sites.png"))
        sites = d.app.manager.get_screen("sites")
        sites.ids.search.text = "万达"
        d.pump()
        mall = next(s for s in backend.sites() if s["name"] == "万达广场乌海店")
        d.go("site", site_id=mall["id"])
        shots.append(d.screenshot(out / "inspector-04-site.png"))
        site_screen = d.app.screen()
        site_screen.report_form()
        d.pump()
        form = d.popups()[0]
        form.inputs["title"].text = "消防通道被装修材料占用"
        form.inputs["description"].text = "B1层东侧消防通道堆满石膏板"
        d.press(form.severity_major)
        shots.append(d.screenshot(out / "inspector-04b-report-hazard.png"))
        form.dismiss()
        d.settle_popups()
        site_screen.pick_template()
        d.pump()
        shots.append(d.screenshot(out / "inspector-05-choose-checklist.png"))
        picker = d.popups()[0]
        picker.start()
        d.pump()
        checklist = d.app.screen()
        fill_some_answers(d, checklist, photo_dir)
        shots.append(d.screenshot(out / "inspector-06-checklist.png"))
        failed_rows = [i for i, r in enumerate(checklist.rows) if r.get("failed")]
        first_failed = failed_rows[0]
        checklist.scroll_to(max(failed_rows[-1] - 1, 0))
        d.pump()
        shots.append(d.screenshot(out / "inspector-07-checklist-failed-items.png"))
        checklist.show_basis(checklist.rows[first_failed]["item_id"])
        d.pump()
        shots.append(d.screenshot(out / "inspector-08-guidance-and-basis.png"))
        for p in d.popups():
            p.dismiss()
        d.pump()
        d.press(checklist.ids.review_button)
        review = d.app.screen()
        shots.append(d.screenshot(out / "inspector-09a-review-unanswered.png"))
        review.ask_mark_rest()  # the items not reached: 未检查, with the reason
        d.pump()
        d.popups()[0].inputs["reason"].text = "商场营业中，其余项目下次闭店后检查"
        d.press(d.popups()[0].ids.submit_button)
        d.pump()
        review = d.app.screen()
        sign(d, review)
        shots.append(d.screenshot(out / "inspector-09-review-and-sign.png"))
        review.ask_submit()
        d.pump()
        shots.append(d.screenshot(out / "inspector-10-confirm-submit.png"))
        yes = [b for b in d.popups()[0].ids.buttons.children if b.kind != "secondary"][0]
        d.press(yes)
        d.pump()
        shots.append(d.screenshot(out / "inspector-11-submitted-locked.png"))
        # a note queued offline on a hazard the officer cancels meanwhile: refused with a reason
        target = next(h for h in backend.hazards() if h["title"] == "卸油区消防沙不足")
        backend.append_event(target["id"], "note", {"text": "复查时发现消防沙仍不足"})
        with server.login("officer") as officer:
            officer.post(
                f"/hazards/{target['id']}/events",
                json={"type": "cancelled", "payload": {"reason": "重复上报，已合并"}},
            ).raise_for_status()
        other = next(h for h in backend.hazards() if h["title"] == "安全出口被货物堵塞")
        backend.append_event(other["id"], "note", {"text": "企业已开始清理，明日复查"})
        d.go("sync")
        shots.append(d.screenshot(out / "inspector-12-sync-pending.png"))
        d.app.start_sync()
        d.pump()
        backend.append_event(other["id"], "note", {"text": "复查：北侧出口已清理一半"})
        d.go("sync")
        shots.append(d.screenshot(out / "inspector-13-sync-receipts.png"))
        d.go("hazards")
        shots.append(d.screenshot(out / "inspector-14-hazards.png"))
        d.go("hazard", hazard_id=target["id"])
        shots.append(d.screenshot(out / "inspector-15-hazard-refused-note.png"))
        d.go("hazard", hazard_id=other["id"])
        shots.append(d.screenshot(out / "inspector-16-hazard-pending-note.png"))
        d.go("settings")
        shots.append(d.screenshot(out / "inspector-17-settings.png"))
        d.app.set_language("en")
        d.go("home")
        shots.append(d.screenshot(out / "inspector-18-home-english.png"))
        d.go("checklist", draft_id=checklist.draft["id"])
        shots.append(d.screenshot(out / "inspector-19-checklist-english-locked.png"))
        d.app.set_language("zh_CN")
        d.go("settings")
        d.app.manager.get_screen("settings").logout()
        d.pump()
        shots.append(d.screenshot(out / "inspector-20-logout-refused.png"))
        d.stop()

        # ------------------------------------------------------------ enterprise
        backend = DeviceBackend(workdir / "enterprise", server.url)
        d = Driver(HazardChainApp(backend, auto_sync=False)).start()
        _login(d, "enterprise")
        d.app.start_sync()
        d.pump()
        shots.append(d.screenshot(out / "enterprise-01-home.png"))
        d.go("hazards")
        shots.append(d.screenshot(out / "enterprise-02-hazards.png"))
        assigned = next(h for h in backend.hazards() if h["title"] == "地下车库电动自行车违规充电")
        hz = d.go("hazard", hazard_id=assigned["id"])
        shots.append(d.screenshot(out / "enterprise-03-hazard-actions.png"))
        hz.open_action("plan_submitted")
        d.pump()
        shots.append(d.screenshot(out / "enterprise-04-plan-form.png"))
        for p in d.popups():
            p.dismiss()
        hz.open_action("rectification_submitted")
        d.pump()
        hz.action_dialog.inputs["description"].text = "已拆除飞线，增设集中充电柜12个"
        from mobile_app.ui.photos import store_photo

        store_photo(d.app, str(photo_dir / "after.png"), hz.action_dialog.add_evidence)
        d.pump()
        shots.append(d.screenshot(out / "enterprise-05-rectification-evidence.png"))
        hz.action_dialog.submit()
        d.pump()
        shots.append(d.screenshot(out / "enterprise-06-hazard-pending-rectification.png"))
        d.go("sync")
        shots.append(d.screenshot(out / "enterprise-07-sync-only-copy.png"))
        d.go("sites")
        shots.append(d.screenshot(out / "enterprise-08-sites.png"))
        d.go("settings")
        shots.append(d.screenshot(out / "enterprise-09-settings.png"))
        d.stop()
    return shots


def plan_tasks(server, backend) -> None:
    """An officer plans daily inspections for the inspector, so Home has today's tasks."""
    from datetime import date

    with server.login("officer") as officer:
        sites = {
            s["name"]: s["id"] for s in officer.get("/sites", params={"limit": 500}).json()["items"]
        }
        officer.post(
            "/plans",
            json={
                "name": "人员密集场所每日巡查",
                "site_ids": [
                    sites["万达广场乌海店"],
                    sites["乌海市第一中学"],
                    sites["华联超市海勃湾店"],
                ],
                "template_id": "crowded_venue",
                "template_version": 1,
                "frequency": "daily",
                "start_date": date.today().isoformat(),
                "due_days": 1,
                "assignee_user_id": backend.current_user()["id"],
            },
        ).raise_for_status()


def fill_some_answers(d, checklist, photo_dir: Path) -> None:
    """Answer the first items of each kind the way an inspector would, some failing."""
    from mobile_app.ui.photos import store_photo

    answered = 0
    for index, row in enumerate(checklist.rows):
        if row["viewclass"] == "SectionRow" or answered >= 14:
            continue
        item = checklist.template.item(row["item_id"])
        value: object
        if item.answer == "yes_no":
            value = item.pass_when if answered % 4 else ("no" if item.pass_when == "yes" else "yes")
        elif item.answer == "number":
            rule = item.pass_rule
            value = (rule.value or rule.max or 0) + (1 if answered % 3 == 0 else -0.5)
        elif item.answer == "choice":
            value = item.choices[-1].value if answered % 5 == 0 else item.choices[0].value
        else:
            value = "现场记录：已核查台账"
        checklist.set_answer(index, row["item_id"], value=value)
        if checklist.rows[index]["failed"]:

            def attach(sha: str, index=index, item_id=row["item_id"]) -> None:
                photos = list((checklist.answers.get(item_id) or {}).get("photos") or []) + [sha]
                checklist.set_answer(index, item_id, photos=photos)

            store_photo(d.app, str(photo_dir / "before.png"), attach)
            d.pump()
        if answered == 2:
            checklist.set_answer(index, row["item_id"], note="东侧楼梯间复核")
        answered += 1
    for index, row in enumerate(checklist.rows):
        if row["viewclass"] != "SectionRow" and not row["value"] and index > 40:
            checklist.set_answer(index, row["item_id"], value="na", note="本店无地下车库")
            break
    d.pump()


def sign(d, review) -> None:
    review.ids.representative.text = "陈安全员"
    review.ids.pad_inspector.draw_points(
        [(0.1, 0.3), (0.25, 0.7), (0.4, 0.35), (0.6, 0.75), (0.85, 0.4)]
    )
    review.ids.pad_representative.draw_points(
        [(0.1, 0.6), (0.3, 0.3), (0.5, 0.65), (0.7, 0.3), (0.9, 0.6)]
    )
    d.pump()
    import time

    time.sleep(0.6)  # the signatures are saved shortly after the last stroke
    d.pump(frames=10)


def patrol(d, photo_dir: Path, visit: Callable[[str], None]) -> str:
    """The mall's safety manager's daily fire patrol (每日防火巡查, issue 18) through the
    widgets, at whatever size the window has: Home → the mall → the patrol → every item
    answered (one failed, with its photo) → review → the patroller's signature → submit.
    ``visit(name)`` runs on each screen and popup (the phone tests check the layout there,
    the phone tour saves it). Returns the inspection's id."""
    app = d.app
    visit("home")
    home = app.screen()
    row = next(w for w in home.ids.sites.children if getattr(w, "title", "") == MALL)
    d.press(row)
    site = app.screen()
    assert app.manager.current == "site", app.manager.current
    visit("site")
    d.press(site.ids.start)
    picker = d.popups()[0]
    visit("choose-checklist")
    assert picker.chosen is not None and picker.chosen["id"] == PATROL, picker.chosen
    d.press(picker.ids.go)
    d.settle_popups()
    checklist = app.screen()
    assert app.manager.current == "checklist", app.manager.current
    visit("checklist")
    for index, row in enumerate(checklist.rows):
        if row["viewclass"] == "SectionRow":
            continue
        item = checklist.template.item(row["item_id"])
        checklist.scroll_to(max(index - 1, 0))
        d.pump()
        view = checklist._view(index)
        assert view is not None, f"row {index} not on screen"
        if item.answer == "yes_no":
            fail = item.photo_required and not any(r.get("failed") for r in checklist.rows)
            wrong = "no" if item.pass_when == "yes" else "yes"
            d.press(view.ids[wrong if fail else item.pass_when])
            if fail:
                visit("checklist-failed-item")
                photo = next(
                    w for w in view.walk() if getattr(w, "text", "").startswith(app.t("Photo"))
                )
                d.press(photo)
                chooser = d.popups()[0]
                chooser.ids.chooser.selection = [str(photo_dir / "before.png")]
                visit("photo")
                use = next(
                    w for w in chooser.walk() if getattr(w, "text", "") == app.t("Use this photo")
                )
                d.press(use)
                d.settle_popups()
                assert checklist.rows[index]["photos"] == 1
        elif item.answer == "number":
            rule = item.pass_rule
            value = rule.value + (1 if rule.op == ">" else -1 if rule.op == "<" else 0)
            view.ids.entry.text = str(value)
            view.flush()
        elif item.answer == "choice":
            good = next(c for c in item.choices if c.passes)
            d.press(next(b for b in view.ids.choice_box.children if b.choice == good.value))
        else:
            view.ids.entry.text = "巡查正常"
            view.flush()
        d.pump()
    if app.phone:  # the sections are a pane of their own: open it, pick one, back to items
        d.press(checklist.ids.sections_button)
        visit("checklist-sections")
        d.press(checklist.ids.sections.children[0])
        assert checklist.pane == 1
    d.press(checklist.ids.review_button)
    review = app.screen()
    assert app.manager.current == "review", app.manager.current
    visit("review")
    if app.phone:
        d.press(review.ids.to_sign)
    review.ids.pad_inspector.draw_points(
        [(0.1, 0.3), (0.25, 0.7), (0.4, 0.35), (0.6, 0.75), (0.85, 0.4)]
    )
    d.pump()
    time.sleep(0.6)  # the signature is saved shortly after the last stroke
    d.pump(frames=10)
    visit("review-signed")
    d.press(review.ids.submit_button)
    visit("confirm-submit")
    yes = [b for b in d.popups()[0].ids.buttons.children if b.kind != "secondary"][0]
    d.press(yes)
    d.settle_popups()
    d.pump()
    assert review.locked, app.toast_text
    visit("submitted")
    return review.draft["id"]


def run_phone_tour(
    out: Path, workdir: Path | None = None, size: tuple[int, int] = (360, 740)
) -> list[Path]:
    """The enterprise patrol and the other screens at phone size, each saved as a PNG."""
    from kivy.core.window import Window

    from devtools.kivy_driver import Driver
    from mobile_app.app import HazardChainApp
    from mobile_app.core.device_backend import DeviceBackend

    workdir = workdir or Path(tempfile.mkdtemp(prefix="hc-phone-tour-"))
    out.mkdir(parents=True, exist_ok=True)
    Window.size = size
    photo_dir = write_demo_photos(workdir / "photos")
    os.environ["HAZARDCHAIN_PHOTO_DIR"] = str(photo_dir)  # the file chooser opens there
    shots: list[Path] = []
    with demo_server(workdir / "server") as server:
        backend = DeviceBackend(workdir / "enterprise", server.url)
        d = Driver(HazardChainApp(backend, auto_sync=False)).start()
        step = iter(range(1, 100))

        def shot(name: str) -> None:
            shots.append(d.screenshot(out / f"phone-{next(step):02d}-{name}.png"))

        shot("login")
        _login(d, "enterprise")
        d.app.start_sync()
        d.pump()
        patrol(d, photo_dir, shot)
        for name in ("sites", "hazards", "sync", "settings"):
            d.go(name)
            shot(name)
        d.stop()
    return shots


def main(argv: list[str] | None = None) -> int:
    """``python -m devtools.tablet_tour --screenshots DIR`` renders every screen with demo data
    (as inspector and as enterprise user); ``--phone DIR`` the enterprise's daily fire patrol
    at phone size."""
    import argparse
    import sys

    from mobile_app.kivy_env import configure

    p = argparse.ArgumentParser(prog="python -m devtools.tablet_tour", description=main.__doc__)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--screenshots", metavar="DIR", help="render every screen to DIR")
    what.add_argument("--phone", metavar="DIR", help="render the phone patrol to DIR")
    p.add_argument("--size", help="window size (1280x800, or 360x740 for --phone)")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    work = Path(tempfile.mkdtemp(prefix="hc-tour-"))
    if args.screenshots:
        configure(work, args.size or "1280x800", headless=True)
        paths = run_tour(Path(args.screenshots), work)
    else:
        size = args.size or "360x740"
        configure(work, size, headless=True)
        w, h = (int(x) for x in size.lower().split("x"))
        paths = run_phone_tour(Path(args.phone), work, (w, h))
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
