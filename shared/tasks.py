"""Which planned task an inspection fulfils: decided by the server in the inspection's own
transaction, and guessed the same way by a tablet that holds the inspection unsent, so Home
takes off exactly the task the server will mark done."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

OPEN, MISSED, DONE, SKIPPED, CANCELLED = "open", "missed", "done", "skipped", "cancelled"
ACTIONABLE = (OPEN, MISSED)


@dataclass(frozen=True)
class TaskRef:
    id: str
    site_id: str
    template_id: str
    scheduled_for: date
    assignee_user_id: str | None
    status: str


def fulfilled_task(
    tasks: Iterable[TaskRef], *, site_id: str, template_id: str, inspector_id: str, day: date
) -> TaskRef | None:
    """The most recent task for the same site and checklist scheduled on or before the day the
    inspection ended (in the deployment's zone), still open or missed, assigned to the
    inspector or to all. Older missed tasks stay missed: one inspection fulfils one task."""
    eligible = [
        t
        for t in tasks
        if (t.site_id, t.template_id) == (site_id, template_id)
        and t.status in ACTIONABLE
        and t.scheduled_for <= day
        and t.assignee_user_id in (None, inspector_id)
    ]
    return max(eligible, key=lambda t: (t.scheduled_for, t.id), default=None)
