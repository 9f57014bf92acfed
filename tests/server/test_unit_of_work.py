"""The edge owns the unit of work (docs/architecture.md §Transactions): services only flush; the
request, the sync op, the job runner and the CLI commit, roll back and retry."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from fastapi import APIRouter
from sqlmodel import Session, select

from server.api.deps import NowDep, SessionDep, UnitOfWorkRoute
from server.auth.scope import scope_of
from server.context import Caller
from server.hazards import service as hazards
from server.hazards.models import Hazard, HazardEvent
from server.inspections.models import Inspection
from server.sites.models import District
from server.users.models import User
from shared.errors import DomainError
from shared.findings import finding_hazard_id
from tests.checklists.checklist_fixtures import import_test_templates
from tests.sync.tablets import MALL, op, push_raw, report_payload

SERVER = Path(__file__).parents[2] / "server"
# the edges: the only modules that may end a transaction themselves
EDGES = {"uow.py", "demo.py"}


def test_only_the_edges_commit():
    """A grep, so a service that starts committing again fails here, named."""
    offenders = []
    for path in sorted(SERVER.rglob("*.py")):
        rel = path.relative_to(SERVER).as_posix()
        if rel in EDGES or rel.startswith("migrations/"):
            continue
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            if re.search(r"\.commit\(\)|\bcommit: bool|\bcommit=(True|False)", line):
                offenders.append(f"server/{rel}:{n}: {line.strip()}")
    assert offenders == []


def _mount(app, router: APIRouter) -> None:
    app.include_router(router)  # Starlette reads its route list per request


def test_a_refusal_after_a_flush_leaves_nothing(live_demo, engine, clock):
    """The service flushed a whole hazard (event, projection, feed entry); the endpoint then
    refuses: the answer is the refusal, and nothing of the hazard is in the database."""
    hid = str(uuid.uuid4())
    router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute)

    @router.post("/test-uow/report-then-refuse")
    def report_then_refuse(session: SessionDep, now: NowDep) -> dict:
        user = session.exec(select(User).where(User.username == "inspector")).one()
        caller = Caller(user, scope_of(session, user))
        payload = {"site_id": MALL, "title": "疏散通道堵塞", "severity": "general"}
        hazards.report(session, caller, payload=payload, now=now, hazard_id=hid)
        assert session.get(Hazard, hid) is not None  # flushed, visible in the unit
        raise DomainError.of("invalid_input", "拒绝", "refused after the flush")

    _mount(live_demo.app, router)
    r = live_demo.login("inspector").post("/test-uow/report-then-refuse")
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"
    with Session(engine) as s:
        assert s.get(Hazard, hid) is None
        assert s.exec(select(HazardEvent).where(HazardEvent.hazard_id == hid)).all() == []


def test_a_failed_commit_is_an_error_not_a_success(live_demo, engine):
    """The unit commits before the response goes out: a commit that fails is answered as the
    error it is (409 after the retries), never as the 200 the endpoint returned."""
    router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute)

    @router.post("/test-uow/bad-commit")
    def bad_commit(session: SessionDep) -> dict:
        existing = session.exec(select(District)).first()
        # not flushed here: only the edge's commit meets the duplicate primary key
        session.add(District(id=existing.id, name="重复", name_en="dup", level=existing.level))
        return {"ok": True}

    _mount(live_demo.app, router)
    r = live_demo.login("admin").post("/test-uow/bad-commit")
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def test_a_collision_runs_the_whole_unit_again(live_demo, engine):
    """The first run collides at commit; the edge rolls it back and runs the endpoint again,
    whose work then commits once."""
    router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute)
    runs: list[int] = []
    new_id = f"uow-{uuid.uuid4().hex[:8]}"

    @router.post("/test-uow/collide-once")
    def collide_once(session: SessionDep) -> dict:
        runs.append(1)
        existing = session.exec(select(District)).first()
        district_id = existing.id if len(runs) == 1 else new_id
        session.add(District(id=district_id, name="新区", name_en="new", level=existing.level))
        return {"runs": len(runs)}

    _mount(live_demo.app, router)
    r = live_demo.login("admin").post("/test-uow/collide-once")
    assert r.status_code == 200 and r.json() == {"runs": 2}
    with Session(engine) as s:
        assert s.get(District, new_id) is not None


def test_a_refused_op_is_dropped_alone(live_demo, engine, clock):
    """Op 2 (an inspection) is refused after its inspection row was flushed: its SAVEPOINT goes,
    ops 1 and 3 (each its own unit) stay, and so does op 2's record of the refusal."""
    import_test_templates(engine, clock)
    http = live_demo.login("inspector")
    iid = str(uuid.uuid4())
    taken = finding_hazard_id(iid, "t.alarm.works")  # op 1 takes the id op 2's finding needs
    inspection = {
        "id": iid,
        "site_id": MALL,
        "template_id": "test_fire",
        "template_version": 1,
        "answers": {"t.exit.blocked": "no", "t.alarm.works": "no"},
        "started_at": "2026-03-02T00:00:00Z",
        "ended_at": "2026-03-02T00:40:00Z",
    }
    note = {"hazard_id": taken, "type": "note", "payload": {"text": "after the refusal"}}
    ops = [
        op(1, "hazard.report", report_payload(taken), op_id=taken),
        op(2, "inspection.submit", inspection),
        op(3, "hazard.event", note),
    ]
    body = push_raw(http, "tablet-uow-0001", ops)
    got = [(r["status"], r["code"]) for r in body["results"]]
    assert got[0] == ("applied", None) and got[2] == ("applied", None), got
    assert got[1][0] == "rejected", got
    assert body["last_seq"] == 3
    with Session(engine) as s:
        assert s.get(Inspection, iid) is None  # flushed in op 2, rolled back with it
        types = s.exec(select(HazardEvent.type).where(HazardEvent.hazard_id == taken)).all()
    assert sorted(types) == ["note", "reported"]
