"""The server's side of ``shared.site_checklists``: which templates the database holds, and the
check inspections and plans make against a site (refused, or let through with a recorded
override reason)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from server.checklists.models import ChecklistTemplate
from server.sites.models import Site
from shared.errors import DomainError
from shared.site_checklists import Fit, default_for, mismatch


@dataclass(frozen=True)
class Catalogue:
    industries: dict[str, str]  # template id → industry
    titles: dict[str, tuple[str, str]]  # template id → (zh, en)
    latest: dict[str, int]  # template id → newest version


def catalogue(session: Session) -> Catalogue:
    rows = session.exec(select(ChecklistTemplate).order_by(ChecklistTemplate.version)).all()
    return Catalogue(
        {r.id: r.industry for r in rows},
        {r.id: (r.title, r.title_en or r.title) for r in rows},
        {r.id: r.version for r in rows},
    )


def check_fit(
    session: Session,
    sites: list[Site],
    template_id: str,
    profile: str | None,
    override: str | None,
    *,
    check_profile: bool = True,
) -> None:
    """Refuse (422 ``checklist_mismatch``) a template or profile that does not fit every site,
    unless ``override`` gives the reason, which the caller records."""
    if override:
        return
    cat = catalogue(session)
    for site in sites:
        why = mismatch(
            site.site_type,
            site.industry,
            template_id,
            profile,
            cat.industries,
            cat.titles,
            check_profile=check_profile,
        )
        if why is not None:
            if len(sites) > 1:
                fields = {k: f"{site.name}: {v}" for k, v in why.fields.items()}
                why = type(why)(
                    why.code, f"{site.name}：{why.zh}", f"{site.name}: {why.en}", fields
                )
            raise DomainError(why)


def site_default(session: Session, site: Site) -> Fit | None:
    """The template (and profile) a site is inspected with by default."""
    return default_for(site.site_type, site.industry, catalogue(session).industries)
