"""Demo inspections for ``hazardchain demo``: a few checklists run by the demo inspector, signed
by the inspector and the site's representative, through the same service the tablet's
inspections go through, so the console's inspection records are not empty in a demo.

Kept apart from ``server.demo`` (the data set every test starts from): these add hazards, and
the tests count hazards. They need the checklist templates (imported by ``db upgrade``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlmodel import Session, select

from server.auth.scope import scope_of
from server.blobs.store import BlobStore
from server.checklists.models import ChecklistTemplate
from server.checklists.service import template_of
from server.context import Caller
from server.demo import demo_signature, did, store_demo_blob
from server.inspections import service as inspections
from server.inspections.models import Inspection
from server.inspections.schemas import InspectionSubmit
from server.users.models import User
from shared.checklist import Item, Template

# (site, template, profile, how many yes/no items fail, hours before now, representative)
RUNS = [
    ("万达广场乌海店", "crowded_venue", "mall", 2, 50, "陈安全员"),
    ("乌海市第一中学", "crowded_venue", "school", 1, 30, "周校长"),
    ("海勃湾区社会福利院", "crowded_venue", "elderly_care", 0, 6, "吴院长"),
    # their hazards are tagged to the 一件事 links: lpg.use, ebike.parking / ebike.charging
    ("海勃湾川味小厨", "town_gas", "restaurant", 2, 20, "何老板"),
    ("海勃湾康乐园小区", "ebike", "residential_compound", 3, 10, "物业林经理"),
    # the sector templates; the carrier's hazards are tagged to hazardous_chemicals.transport
    (
        "乌海市顺安危险货物运输有限公司",
        "hazmat_road_transport",
        "hazmat_carrier",
        2,
        15,
        "安全经理王强",
    ),
    ("滨河新区安置房项目工地", "construction", "building_site", 2, 26, "项目经理赵工"),
    ("千里山铁合金厂", "industry_trade", "metallurgy", 1, 40, "安全科马科长"),
]
NS = uuid.UUID("5b0e3c1a-7d2e-4c55-9a61-2f3e4d5c6b7a")


def passing_answer(item: Item) -> str | float:
    """An answer that passes ``item``: demo and test inspections set the answers they are about
    and pass the rest, since an inspection must answer every item (``shared.completion``)."""
    if item.answer == "yes_no" and item.pass_when:
        return item.pass_when
    if item.answer == "number" and item.pass_rule is not None:
        r = item.pass_rule
        tries = [
            r.min,
            r.max,
            r.value,
            *(r.value + d for d in (-1, 1, -0.1, 0.1) if r.value is not None),
        ]
        return next(float(x) for x in (*tries, 0.0) if x is not None and r.passes(float(x)))
    if item.answer == "choice":
        return next(c.value for c in item.choices if c.passes)
    return "无异常"


def answered_in_full(
    template: Template, answers: dict[str, object], profile: str | None
) -> dict[str, object]:
    """``answers`` with every other item that applies answered so that it passes."""
    rest = {i.id: passing_answer(i) for i in template.items() if i.applies_to(profile)}
    return {**rest, **answers}


def load_demo_inspections(session: Session, *, now: datetime, store: BlobStore) -> int:
    """Submit the demo inspections once; returns how many were added (0 when there, or when
    the templates are not imported)."""
    user = session.exec(select(User).where(User.username == "inspector")).first()
    if user is None:
        return 0
    caller = Caller(user, scope_of(session, user))
    added = 0
    for site_name, template_id, profile, failing, hours, representative in RUNS:
        inspection_id = str(uuid.uuid5(NS, site_name))
        row = session.get(ChecklistTemplate, (template_id, 1))
        if row is None or session.get(Inspection, inspection_id) is not None:
            continue
        template = template_of(row)
        ended = now - timedelta(hours=hours)
        items = [
            i
            for i in template.items()
            if i.answer == "yes_no" and i.applies_to(profile) and not i.photo_required
        ]
        failed = {i.id: ("no" if i.pass_when == "yes" else "yes") for i in items[:failing]}
        answers = answered_in_full(template, failed, profile)
        signer = user.id
        signatures = {
            "inspector": store_demo_blob(session, store, demo_signature(user.display_name), signer, ended),
            "representative": store_demo_blob(session, store, demo_signature(representative), signer, ended),
            "representative_name": representative,
        }  # fmt: skip
        notes = {items[-1].id: "现场核实，台账齐全"} if items else {}
        body = InspectionSubmit.model_validate(
            {
                "id": inspection_id,
                "site_id": did("site", site_name),
                "template_id": row.id,
                "template_version": row.version,
                "profile": profile,
                "answers": answers,
                "item_notes": notes,
                "signatures": signatures,
                "notes": "演示数据：例行检查",
                "started_at": ended - timedelta(hours=1, minutes=20),
                "ended_at": ended,
            }
        )
        inspections.submit(session, caller, body, now=ended)
        added += 1
    return added
