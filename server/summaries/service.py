"""The daily risk summary: figures for one local day and one scope (the city or a district),
computed from the hazards as they stood at the end of that day, so any past day can be
regenerated and gives the same answer.

"As they stood": a hazard unchanged since the cut-off is read from its projection; one that
changed after it (a later event) is re-folded from its events up to the cut-off, with the same
``shared.chain.fold`` that built the projection. The morning run touches few of those; a
regeneration months later folds more, and is still exact.

Definitions (docs/jobs.md):
- new / closed / escalations: reported, closed (销号), escalated events during the day;
- open, overdue, major_open, escalated: at the end of the day (overdue: in a deadline state with
  its deadline passed; escalated: open and under supervision, level ≥ 1);
- rates are year-to-date in the zone (1 January up to the cut-off):
  on-time closure = closed with ``closed_at ≤ deadline`` / closed; 整改率 (rectification rate)
  per severity = closed / reported, cancelled false reports excluded;
  major per 1,000 inspections = major hazards / inspections submitted × 1000, from the
  ``inspection`` table when the schema has one, else from the distinct ``hazard.inspection_id``
  values (which misses inspections that found nothing, so the figure reads high);
  ``inspections_source`` in the figures says which.
- trend: 30 days ending with the day: new, closed and open at each day's end;
- inspection tasks: those that fell due during the day (cancelled ones aside): done by their
  due time, skipped with a reason, or not done; rate = done on time / (due − skipped).
"""

from __future__ import annotations

import bisect
import functools
import heapq
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, and_, bindparam, case, func, not_, or_, type_coerce
from sqlmodel import Session, col, select

import server.models  # noqa: F401  (every table in the metadata: the inspection table's)
from server.checklists.models import ChecklistTemplate
from server.checklists.service import template_of
from server.context import Caller
from server.db import UTCDateTime, metadata
from server.hazards.models import Hazard, HazardEvent
from server.hazards.service import to_chain_event
from server.inspections.models import Inspection
from server.jobs.days import day_bounds, day_start, local_date
from server.jobs.idempotent import insert_once
from server.settings import get_settings
from server.sites.models import Site
from server.sites.tree import DistrictTree
from server.summaries import self_inspection
from server.summaries.models import DailySummary
from server.users.service import districts_of
from shared.chain import DEADLINE_STATES, OPEN_STATES, State, fold, overdue_now
from shared.clock import parse_iso, to_iso
from shared.completion import completion
from shared.deadlines import overdue_days
from shared.errors import DomainError, not_found
from shared.roles import Role
from shared.taxonomy import Severity

TREND_DAYS = 30
LONGEST = 10
SCOPE_LEVELS = ("city", "district")
COUNTS = ("new", "closed", "open", "overdue", "major_open", "escalated", "escalations")
TASK_COUNTS = ("due", "done_on_time", "not_done", "skipped")
INSPECTIONS_FROM_TABLE = "inspection table (submitted in the window)"
INSPECTIONS_FROM_HAZARDS = (
    "distinct hazard.inspection_id (no inspection table: inspections without hazards "
    "are not counted)"
)
_TERMINAL = (State.closed.value, State.cancelled.value)
_DEADLINE = frozenset(s.value for s in DEADLINE_STATES)
_OPEN = tuple(sorted(s.value for s in OPEN_STATES))
_FOLD_CHUNK = 500


@dataclass(frozen=True)
class AsOf:
    """One hazard as it stood at the cut-off."""

    id: str
    district_id: str
    site_id: str
    industry: str
    severity: str
    title: str
    state: str
    reported_at: datetime
    ended_at: datetime | None  # closed or cancelled at
    deadline: datetime | None
    escalation_level: int
    inspection_id: str | None


def _columns(dialect: str) -> list[Any]:
    """The projection columns the summary reads. PostgreSQL already returns aware times, so
    its times skip UTCDateTime's per-value conversion (a third of the scan's cost at 1M)."""
    times = (Hazard.reported_at, Hazard.updated_at, Hazard.closed_at, Hazard.deadline)

    def t(c):
        return (
            type_coerce(c, DateTime(timezone=True)).label(c.key) if dialect == "postgresql" else c
        )

    return [
        Hazard.id, Hazard.district_id, Hazard.site_id, Hazard.industry, Hazard.severity,
        Hazard.title, Hazard.state, *(t(c) for c in times), Hazard.escalation_level,
        Hazard.inspection_id,
    ]  # fmt: skip


def _stored(row: Any) -> AsOf:
    """A hazard unchanged since the cut-off, as its projection (``_columns``) stores it."""
    (hid, district, site, industry, sev, title, state, reported, updated, closed,
     deadline, level, inspection) = row  # fmt: skip
    ended = closed if state == State.closed else updated if state == State.cancelled else None
    return AsOf(hid, district, site, industry, sev, title, state, reported, ended,
                deadline, level, inspection)  # fmt: skip


def _window(cut: datetime, since: datetime) -> Any:
    """The hazards a summary counts: reported before ``cut``, not finished before ``since``."""
    finished_early = and_(col(Hazard.state).in_(_TERMINAL), col(Hazard.updated_at) < since)
    return and_(col(Hazard.reported_at) < cut, not_(finished_early))


def hazards_as_of(
    session: Session, cut: datetime, since: datetime, *, changed_only: bool = False
) -> Iterator[AsOf]:
    """Every hazard reported before ``cut`` and not finished before ``since``, as at ``cut``
    (``changed_only``: just those changed since ``cut``, the ones SQL cannot count as stored)."""
    conn = session.connection()
    q = select(*_columns(conn.dialect.name)).where(_window(cut, since))
    if changed_only:
        q = q.where(col(Hazard.updated_at) >= cut)
    changed: dict[str, Any] = {}
    for rows in conn.execute(q.execution_options(yield_per=10_000)).partitions():
        for row in rows:
            hid, updated = row.id, row.updated_at
            if updated >= cut:
                changed[hid] = row
                continue
            yield _stored(row)
    ids = list(changed)
    cut_iso = to_iso(cut)
    for i in range(0, len(ids), _FOLD_CHUNK):
        chunk = ids[i : i + _FOLD_CHUNK]
        events = defaultdict(list)
        for ev in session.exec(
            select(HazardEvent)
            .where(col(HazardEvent.hazard_id).in_(chunk))
            .where(col(HazardEvent.at) < cut_iso)
            .order_by(HazardEvent.hazard_id, HazardEvent.seq)
        ).all():
            events[ev.hazard_id].append(to_chain_event(ev))
        for hid in chunk:
            if not events[hid]:
                continue
            v = fold(events[hid])
            state = v.state.value
            ended = (
                parse_iso(v.closed_at)
                if state == State.closed
                else parse_iso(v.updated_at)
                if state == State.cancelled
                else None
            )
            if ended is not None and ended < since:
                continue
            row = changed[hid]
            yield AsOf(
                hid,
                row.district_id,
                row.site_id,
                v.industry or row.industry,
                v.severity,
                v.title,
                state,
                parse_iso(v.reported_at),
                ended,
                parse_iso(v.deadline) if v.deadline else None,
                v.escalation_level,
                v.inspection_id,
            )


@dataclass
class _Scope:
    """Accumulators for one scope."""

    cells: dict[tuple[str, str], dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    )
    trend_new: list[int] = field(default_factory=lambda: [0] * TREND_DAYS)
    trend_closed: list[int] = field(default_factory=lambda: [0] * TREND_DAYS)
    trend_ended: list[int] = field(default_factory=lambda: [0] * TREND_DAYS)
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Severity, 0))
    rectified: dict[str, int] = field(default_factory=lambda: dict.fromkeys(Severity, 0))
    closed_ytd: int = 0
    on_time: int = 0
    inspection_ids: set[str] = field(default_factory=set)
    inspections: int | None = None  # from the inspection table, when there is one
    tasks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TASK_COUNTS, 0))
    checked: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(("inspections", "items", "done", "unchecked"), 0)
    )
    longest: list[tuple[float, str, AsOf]] = field(default_factory=list)
    sites: dict[str, int] = field(default_factory=dict)
    # 自查成效: each site in the scope with the row label it is counted under
    self_sites: list[tuple[str, self_inspection.SiteFigures]] = field(default_factory=list)


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


class _Calendar:
    def __init__(self, day: date, tz: str, until: datetime | None = None) -> None:
        self.day = day
        self.start, self.cut = day_bounds(day, tz)
        if until is not None:  # today so far: a deadline later today is not overdue yet
            # the cut is exclusive: what happened at ``until`` itself has happened
            self.cut = max(self.start, min(self.cut, until + timedelta(microseconds=1)))
        self.days = [day - timedelta(days=TREND_DAYS - 1 - i) for i in range(TREND_DAYS)]
        self.bounds = [day_start(d, tz) for d in self.days] + [self.cut]
        self.ytd_start = day_start(date(day.year, 1, 1), tz)
        self.since = min(self.ytd_start, self.bounds[0])

    def trend_index(self, at: datetime | None) -> int | None:
        if at is None or at < self.bounds[0] or at >= self.cut:
            return None
        return bisect.bisect_right(self.bounds, at) - 1


def _count_hazard(cal: _Calendar, where: list[tuple[_Scope, str]], h: AsOf) -> None:
    """One hazard as at the cut-off, added to every scope it falls in."""
    if not where:
        return
    is_open = h.state not in _TERMINAL
    overdue = overdue_now(h.state, h.deadline, False, cal.cut)  # as of the cut: no flag history
    closed_at = h.ended_at if h.state == State.closed else None
    flags = {
        "new": cal.start <= h.reported_at < cal.cut,
        "closed": closed_at is not None and cal.start <= closed_at,
        "open": is_open,
        "overdue": overdue,
        "major_open": is_open and h.severity == Severity.major,
        "escalated": is_open and h.escalation_level > 0,
    }
    i_new = cal.trend_index(h.reported_at)
    i_end = cal.trend_index(h.ended_at)
    i_closed = cal.trend_index(closed_at)
    in_ytd = h.reported_at >= cal.ytd_start
    closed_ytd = closed_at is not None and closed_at >= cal.ytd_start
    on_time = closed_ytd and (h.deadline is None or closed_at <= h.deadline)
    for scope, label in where:
        cell = scope.cells[(label, h.industry)]
        for name, yes in flags.items():
            if yes:
                cell[name] += 1
        if i_new is not None:
            scope.trend_new[i_new] += 1
        if i_end is not None:
            scope.trend_ended[i_end] += 1
        if i_closed is not None:
            scope.trend_closed[i_closed] += 1
        if in_ytd:
            if h.inspection_id:
                scope.inspection_ids.add(h.inspection_id)
            if h.state != State.cancelled:
                scope.found[h.severity] += 1
                scope.rectified[h.severity] += h.state == State.closed
        if closed_ytd:
            scope.closed_ytd += 1
            scope.on_time += on_time
        if overdue:
            item = (-h.deadline.timestamp(), h.id, h)
            if len(scope.longest) < LONGEST:
                heapq.heappush(scope.longest, item)
            else:
                heapq.heappushpop(scope.longest, item)


def _n(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _in(c: Any, lo: datetime, hi: datetime) -> Any:
    return and_(c >= lo, c < hi)


@functools.cache
def _trend_sums(days: int) -> list[Any]:
    """The trend's sums (new, closed, ended on each day), over bound day limits ``trend_0`` ..
    ``trend_{days}``: built once, as building 90 expressions cost more than the query."""
    h = Hazard
    closed, cancelled = h.state == State.closed.value, h.state == State.cancelled.value
    b = [bindparam(f"trend_{i}", type_=UTCDateTime()) for i in range(days + 1)]
    limits = list(zip(b, b[1:], strict=False))
    return [
        *(_n(_in(col(h.reported_at), lo, hi)) for lo, hi in limits),
        *(_n(and_(closed, _in(col(h.closed_at), lo, hi))) for lo, hi in limits),
        *(
            _n(or_(and_(closed, _in(col(h.closed_at), lo, hi)),
                   and_(cancelled, _in(col(h.updated_at), lo, hi))))
            for lo, hi in limits
        ),
    ]  # fmt: skip


def _count_unchanged(
    session: Session, cal: _Calendar, tree: DistrictTree, scopes: dict[str, _Scope], placed
) -> None:
    """What ``_count_hazard`` adds up, for every hazard unchanged since the cut-off, counted by
    the database: one GROUP BY (district, industry, severity), each figure a SUM of a condition
    (never a CASE in the GROUP BY: PostgreSQL then expects a group per row and spills), a
    second over only the rows the trend's 30 days touch (its 90 sums would cost a pass each
    over every row), then a walk of the deadline index per scope for the longest overdue. Equal to the per-hazard count
    (tests/jobs/test_summary_aggregates.py)."""
    h = Hazard
    closed, cancelled = h.state == State.closed.value, h.state == State.cancelled.value
    is_open = col(h.state).notin_(_TERMINAL)
    overdue = and_(col(h.state).in_(_DEADLINE), col(h.deadline) < cal.cut)
    closed_ytd = and_(closed, col(h.closed_at) >= cal.ytd_start)
    in_ytd = col(h.reported_at) >= cal.ytd_start
    figures = [
        _n(col(h.reported_at) >= cal.start),  # new (reported before the cut: the window's)
        _n(and_(closed, col(h.closed_at) >= cal.start)),
        _n(is_open),
        _n(overdue),
        _n(and_(is_open, h.escalation_level > 0)),
        _n(and_(in_ytd, h.state != State.cancelled.value)),  # found
        _n(and_(in_ytd, closed)),  # rectified
        _n(closed_ytd),
        _n(and_(closed_ytd, or_(col(h.deadline).is_(None), col(h.closed_at) <= h.deadline))),
    ]
    unchanged = and_(_window(cal.cut, cal.since), col(h.updated_at) < cal.cut)
    # Counted in two parts that together are ``unchanged``: the open hazards (read from the
    # partial index of open hazards) and those finished since the window began (a range of
    # the updated_at index: the window keeps no older finished ones), so neither part reads
    # the years of long-finished hazards a full pass would.
    parts = (
        and_(unchanged, col(h.state).in_(_OPEN)),
        and_(unchanged, col(h.state).in_(_TERMINAL), col(h.updated_at) >= cal.since),
    )
    grouped = [
        row
        for part in parts
        for row in session.execute(
            select(h.district_id, h.industry, h.severity, *figures)
            .where(part)
            .group_by(h.district_id, h.industry, h.severity)
        ).all()
    ]
    for district_id, industry, severity, *v in grouped:
        new, closed_n, open_n, overdue_n, escalated, found, rectified, cytd, on_time = map(int, v)
        for scope, label in placed(district_id):
            cell = scope.cells[(label, industry)]
            cell["new"] += new
            cell["closed"] += closed_n
            cell["open"] += open_n
            cell["overdue"] += overdue_n
            cell["major_open"] += open_n if severity == Severity.major else 0
            cell["escalated"] += escalated
            scope.found[severity] = scope.found.get(severity, 0) + found
            scope.rectified[severity] = scope.rectified.get(severity, 0) + rectified
            scope.closed_ytd += cytd
            scope.on_time += on_time
    # the trend: a second pass over only the hazards that began or ended in its 30 days
    lo = cal.bounds[0]
    ended_closed = and_(closed, _in(col(h.closed_at), lo, cal.cut))
    ended_cancelled = and_(cancelled, _in(col(h.updated_at), lo, cal.cut))
    t = len(cal.bounds) - 1
    trend, bounds = _trend_sums(t), {f"trend_{i}": b for i, b in enumerate(cal.bounds)}
    # an open hazard only began in the trend (its 30 sums of new; it ended in none)
    trended = [
        (d, *(int(x or 0) for x in v), *[0] * (2 * t))
        for d, *v in session.execute(
            select(h.district_id, *trend[:t])
            .where(parts[0], col(h.reported_at) >= lo)
            .group_by(h.district_id),
            bounds,
        ).all()
    ] + [
        (d, *(int(x or 0) for x in v))
        for d, *v in session.execute(
            select(h.district_id, *trend)
            .where(parts[1], or_(col(h.reported_at) >= lo, ended_closed, ended_cancelled))
            .group_by(h.district_id),
            bounds,
        ).all()
    ]
    for district_id, *v in trended:
        for scope, _label in placed(district_id):
            for i in range(t):
                scope.trend_new[i] += v[i]
                scope.trend_closed[i] += v[t + i]
                scope.trend_ended[i] += v[2 * t + i]
    columns = _columns(session.connection().dialect.name)
    for scope in scopes.values():
        districts = [d for d in tree.by_id if any(sc is scope for sc, _ in placed(d))]
        if not districts:
            continue
        # the ten ids first, from the index alone; then their rows
        ids = select(h.id).where(unchanged, overdue, col(h.district_id).in_(districts))
        ids = ids.order_by(col(h.deadline), col(h.id).desc()).limit(LONGEST)
        for row in session.execute(
            select(*columns).where(col(h.id).in_(list(session.execute(ids).scalars())))
        ).all():
            a = _stored(row)
            heapq.heappush(scope.longest, (-a.deadline.timestamp(), a.id, a))
        if _inspection_table() is None:  # the fallback denominator: distinct inspection ids
            for (iid,) in session.execute(
                select(h.inspection_id)
                .where(unchanged, in_ytd, col(h.inspection_id).is_not(None))
                .where(col(h.district_id).in_(districts))
                .distinct()
            ).all():
                scope.inspection_ids.add(iid)


def _inspection_table() -> Any:
    table = metadata.tables.get("inspection")
    if table is None or "district_id" not in table.c or "submitted_at" not in table.c:
        return None
    return table


def compute(
    session: Session,
    day: date,
    tz: str,
    scope_ids: Iterable[str],
    *,
    until: datetime | None = None,
    per_hazard: bool = False,
) -> dict[str, dict[str, Any]]:
    """Figures for each scope district on local ``day``; with ``until``, as things stand at that
    moment of the day (the live figures of today). Hazards unchanged since the cut-off are
    counted by SQL aggregates (``_count_unchanged``), the few changed after it are folded back
    to the cut-off and counted one by one; ``per_hazard`` counts every hazard one by one, the
    old way, kept as the reference the aggregates are tested against."""
    cal = _Calendar(day, tz, until)
    tree = DistrictTree(session)
    scopes = {s: _Scope() for s in scope_ids}
    labels: dict[str, list[tuple[_Scope, str]]] = {}

    def placed(district_id: str) -> list[tuple[_Scope, str]]:
        """The scopes a district falls in, each with the row label it is counted under."""
        if district_id not in labels:
            chain = [d.id for d in tree.chain(district_id)] or [district_id]
            labels[district_id] = [
                (scopes[s], chain[i - 1] if i else s) for i, s in enumerate(chain) if s in scopes
            ]
        return labels[district_id]

    if per_hazard:  # the reference: every hazard through Python (tests, the bench's baseline)
        hazards = hazards_as_of(session, cal.cut, cal.since)
    else:  # the database counts the hazards as stored; Python folds only the changed ones
        _count_unchanged(session, cal, tree, scopes, placed)
        hazards = hazards_as_of(session, cal.cut, cal.since, changed_only=True)
    for h in hazards:
        _count_hazard(cal, placed(h.district_id), h)

    _count_escalations(session, cal, placed)
    _count_inspections(session, cal, scopes.values(), placed)
    _count_tasks(session, cal, placed)
    _count_completion(session, cal, placed)
    sites = _count_sites(session, cal, placed)
    window = _count_self_inspection(session, cal, tz, placed)
    return {
        sid: _figures(session, tree, sid, scope, cal, tz, sites)
        | {"self_inspection": _self_figures(tree, scope, window)}
        for sid, scope in scopes.items()
    }


def _count_self_inspection(session: Session, cal: _Calendar, tz: str, placed):
    """Each site's 自查成效 over the window ending with the day, into the scopes it is in."""
    opens, _, closes = get_settings().venue_hours.partition("-")
    sites, start, end = self_inspection.site_figures(session, cal.day, tz, cal.cut, (opens, closes))
    for site in sites.values():
        for scope, label in placed(site.district_id):
            scope.self_sites.append((label, site))
    return start, end


def _self_figures(tree: DistrictTree, s: _Scope, window) -> dict[str, Any]:
    labels = {label for label, _site in s.self_sites}
    labels |= {site.district_id for _label, site in s.self_sites}
    names = {d: tree.name(d) for d in labels}
    return self_inspection.scope_figures(s.self_sites, names, *window, to_iso)


def _count_escalations(session: Session, cal: _Calendar, placed) -> None:
    rows = session.exec(
        select(Hazard.district_id, Hazard.industry, func.count())
        .join(HazardEvent, col(HazardEvent.hazard_id) == col(Hazard.id))
        .where(col(HazardEvent.type).in_(("escalated", "supervised")))  # a leader's too
        .where(col(HazardEvent.at) >= to_iso(cal.start))
        .where(col(HazardEvent.at) < to_iso(cal.cut))
        .group_by(Hazard.district_id, Hazard.industry)
    ).all()
    for district_id, industry, n in rows:
        for scope, label in placed(district_id):
            scope.cells[(label, industry)]["escalations"] += n


def _count_inspections(session: Session, cal: _Calendar, scopes: Iterable[_Scope], placed) -> None:
    table = _inspection_table()
    if table is None:
        return
    for scope in scopes:
        scope.inspections = 0
    for district_id, n in session.execute(
        select(table.c.district_id, func.count())
        .where(table.c.submitted_at >= cal.ytd_start)
        .where(table.c.submitted_at < cal.cut)
        .group_by(table.c.district_id)
    ).all():
        for scope, _label in placed(district_id):
            scope.inspections += n


def _count_tasks(session: Session, cal: _Calendar, placed) -> None:
    """Planned inspections that fell due during the day (its end, midnight, included: a daily
    task falls due then): done by their due time, skipped with a reason, or not done (逾期未检;
    done later still counts as not done on time). Read from the tasks' own times, so a day
    regenerated later gives the same figures."""
    table = metadata.tables.get("inspection_task")
    if table is None:  # a schema without plans (as _count_inspections allows): no figure
        return
    c = table.c
    on_time = and_(c.done_at.is_not(None), c.done_at <= c.due_at, c.done_at < cal.cut)
    skipped = and_(c.status == "skipped", c.skipped_at < cal.cut)
    rows = session.execute(
        select(
            c.district_id,
            func.count(),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((skipped, 1), else_=0)),
        )
        .where(c.due_at > cal.start, c.due_at <= cal.cut, c.status != "cancelled")
        .group_by(c.district_id)
    ).all()
    for district_id, due, done, skip in rows:
        for scope, _label in placed(district_id):
            t = scope.tasks
            t["due"] += due
            t["done_on_time"] += int(done or 0)
            t["skipped"] += int(skip or 0)
            t["not_done"] += due - int(done or 0) - int(skip or 0)


def _count_completion(session: Session, cal: _Calendar, placed) -> None:
    """完成率 of the day's inspections (shared.completion): items answered or 不适用 over the
    items that applied, summed, so a 94-item checklist weighs more than a 10-item one."""
    rows = session.exec(
        select(Inspection)
        .where(col(Inspection.submitted_at) >= cal.start)
        .where(col(Inspection.submitted_at) < cal.cut)
    ).all()
    templates: dict[tuple[str, int], Any] = {}
    for i in rows:
        key = (i.template_id, i.template_version)
        if key not in templates:
            row = session.get(ChecklistTemplate, key)
            try:
                templates[key] = template_of(row) if row is not None else None
            except ValueError:  # a row that is no template (never imported so): no figure
                templates[key] = None
        if templates[key] is None:
            continue
        c = completion(templates[key], i.answers, i.item_notes or {}, i.profile)
        for scope, _label in placed(i.district_id):
            done = scope.checked
            done["inspections"] += 1
            done["items"] += c.applicable
            done["done"] += c.done
            done["unchecked"] += c.unchecked


def _count_sites(session: Session, cal: _Calendar, placed) -> dict[str, tuple[str, str]]:
    """Active sites by risk colour (their colour today: colour history is not kept)."""
    names = {}
    for site_id, name, district_id, colour in session.exec(
        select(Site.id, Site.name, Site.district_id, Site.risk_colour)
        .where(Site.active.is_(True))
        .where(col(Site.created_at) < cal.cut)
    ).all():
        names[site_id] = (name, district_id)
        for scope, _label in placed(district_id):
            scope.sites[colour] = scope.sites.get(colour, 0) + 1
    return names


def _numbers(session: Session, ids: list[str]) -> dict[str, str | None]:
    """隐患编号 of the few hazards a summary names (the scan itself does not read them)."""
    if not ids:
        return {}
    rows = session.exec(select(Hazard.id, Hazard.number).where(col(Hazard.id).in_(ids))).all()
    return {hazard_id: number for hazard_id, number in rows}


def _figures(
    session: Session,
    tree: DistrictTree,
    scope_id: str,
    s: _Scope,
    cal: _Calendar,
    tz: str,
    sites: dict[str, tuple[str, str]],
) -> dict[str, Any]:
    rows = []
    totals = dict.fromkeys(COUNTS, 0)
    for (label, industry), counts in sorted(s.cells.items()):
        if not any(counts.values()):
            continue
        rows.append(
            {"district_id": label, "district_name": tree.name(label), "industry": industry} | counts
        )
        for k in COUNTS:
            totals[k] += counts[k]
    open_end = [0] * TREND_DAYS
    open_end[-1] = totals["open"]
    for i in range(TREND_DAYS - 1, 0, -1):
        open_end[i - 1] = open_end[i] - s.trend_new[i] + s.trend_ended[i]
    longest = []
    numbers = _numbers(session, [h.id for _neg, _id, h in s.longest])
    for _neg, _id, h in sorted(s.longest, reverse=True):
        site_name = sites.get(h.site_id, (h.site_id, ""))[0]
        longest.append(
            {
                "hazard_id": h.id,
                "number": numbers.get(h.id),
                "title": h.title,
                "site_id": h.site_id,
                "site_name": site_name,
                "district_id": h.district_id,
                "district_name": tree.name(h.district_id),
                "industry": h.industry,
                "severity": h.severity,
                "deadline": to_iso(h.deadline),
                "days_overdue": overdue_days(h.deadline, cal.cut),
                "escalation_level": h.escalation_level,
            }
        )
    majors = s.found[Severity.major]
    from_table = s.inspections is not None
    n_inspections = s.inspections if from_table else len(s.inspection_ids)
    return {
        "date": cal.day.isoformat(),
        "timezone": tz,
        "scope": {"district_id": scope_id, "name": tree.name(scope_id)},
        "period": {"start": to_iso(cal.start), "end": to_iso(cal.cut)},
        "totals": totals,
        "by_district_industry": rows,
        "rates": {
            "window": {"start": to_iso(cal.ytd_start), "end": to_iso(cal.cut)},
            "on_time_closure": {
                "closed": s.closed_ytd,
                "on_time": s.on_time,
                "rate": _rate(s.on_time, s.closed_ytd),
            },
            "rectification": {
                sev.value: {
                    "found": s.found[sev],
                    "closed": s.rectified[sev],
                    "rate": _rate(s.rectified[sev], s.found[sev]),
                }
                for sev in Severity
            },
            "major_per_1000_inspections": {
                "major": majors,
                "inspections": n_inspections,
                "value": round(majors * 1000 / n_inspections, 1) if n_inspections else None,
                "inspections_source": (
                    INSPECTIONS_FROM_TABLE if from_table else INSPECTIONS_FROM_HAZARDS
                ),
            },
        },
        "inspection_tasks": {
            **s.tasks,
            "rate": _rate(s.tasks["done_on_time"], s.tasks["due"] - s.tasks["skipped"]),
        },
        "inspection_completion": {
            **s.checked,
            "rate": _rate(s.checked["done"], s.checked["items"]),
        },
        "sites_by_risk_colour": {c: s.sites.get(c, 0) for c in ("red", "orange", "yellow", "blue")},
        "longest_overdue": longest,
        "trend": [
            {
                "date": d.isoformat(),
                "new": s.trend_new[i],
                "closed": s.trend_closed[i],
                "open": open_end[i],
            }
            for i, d in enumerate(cal.days)
        ],
    }


# ------------------------------------------------------------------ stored snapshots


def scope_districts(session: Session) -> list[str]:
    """The city and each district: the scopes that get a stored snapshot every day."""
    tree = DistrictTree(session)
    return sorted(d.id for d in tree.by_id.values() if d.level in SCOPE_LEVELS)


def build_daily(session: Session, day: date, now: datetime, tz: str, *, force: bool = False) -> int:
    """Store the snapshots of ``day`` that are missing (all of them with ``force``)."""
    wanted = scope_districts(session)
    have = {
        s.district_id: s
        for s in session.exec(select(DailySummary).where(DailySummary.day == day)).all()
    }
    todo = wanted if force else [d for d in wanted if d not in have]
    if not todo:
        return 0
    figures = compute(session, day, tz, todo)
    stored = 0
    for district_id in todo:
        row = have.get(district_id)
        if row is not None:
            row.figures = figures[district_id]
            row.generated_at = now
            session.add(row)
            stored += 1
        else:
            stored += insert_once(
                session,
                DailySummary,
                {
                    "id": str(uuid.uuid4()),
                    "district_id": district_id,
                    "day": day,
                    "generated_at": now,
                    "figures": figures[district_id],
                },
                ["district_id", "day"],
            )
    session.flush()
    return stored


@dataclass(frozen=True)
class Summary:
    figures: dict[str, Any]
    stored: bool
    generated_at: datetime | None


def _default_scope(session: Session, caller: Caller) -> str:
    tree = DistrictTree(session)
    roots = (
        [d.id for d in tree.by_id.values() if d.parent_id is None]
        if caller.role == Role.admin
        else districts_of(session, caller.user.id)
    )
    if not roots:
        raise not_found("辖区", "district")
    # the widest first: fewest ancestors
    return min(roots, key=lambda d: (len(tree.chain(d)), d))


def daily_for(
    session: Session, caller: Caller, day: date | None, district_id: str | None, now: datetime,
    tz: str,
) -> Summary:  # fmt: skip
    """The stored snapshot, or the same figures computed now for a past day never stored."""
    today = local_date(now, tz)
    day = day or today - timedelta(days=1)
    if day >= today:
        raise DomainError.of(
            "day_not_over",
            "该日尚未结束，日报次日生成",
            "that day is not over yet; its summary is built the next morning",
            fields={"date": "must be before today"},
        )
    district_id = district_id or _default_scope(session, caller)
    tree = DistrictTree(session)
    if district_id not in tree.by_id or not caller.scope.covers(
        district_id=district_id, site_id=None
    ):
        raise not_found("辖区", "district")
    row = session.exec(
        select(DailySummary).where(DailySummary.day == day, DailySummary.district_id == district_id)
    ).first()
    if row is not None:
        return Summary(row.figures, True, row.generated_at)
    return Summary(compute(session, day, tz, [district_id])[district_id], False, None)
