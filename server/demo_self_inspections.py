"""Demo self-inspections (自查) for ``hazardchain demo``: a month of the patrols and checks the
rules ask of the demo's crowded venues and gas users (``shared.site_checklists.SELF_CHECKS``),
done by their own safety managers through the same service the phone's patrols go through.

Some do what the law asks, some do not: the mall patrols most two-hour slots and finds and
fixes hazards itself (one self-closed, one self-closed and passed by the officer's 抽查); the
department store patrols once a day and never reports anything, while the inspector keeps
finding hazards there (the dashboard flags it); the restaurant checks its gas daily with a few
days missed and has a self-found hazard still open; the canteen skips one day in six.

Kept apart from ``server.demo`` (the data set every test starts from), like the demo
inspections: these add hazards. They need the checklist templates (imported by ``db upgrade``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from server.auth.scope import scope_of
from server.blobs.store import BlobStore
from server.checklists.models import ChecklistTemplate
from server.checklists.service import template_of
from server.context import Caller
from server.demo import demo_photo, demo_signature, did, store_demo_blob
from server.demo_inspections import answered_in_full
from server.hazards import service as hazards
from server.inspections import service as inspections
from server.inspections.models import Inspection
from server.inspections.schemas import InspectionSubmit
from server.users import service as users
from server.users.models import User
from shared.deadlines import DeadlinePolicy
from shared.findings import finding_hazard_id
from shared.site_checklists import SELF_CHECKS

NS = uuid.UUID("0c1f6a52-3e0b-4d8e-9b7a-5d2c1e4f6a18")
DAYS = 30
# the demo's own safety managers of the other self-inspecting sites (the mall's is ``enterprise``)
USERS = [
    ("baihuo", "郑安全员", "乌海百货大楼"),
    ("chuanwei", "何老板", "海勃湾川味小厨"),
    ("shitang", "韩管理员", "海南区机关食堂"),
]
# (site, its patroller, two-hour slots patrolled a day, days skipped: every n-th)
PLANS = [
    ("万达广场乌海店", "enterprise", 5, 9),
    ("乌海百货大楼", "baihuo", 1, 0),
    ("海勃湾川味小厨", "chuanwei", 2, 7),
    ("海南区机关食堂", "shitang", 0, 6),
]
SLOTS = (9, 11, 13, 15, 17, 19)  # the 09:00-21:00 opening hours' two-hour slots
# (site, patroller, days ago, template, failed item, close it: None, "free" or "drawn")
FINDINGS = [
    ("万达广场乌海店", "enterprise", 12, "fire_patrol_daily", "patrol.fac.extinguishers", "free"),
    ("万达广场乌海店", "enterprise", 5, "fire_patrol_daily", "patrol.fac.signs", "drawn"),
    ("海勃湾川味小厨", "chuanwei", 3, "gas_user_daily", "gasuser.ventilation", None),
]
# what the inspector keeps finding at the store that reports nothing (days ago, title)
REGULATOR_FINDS = [
    (20, "乌海百货大楼", "三楼安全出口指示灯不亮"),
    (9, "乌海百货大楼", "消防控制室无人值守"),
]


def _caller(session: Session, username: str) -> Caller:
    user = session.exec(select(User).where(User.username == username)).one()
    return Caller(user, scope_of(session, user))


class _Patrols:
    """Submits one site's self-inspections as its patroller, each signed alone."""

    def __init__(self, session: Session, store: BlobStore, tz: str, policy: DeadlinePolicy):
        self.session, self.store, self.zone, self.policy = session, store, ZoneInfo(tz), policy
        self.signatures: dict[str, str] = {}
        self.templates = {
            tid: template_of(row)
            for tid in ("fire_patrol_daily", "fire_check_monthly", "gas_user_daily")
            if (row := session.get(ChecklistTemplate, (tid, 1))) is not None
        }

    def at(self, now: datetime, days_ago: int, hour: int, minute: int = 20) -> datetime:
        day = now.astimezone(self.zone).date() - timedelta(days=days_ago)
        return datetime.combine(day, time(hour, minute), self.zone)

    def submit(
        self,
        caller: Caller,
        site_name: str,
        template_id: str,
        ended: datetime,
        failed: str | None = None,
        draw: str | None = None,
    ) -> str | None:
        """One self-inspection; ``failed`` fails that item, and ``draw`` picks an id whose
        finding the 抽查 draw does ("drawn") or does not ("free") select."""
        template = self.templates.get(template_id)
        if template is None:
            return None
        site_id = did("site", site_name)
        profile = next(
            (c.profile for c in SELF_CHECKS[_site_type(self.session, site_id)]
             if c.template_id == template_id),
            None,
        )  # fmt: skip
        n = 0
        while True:
            inspection_id = str(uuid.uuid5(NS, f"{site_name}/{template_id}/{ended}/{n}"))
            if draw is None or failed is None:
                break
            drawn = self.policy.spot_check_drawn(finding_hazard_id(inspection_id, failed))
            if drawn is (draw == "drawn"):
                break
            n += 1
        if self.session.get(Inspection, inspection_id) is not None:
            return inspection_id
        user = caller.user
        if user.id not in self.signatures:  # one signature each (storing a blob commits)
            self.signatures[user.id] = store_demo_blob(
                self.session, self.store, demo_signature(user.display_name), user.id, ended
            )
        sig = self.signatures[user.id]
        body = InspectionSubmit.model_validate(
            {
                "id": inspection_id,
                "site_id": site_id,
                "template_id": template_id,
                "template_version": 1,
                "profile": profile,
                "answers": answered_in_full(template, {failed: "no"} if failed else {}, profile),
                "signatures": {"inspector": sig},
                "notes": "演示数据：企业自查",
                "started_at": ended - timedelta(minutes=15),
                "ended_at": ended,
            }
        )
        inspections.submit(self.session, caller, body, now=ended)
        return inspection_id


def _site_type(session: Session, site_id: str) -> str:
    from server.sites.models import Site

    return session.get(Site, site_id).site_type


def load_demo_self_inspections(
    session: Session,
    *,
    now: datetime,
    store: BlobStore,
    password: str,
    tz: str = "Asia/Shanghai",
    policy: DeadlinePolicy | None = None,
) -> int:
    """A month of self-inspections, once; returns how many were added (0 when there, or when
    the demo or the templates are not)."""
    policy = policy or DeadlinePolicy()
    if session.exec(select(User).where(User.username == "enterprise")).first() is None:
        return 0
    if session.exec(select(User).where(User.username == "baihuo")).first() is not None:
        return 0
    start = now - timedelta(days=DAYS + 1)
    for username, display, site_name in USERS:
        users.create_user(
            session,
            {
                "username": username,
                "display_name": display,
                "role": "enterprise",
                "unit": site_name,
                "password": password,
                "district_ids": [],
                "site_ids": [did("site", site_name)],
            },
            start,
        )
    session.flush()
    patrols = _Patrols(session, store, tz, policy)
    if not patrols.templates:
        return 0
    added = 0
    for site_name, username, per_day, skip_every in PLANS:
        caller = _caller(session, username)
        site_type = _site_type(session, did("site", site_name))
        checks = {c.template_id: c.rhythm for c in SELF_CHECKS[site_type]}
        for back in range(DAYS - 1, 0, -1):
            if skip_every and back % skip_every == 0:
                continue  # a missed day
            if checks.get("fire_patrol_daily") == "every_2h_open":
                for hour in SLOTS[:per_day]:
                    ended = patrols.at(now, back, hour)
                    added += bool(patrols.submit(caller, site_name, "fire_patrol_daily", ended))
            if "gas_user_daily" in checks:
                ended = patrols.at(now, back, 8, 40)
                added += bool(patrols.submit(caller, site_name, "gas_user_daily", ended))
        if "fire_check_monthly" in checks and per_day >= 2:  # the diligent ones check monthly
            ended = patrols.at(now, 16, 14)
            added += bool(patrols.submit(caller, site_name, "fire_check_monthly", ended))
    for site_name, username, back, template_id, item, close in FINDINGS:
        caller = _caller(session, username)
        ended = patrols.at(now, back, 16, 5)
        iid = patrols.submit(caller, site_name, template_id, ended, item, close)
        if iid is None:
            continue
        added += 1
        if close is not None:
            _self_close(session, store, caller, finding_hazard_id(iid, item), ended, policy)
    inspector = _caller(session, "inspector")
    for back, site_name, title in REGULATOR_FINDS:
        at = patrols.at(now, back, 10)
        photo = demo_photo(session, store, title, (200, 60, 60), inspector.user.id, at)
        payload = {"site_id": did("site", site_name), "title": title, "severity": "general",
                   "photos": [photo]}  # fmt: skip
        hazards.report(
            session, inspector, payload=payload, now=at, hazard_id=did("hazard", title),
            policy=policy,
        )  # fmt: skip
    session.flush()
    return added


def _self_close(
    session: Session,
    store: BlobStore,
    caller: Caller,
    hazard_id: str,
    found: datetime,
    policy: DeadlinePolicy,
) -> None:
    """Fixed the next morning with photos before and after; a drawn one is 抽查'd by the
    district's officer two days later and passes."""
    fixed = found + timedelta(hours=18)
    uid = caller.user.id
    before = demo_photo(session, store, f"{hazard_id}-before", (190, 90, 40), uid, fixed)
    after = demo_photo(session, store, f"{hazard_id}-after", (40, 150, 80), uid, fixed)
    done = hazards.append_by_caller(
        session, caller, hazard_id=hazard_id, event_type="self_closed",
        payload={"description": "当班已整改：更换并复查合格", "photos": [before],
                 "evidence": [after]},
        now=fixed, policy=policy,
    )  # fmt: skip
    if done.view.spot_check == "drawn":
        hazards.append_by_caller(
            session, _caller(session, "officer"), hazard_id=hazard_id,
            event_type="spot_checked", payload={"comment": "抽查：现场核实已整改到位"},
            now=fixed + timedelta(days=2), policy=policy,
        )  # fmt: skip
