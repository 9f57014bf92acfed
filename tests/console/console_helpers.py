"""Small shared pieces of the console tests: demo ids, an HTTP client that logs in and posts
forms like a browser, and an inspection raised through the service with the real
crowded-venue checklist."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import Session, select

from server.auth.scope import scope_of
from server.checklists.service import DEFAULT_ROOT, import_into
from server.context import Caller
from server.demo import did
from server.demo_inspections import answered_in_full
from server.inspections import service as inspections
from server.inspections.schemas import InspectionSubmit
from server.uow import unit_of_work
from server.users.models import User
from shared.checklist import load_all
from shared.clock import to_iso

MALL = did("site", "万达广场乌海店")
HAZARD_ROW = re.compile(r'data-hazard="([0-9a-f-]{36})"')  # a hazard's row in a console list
IN_REVIEW = did("hazard", "防火卷帘门下堆放杂物")  # 海勃湾区, evidence submitted by the enterprise
VERIFIED = did("hazard", "消防控制室值班人员不足")  # 海勃湾区, awaiting closure
REPORTED = did("hazard", "教学楼二层疏散指示标志不亮")  # 海勃湾区, awaiting assignment
OVERDUE = did("hazard", "安全出口被货物堵塞")  # 海勃湾区, assigned long ago
WUDA_MAJOR = did("hazard", "采煤工作面甲烷浓度超限仍在作业")  # 乌达区
CLOSED = did("hazard", "厨房燃气未安装泄漏报警装置")


def caller_for(session: Session, username: str) -> Caller:
    user = session.exec(select(User).where(User.username == username)).one()
    return Caller(user, scope_of(session, user))


def raise_inspection(
    engine, clock, username: str = "inspector", **extra: Any
) -> tuple[str, list[str]]:
    """Import the real checklists and submit an inspection of the mall (mall profile) that fails
    two general items and one major one and passes the rest; returns (inspection id, failed item ids). ``extra`` adds fields
    to the payload."""
    import_into(engine, DEFAULT_ROOT, clock.now())
    template = load_all(DEFAULT_ROOT)[("crowded_venue", 1)]
    yes_no = [i for i in template.items() if i.answer == "yes_no" and i.profiles is None]
    general = [i for i in yes_no if i.severity == "general" and not i.photo_required][:2]
    major = [i for i in yes_no if i.severity == "major"][:1]
    failed = general + major
    profile = extra.pop("profile", "mall")
    failing = {i.id: ("no" if i.pass_when == "yes" else "yes") for i in failed}
    failing |= extra.pop("marks", {})  # 不适用 / 未检查 marks (give their reasons in item_notes)
    answers = answered_in_full(template, failing, profile)  # every other item passes
    photos = {i.id: ["ab" * 32] for i in failed if i.photo_required}
    body = InspectionSubmit.model_validate(
        {
            "id": str(uuid.uuid4()),
            "site_id": MALL,
            "template_id": "crowded_venue",
            "template_version": 1,
            "profile": profile,
            "answers": answers,
            "photos": photos,
            "notes": "夜间检查",
            "started_at": to_iso(clock.now() - timedelta(hours=1)),
            "ended_at": to_iso(clock.now()),
            "location": {"lat": 39.65, "lon": 106.83, "accuracy": 12},
            **extra,
        }
    )
    with unit_of_work(engine) as session:  # the test is the edge: it commits
        done = inspections.submit(session, caller_for(session, username), body, now=clock.now())
        session.commit()  # the test is the edge (services only flush since #12)
    return done.inspection.id, [i.id for i in failed]


TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient:
    """An HTTP client holding the console's cookies; ``post_form`` sends the page's CSRF token."""

    def __init__(self, base_url: str, lang: str | None = None) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
        if lang:
            self.http.cookies.set("hc_lang", lang, path="/console")

    def get(self, path: str, **kw) -> httpx.Response:
        return self.http.get(path, **kw)

    def token(self, path: str = "/console/login") -> str:
        r = self.http.get(path)
        m = TOKEN_RE.search(r.text)
        assert m, f"no CSRF token on {path} ({r.status_code})"
        return m.group(1)

    def post_form(
        self, path: str, data: dict | list, *, from_page: str, files=None
    ) -> httpx.Response:
        token = self.token(from_page)
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        form: dict[str, list[str]] = {"csrf_token": [token]}
        for k, v in pairs:
            form.setdefault(k, []).extend(v if isinstance(v, list) else [v])
        return self.http.post(path, data=form, files=files)

    def login(self, username: str, password: str = "demo-password") -> ConsoleClient:
        r = self.post_form(
            "/console/login",
            {"username": username, "password": password, "next": "/console/"},
            from_page="/console/login",
        )
        assert r.status_code == 303, r.text[:500]
        return self

    def close(self) -> None:
        self.http.close()


def browser_login(page, base: str, username: str, password: str = "demo-password") -> None:
    """Log ``page`` into the console as a person does: the form, then the landing page."""
    page.goto(f"{base}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def kpi(page, key: str) -> str:
    """A dashboard tile's figure, as shown."""
    return page.locator(f"[data-kpi={key}] .value").inner_text().strip()


def hazard_rows(html: str) -> list[str]:
    """The hazard ids a console list page shows, in its order."""
    return HAZARD_ROW.findall(html)
