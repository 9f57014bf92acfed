"""A leader's sign-off (签阅) of one day's risk summary for one scope, and the indexes the
console's reads need on the hazard table (declared here, like ``server.jobs.indexes``, so the
metadata and Alembic know them; created by migration 0005).

- ``ix_hazard_queue``: the work queue and its tab counts filter by district and state and sort
  by severity, deadline and report time; with the id in the index SQLite and PostgreSQL sort
  the page from the index alone and read only the page's 50 rows.
- ``ix_hazard_open_site``: open hazards per site for the dashboard's four-colour picture
  (site first: the per-site count is one pass over the index, in group order).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.db import UTCDateTime
from server.hazards.models import Hazard


class SummaryAck(SQLModel, table=True):
    """Who signed off which day's summary, when, and exactly which figures (their SHA-256 over
    the canonical JSON, so a later regeneration that changed them is visible)."""

    __tablename__ = "summary_ack"
    __table_args__ = (
        UniqueConstraint("district_id", "day", "user_id", name="uq_summary_ack_district_day_user"),
    )
    id: str = Field(primary_key=True, max_length=36)
    district_id: str = Field(foreign_key="district.id", index=True, max_length=32)
    day: date = Field(index=True)
    user_id: str = Field(foreign_key="user.id", max_length=36)
    user_name: str = Field(max_length=100)
    acknowledged_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    figures_sha256: str = Field(max_length=64)
    stored: bool = True  # the stored 07:00 snapshot (False: figures computed on demand)


hazard_queue = Index(
    "ix_hazard_queue",
    Hazard.__table__.c.district_id,
    Hazard.__table__.c.state,
    Hazard.__table__.c.severity,
    Hazard.__table__.c.deadline,
    Hazard.__table__.c.reported_at,
    Hazard.__table__.c.id,
)
hazard_open_site = Index(
    "ix_hazard_open_site",
    Hazard.__table__.c.site_id,
    Hazard.__table__.c.state,
    Hazard.__table__.c.severity,
)
