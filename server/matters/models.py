"""一件事: a matter (bottled LPG, e-bikes, a chemical) and the ordered links of its supply
chain, each owned by a department; hazards are tagged with the matter and link."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class Matter(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=100)
    name_en: str = Field(default="", max_length=100)
    lead_department: str = Field(default="", max_length=100)
    description: str = Field(default="", max_length=1000)


class MatterLink(SQLModel, table=True):
    __tablename__ = "matter_link"
    id: str = Field(primary_key=True, max_length=64)
    matter_id: str = Field(foreign_key="matter.id", index=True, max_length=64)
    position: int
    stage: str = Field(max_length=32)  # production, storage, transport, sale, use, disposal…
    name: str = Field(max_length=100)
    name_en: str = Field(default="", max_length=100)
    department: str = Field(max_length=100)


class HazardMatter(SQLModel, table=True):
    __tablename__ = "hazard_matter"
    hazard_id: str = Field(foreign_key="hazard.id", primary_key=True, max_length=36)
    matter_id: str = Field(foreign_key="matter.id", primary_key=True, max_length=64)
    link_id: str | None = Field(default=None, foreign_key="matter_link.id", max_length=64)
