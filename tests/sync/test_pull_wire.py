"""A pull page without a model per change: the bytes the ``PullResponse`` model would write,
the same changes as the one OR query it replaced, each scope branch read from an index in seq
order (no sort) on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from server.auth.scope import Scope, scope_of
from server.context import Caller
from server.hazards.models import Hazard, HazardEvent
from server.hazards.service import to_chain_event
from server.sync import feed, service
from server.sync.models import SyncChange
from server.sync.views import wire_json
from server.uow import unit_of_work
from server.users.models import User
from shared.sync_wire import SCHEMA_VERSION, PullResponse


def _old_page(session: Session, scope: Scope, after: int, top: int, limit: int) -> list[int]:
    """The page as the OR-of-scopes query read it before (the reference)."""
    return list(
        session.connection()
        .execute(
            select(SyncChange.seq)
            .where(SyncChange.seq > after, SyncChange.seq <= top, feed.visible(scope))
            .order_by(SyncChange.seq)
            .limit(limit + 1)
        )
        .scalars()
    )


@pytest.mark.parametrize("username", ["admin", "officer", "inspector2", "enterprise"])
def test_pages_are_the_models_bytes_and_the_old_querys_changes(demo, clock, username):
    with Session(demo) as s:
        user = s.execute(select(User).where(User.username == username)).scalars().one()
        caller = Caller(user, scope_of(s, user))
        events = {e.id: e for e in s.execute(select(HazardEvent)).scalars()}
        numbers = dict(s.execute(select(Hazard.id, Hazard.number)).all())
    cursor, seen, pages, checked = None, [], 0, 0
    while True:
        with unit_of_work(demo) as s:
            top, epoch = feed.clock_state(s)
            after = feed.position_of(s, cursor, caller.scope, top=top, epoch=epoch)
            expected = _old_page(s, caller.scope, after, top, 7)[:7]
            body = service.pull(
                s, caller, device_id=f"wire-{username}-0001", cursor=cursor, limit=7,
                schema_version=SCHEMA_VERSION, app_version="t", device_now=None,
                now=clock.now() + timedelta(seconds=pages), max_offline_days=30,
            )  # fmt: skip
        pages += 1
        assert wire_json(body) == PullResponse.model_validate(body).model_dump_json().encode()
        assert [c["seq"] for c in body["changes"]] == expected
        for c in body["changes"]:
            if c["kind"] == "event":
                row = events[c["id"]]
                ev = to_chain_event(row)
                want = ev.body() | {"hash": ev.hash, "hazard_number": numbers[row.hazard_id]}
                assert c["data"] == want and list(c["data"]) == list(want)
                checked += 1
        seen += [c["seq"] for c in body["changes"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert pages >= 2 and checked > 0 and seen == sorted(set(seen))


def test_a_change_in_two_branches_comes_once(demo):
    """A scope naming a district and a site inside it reads the site's changes twice."""
    with Session(demo) as s:
        district, site = s.execute(select(Hazard.district_id, Hazard.site_id).limit(1)).one()
        scope = Scope(False, frozenset({district}), frozenset({site}))
        top, _ = feed.clock_state(s)
        for after in (0, top // 3, top // 2):
            for limit in (1, 5, 40, 1000):
                got = [r.seq for r in feed.page(s, scope, after, top, limit)]
                assert got == _old_page(s, scope, after, top, limit)
        assert len(feed.page(s, scope, 0, top, 1000)) < 1001


def _plan(session: Session, backend: str, scope: Scope) -> str:
    stmt = feed.page_query(scope, 0, 10**9, 500)
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    conn = session.connection()
    if backend == "sqlite":
        return "\n".join(r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    # the tables are small: forbid the plans that are cheap only then, allow sorting, and see
    # whether the planner still needs a sort (it does when no index gives seq order)
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    conn.execute(text("SET LOCAL enable_bitmapscan = off"))
    return "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))


def test_each_branch_of_a_page_is_read_from_an_index_in_seq_order(demo, backend):
    with Session(demo) as s:
        district, site = s.execute(select(Hazard.district_id, Hazard.site_id).limit(1)).one()
        for scope in (
            Scope(False, frozenset({district}), frozenset({site})),
            Scope(True, frozenset(), frozenset()),
        ):
            plan = _plan(s, backend, scope)
            branches = 1 if scope.everything else 3
            if backend == "sqlite":
                assert "TEMP B-TREE" not in plan, plan
                assert "SCAN sync_change" not in plan, plan
                assert plan.count("SEARCH sync_change USING") == branches, plan
            else:
                assert "Sort" not in plan and "Seq Scan" not in plan, plan
                assert plan.count("Index Scan using") == branches, plan
                if not scope.everything:
                    assert "ix_sync_change_shared_seq" in plan, plan
