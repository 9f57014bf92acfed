"""Migrations and models agree, and upgrade → downgrade → upgrade works on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import server.models  # noqa: F401
from server.db import make_engine, metadata
from server.migrate import downgrade, upgrade


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_and_models_match(db_url):
    assert _diff(db_url) == [], "models and migrations disagree: add a migration"
    assert _tables(db_url) == set(metadata.tables)
    downgrade(db_url, "base")
    assert _tables(db_url) == set()
    upgrade(db_url)
    assert _diff(db_url) == []
    assert "hazard_event" in _tables(db_url)


def test_0009_keeps_blobs_visible_as_before(db_url, demo, blob_store, clock):
    """Before 0009 nobody was recorded as an owner: a finished blob's uploader and the
    inspector of each inspection citing it become owners; hazard links keep granting."""
    from pathlib import Path

    from sqlmodel import Session, select

    from server.checklists.service import import_tree
    from server.demo_inspections import load_demo_inspections
    from server.hazards.models import Attachment, BlobOwner, HazardPhoto
    from server.inspections.models import Inspection, inspection_blobs
    from server.uow import unit_of_work

    engine = make_engine(db_url)
    try:
        with unit_of_work(engine) as s:  # the test is the edge that commits
            import_tree(s, Path(__file__).parents[2] / "checklists", clock.now())
            assert load_demo_inspections(s, now=clock.now(), store=blob_store) > 0
            finished = s.exec(select(Attachment).where(Attachment.complete.is_(True))).all()
            expected = {(a.sha256, a.uploaded_by) for a in finished}
            for i in s.exec(select(Inspection)).all():
                expected |= {
                    (sha, i.inspector_id) for sha in inspection_blobs(i.photos, i.signatures)
                }
            links = len(s.exec(select(HazardPhoto)).all())
        engine.dispose()
        downgrade(db_url, "0009-1")
        upgrade(db_url)
        with Session(engine) as s:
            got = {(o.sha256, o.user_id) for o in s.exec(select(BlobOwner)).all()}
            assert got == expected and len(expected) > 3
            rows = s.exec(select(HazardPhoto)).all()
            assert len(rows) == links > 0 and all(r.waiting_for is None for r in rows)
    finally:
        engine.dispose()


def test_0013_fills_who_acts_next_for_existing_hazards(db_url, demo):
    """Hazards written before 0013 get ``next_roles`` from their folded chains: the same value
    the projection writes (an officer's assignment, an enterprise's rectification)."""
    from sqlmodel import Session, select

    from server.hazards.models import Hazard

    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            expected = {h.id: h.next_roles for h in s.exec(select(Hazard)).all()}
        assert {"officer", "enterprise"} <= set(expected.values())
        engine.dispose()
        downgrade(db_url, "0013-1")
        upgrade(db_url)
        with Session(engine) as s:
            rows = s.exec(select(Hazard)).all()
            assert {h.id: h.next_roles for h in rows} == expected
            assert all(h.instruction_for == "" for h in rows)
    finally:
        engine.dispose()


def test_0016_reads_who_found_each_existing_hazard_from_its_first_event(db_url, demo, clock):
    """Hazards written before 0016 get ``origin`` from their first event, by the same rule the
    fold uses from then on: the enterprise's own report is self-found, the regulator's is not."""
    from sqlmodel import Session, select

    from server.auth.scope import scope_of
    from server.context import Caller
    from server.demo import did
    from server.hazards import service as hazards
    from server.hazards.models import Hazard
    from server.users.models import User

    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            user = s.exec(select(User).where(User.username == "enterprise")).one()
            payload = {
                "site_id": did("site", "万达广场乌海店"),
                "title": "自报",
                "severity": "general",
            }
            own = hazards.report(s, Caller(user, scope_of(s, user)), payload=payload,
                                 now=clock.now()).view.hazard_id  # fmt: skip
            s.commit()
            expected = {h.id: h.origin for h in s.exec(select(Hazard)).all()}
        assert expected[own] == "self_report" and "regulator" in expected.values()
        engine.dispose()
        downgrade(db_url, "0016-1")
        upgrade(db_url)
        with Session(engine) as s:
            rows = s.exec(select(Hazard)).all()
            assert {h.id: h.origin for h in rows} == expected
            assert not any(h.self_closed or h.spot_check for h in rows)
    finally:
        engine.dispose()


def test_0017_numbers_existing_hazards_in_creation_order(db_url, demo):
    """Hazards written before 0017 get 隐患编号 per district and local year in report order,
    the numbers new reports would have got; the unique index holds them."""
    from sqlmodel import Session, select

    from server.hazards.models import Hazard
    from shared.clock import local_date
    from shared.numbers import NUMBER_RE, sequence_of

    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            expected = {h.id: h.number for h in s.exec(select(Hazard)).all()}
        engine.dispose()
        downgrade(db_url, "0017-1")
        upgrade(db_url)
        with Session(engine) as s:
            rows = s.exec(select(Hazard).order_by(Hazard.reported_at, Hazard.id)).all()
            assert {h.id: h.number for h in rows} == expected and len(rows) > 5
            seen: dict[tuple[str, int], int] = {}
            for h in rows:
                m = NUMBER_RE.match(h.number)
                year = local_date(h.reported_at).year
                assert m and m["district"] == h.district_id and int(m["year"]) == year
                key = (h.district_id, year)
                seen[key] = seen.get(key, 0) + 1
                assert sequence_of(h.number) == seen[key]
    finally:
        engine.dispose()


def test_0024_numbers_existing_inspections_in_the_order_carried_out(
    db_url, demo, blob_store, clock
):
    """Inspections kept before 0024 get 检查记录编号 per district and local year in the order
    they were carried out; the unique index holds them."""
    from pathlib import Path

    from sqlmodel import Session, select

    from server.checklists.service import import_tree
    from server.demo_inspections import load_demo_inspections
    from server.inspections.models import Inspection
    from server.uow import unit_of_work
    from shared.clock import local_date
    from shared.numbers import INSPECTION_NUMBER_RE, sequence_of

    engine = make_engine(db_url)
    try:
        with unit_of_work(engine) as s:
            import_tree(s, Path(__file__).parents[2] / "checklists", clock.now())
            assert load_demo_inspections(s, now=clock.now(), store=blob_store) > 1
        engine.dispose()
        downgrade(db_url, "0024_fieldfix-1")
        upgrade(db_url)
        with Session(engine) as s:
            rows = s.exec(select(Inspection).order_by(Inspection.ended_at, Inspection.id)).all()
            seen: dict[tuple[str, int], int] = {}
            for i in rows:
                m = INSPECTION_NUMBER_RE.match(i.number or "")
                year = local_date(i.ended_at).year
                assert m and m["district"] == i.district_id and int(m["year"]) == year
                key = (i.district_id, year)
                seen[key] = seen.get(key, 0) + 1
                assert sequence_of(i.number) == seen[key]
            assert sum(seen.values()) == len(rows) > 1
    finally:
        engine.dispose()
