"""Submit an inspection: evaluate the answers against the pinned template version and create
the inspection with one hazard per finding, all in one transaction.

Idempotent by the client's inspection UUID: the same payload again returns what was stored;
the same id with another payload (or from another user) is ``id_reuse``. Hazard ids are derived
from the inspection id and the item id (``finding_hazard_id``), so no retry can double them.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from server import paging
from server.blobs import service as blobs
from server.checklists.fit import check_fit
from server.checklists.models import ChecklistTemplate
from server.checklists.service import template_of
from server.context import Caller
from server.hazards import service as hazards
from server.hazards.models import Hazard
from server.hazards.numbers import next_inspection_number
from server.inspections.models import Inspection
from server.inspections.schemas import InspectionSubmit, Signatures
from server.plans import service as plans
from server.scoping import scope_filter
from server.sites.models import Site
from shared.checklist import ChecklistAnswerError, ChecklistError, Finding, Template, evaluate
from shared.clock import DEFAULT_TIMEZONE, to_iso
from shared.completion import Completion, completion, refusal
from shared.deadlines import DEFAULT_POLICY, DeadlinePolicy
from shared.errors import DomainError, not_found
from shared.findings import finding_hazard_id, finding_hazard_payload
from shared.roles import Role
from shared.site_checklists import self_mismatch

log = logging.getLogger("hazardchain.inspections")
INSPECTING_ROLES = frozenset({Role.inspector, Role.officer, Role.admin, Role.enterprise})


@dataclass(frozen=True)
class Submitted:
    inspection: Inspection
    hazards: list[Hazard]
    created: bool


def _invalid(code: str, zh: str, en: str, fields: dict[str, str]) -> DomainError:
    return DomainError.of(code, zh, en, fields=fields)


def _template(session: Session, body: InspectionSubmit) -> tuple[ChecklistTemplate, Template]:
    row = session.get(ChecklistTemplate, (body.template_id, body.template_version))
    if row is None:
        known = session.exec(
            select(ChecklistTemplate.version).where(ChecklistTemplate.id == body.template_id)
        ).first()
        field = "template_version" if known is not None else "template_id"
        raise _invalid(
            "unknown_template",
            f"检查表 {body.template_id} 第 {body.template_version} 版不存在",
            f"checklist {body.template_id} v{body.template_version} does not exist",
            {field: "unknown checklist template version"},
        )
    return row, template_of(row)


def _check_keys(name: str, keys: Iterable[str], known: Container[str], zh: str, en: str) -> None:
    """Keys of a per-item field must name what the pinned template holds."""
    unknown = sorted(k for k in keys if k not in known)
    if unknown:
        raise _invalid(
            "invalid_input",
            f"{zh}所属的检查项不在该检查表中",
            f"{en} refer to items that are not in this checklist",
            {f"{name}.{k}": "no such item in this checklist" for k in unknown},
        )


def _evaluate(template: Template, body: InspectionSubmit) -> list[Finding]:
    items = template.items_by_id
    _check_keys("photos", body.photos, items, "照片", "photos")
    _check_keys("item_notes", body.item_notes, items, "检查项备注", "item notes")
    findable = {*items, *(r.id for r in template.count_rules)}
    _check_keys("descriptions", body.descriptions, findable, "隐患描述", "descriptions")
    try:
        findings = evaluate(template, body.answers, body.profile)
    except ChecklistAnswerError as exc:
        raise _invalid(
            "invalid_answer",
            exc.message_zh,
            exc.message_en,
            {f"answers.{exc.item_id}": exc.message_en},
        ) from None
    except ChecklistError as exc:
        raise _invalid(
            "invalid_profile", exc.message_zh, exc.message_en, {"profile": exc.message_en}
        ) from None
    missing = [
        f.item_id
        for f in findings
        if f.kind == "item" and f.photo_required and not body.photos.get(f.item_id)
    ]
    if missing:
        raise _invalid(
            "photo_required",
            f"{len(missing)} 项不合格的检查项须附现场照片",
            f"{len(missing)} failed item(s) need a photo",
            {f"photos.{m}": "a photo is required when this item fails" for m in missing},
        )
    return findings


def _site_for(session: Session, caller: Caller, site_id: str) -> Site:
    """An enterprise inspects only the sites it is bound to: another is 404, as if absent (it
    learns nothing of others' sites); a regulator's site must be in its districts."""
    if caller.role == Role.enterprise:
        site = session.get(Site, site_id)
        if site is None or site.id not in caller.scope.site_ids:
            raise not_found("场所", "site")
        return site
    return hazards._site_in_scope(session, caller, site_id)


def _check_inspector(caller: Caller, template: Template) -> None:
    """The enterprise self-inspects with the templates made for it (自查); the regulator's
    checklists are the regulator's, and the other way round."""
    who = "enterprise" if caller.role == Role.enterprise else "regulator"
    if template.usable_by(who):
        return
    if who == "enterprise":
        zh = f"“{template.title.zh}”是监管检查表，企业用户只能使用自查表"
        en = f"{template.title.en} is a regulator's checklist; enterprise users self-inspect only"
    else:
        zh = f"“{template.title.zh}”是企业自查表，监管人员请使用监管检查表"
        en = f"{template.title.en} is an enterprise self-inspection checklist, not a regulator's"
    raise DomainError.of("checklist_not_yours", zh, en, fields={"template_id": en})


def _check_signatures(
    session: Session, caller: Caller, body: InspectionSubmit, template: Template
) -> None:
    """The patroller signs a self-inspection alone; a regulator's inspection is countersigned
    by the site's representative."""
    if body.signatures is None:
        return
    sig = body.signatures
    if sig.refusal is not None and (template.self_inspection or sig.representative):
        raise _invalid(
            "invalid_input",
            "拒签只用于监管检查中企业负责人未签字的情形",
            "a refusal to sign is recorded only when the site's representative has not signed "
            "a regulator's inspection",
            {"signatures.refusal": "only when the representative has not signed"},
        )
    if sig.representative is None and sig.refusal is None and not template.self_inspection:
        raise _invalid(
            "invalid_input",
            "须由检查人员和企业负责人签字确认；企业负责人拒签的，须记录见证人并拍照",
            "the inspector and the site's representative must both sign; if the representative "
            "refuses, record a witness and a photo",
            {"signatures.representative": "the site's representative must sign (or record 拒签)"},
        )
    signed = [s for s in (sig.inspector, sig.representative) if s]
    if sig.refusal is not None:
        signed.append(sig.refusal.photo)
    blobs.require_held(session, caller, signed, "signatures", "签字图片", "signature image(s)")


def _signatures_stored(sig: Signatures | None) -> dict[str, Any] | None:
    """The stored shape; ``refusal`` (拒签) only when there was one, as before it existed."""
    if sig is None:
        return None
    return sig.model_dump(exclude={"refusal"} if sig.refusal is None else set())


def hazards_of(session: Session, inspection: Inspection) -> list[Hazard]:
    """The inspection's hazards in finding order (template order, count rules last)."""
    out = []
    for f in inspection.findings:
        hazard = session.get(Hazard, f["hazard_id"])
        if hazard is not None:
            out.append(hazard)
    return out


def completion_of(session: Session, inspection: Inspection) -> Completion | None:
    """The inspection's 完成率 and counts, from its answers and pinned template (None if the
    template version is gone, which the importer never does)."""
    row = session.get(ChecklistTemplate, (inspection.template_id, inspection.template_version))
    if row is None:
        return None
    return completion(
        template_of(row), inspection.answers, inspection.item_notes or {}, inspection.profile
    )


def _hazard_id_conflict(hazard_id: str) -> DomainError:
    """Another record holds a finding's hazard id; only a hand-made id can do that."""
    return DomainError.of(
        "hazard_id_conflict",
        "该检查的隐患编号已被其他记录占用，请以新的检查编号重新提交",
        "a hazard id of this inspection is taken by another record; resubmit under a new id",
        fields={"id": f"hazard {hazard_id} already exists"},
    )


def _replay(session: Session, caller: Caller, existing: Inspection, digest: str) -> Submitted:
    if not sees(caller, existing):
        # the id is taken out of the caller's scope: answered like any id they cannot see
        raise not_found("检查记录", "inspection")
    if existing.payload_sha256 != digest or existing.inspector_id != caller.user.id:
        raise DomainError.of(
            "id_reuse",
            "该检查编号已用于另一次检查",
            "this inspection id was already used for a different inspection",
            fields={"id": "already used for a different inspection"},
        )
    return Submitted(existing, hazards_of(session, existing), created=False)


def submit(
    session: Session,
    caller: Caller,
    body: InspectionSubmit,
    *,
    now: datetime,
    policy: DeadlinePolicy = DEFAULT_POLICY,
    tz: str = DEFAULT_TIMEZONE,
) -> Submitted:
    """Create the inspection and its hazards, or return them again for a retry.

    The HTTP view and the sync op ``inspection.submit`` both call this with the same payload;
    the edge commits: the inspection, its hazards, their feed entries (and the op's stored
    result) commit together. A concurrent submit of the same id fails at the flush; the edge
    then runs its unit again, which replays the winner's inspection.
    """
    if caller.role not in INSPECTING_ROLES:
        raise DomainError.of(
            "forbidden",
            "您的角色无权提交检查",
            f"role '{caller.role}' may not submit inspections",
        )
    digest = body.sha256()
    existing = session.get(Inspection, body.id)
    if existing is not None:
        return _replay(session, caller, existing, digest)
    site = _site_for(session, caller, body.site_id)
    row, template = _template(session, body)
    _check_inspector(caller, template)
    findings = _evaluate(template, body)
    if caller.role == Role.enterprise:
        unfit = (
            None if body.checklist_override else self_mismatch(site.site_type, row.id, body.profile)
        )
        if unfit is not None:
            raise DomainError(unfit)
    else:
        check_fit(session, [site], row.id, body.profile, body.checklist_override)
    incomplete = refusal(
        template, completion(template, body.answers, body.item_notes, body.profile), body.profile
    )
    if incomplete is not None:  # no empty inspections (shared.completion)
        raise DomainError(incomplete)
    _check_signatures(session, caller, body, template)
    hazard_ids = [finding_hazard_id(body.id, f.item_id) for f in findings]
    inspection = Inspection(
        id=body.id,
        number=next_inspection_number(session, site.district_id, body.ended_at, tz),
        site_id=site.id,
        district_id=site.district_id,
        template_id=row.id,
        template_version=row.version,
        template_digest=row.digest,
        profile=body.profile,
        inspector_id=caller.user.id,
        answers=dict(body.answers),
        photos=body.photos,
        item_notes=body.item_notes,
        descriptions=body.descriptions,
        signatures=_signatures_stored(body.signatures),
        notes=body.notes,
        started_at=body.started_at,
        ended_at=body.ended_at,
        location=body.location.model_dump() if body.location else None,
        submitted_at=now,
        finding_count=len(findings),
        findings=[
            {"item_id": f.item_id, "kind": f.kind, "severity": f.severity, "hazard_id": hid}
            for f, hid in zip(findings, hazard_ids, strict=True)
        ],
        payload_sha256=digest,
        checklist_override=body.checklist_override,
    )
    session.add(inspection)
    session.flush()  # a concurrent submit of the same id waits or fails here
    for finding, hid in zip(findings, hazard_ids, strict=True):
        try:
            done = hazards.report(
                session,
                caller,
                payload=finding_hazard_payload(
                    template,
                    finding,
                    inspection_id=body.id,
                    site_id=site.id,
                    photos=body.photos,
                    descriptions=body.descriptions,
                    location=body.location.label() if body.location else None,
                    profile=body.profile,
                    gps=body.gps,
                    photo_gps=body.photo_gps,
                ),
                now=now,
                hazard_id=hid,
                policy=policy,
                device_time=to_iso(body.ended_at),
            )
        except DomainError as exc:
            if exc.refusal.code not in ("id_reuse", "already_exists"):
                raise
            raise _hazard_id_conflict(hid) from exc
        if done.duplicate:
            raise _hazard_id_conflict(hid)
    plans.complete_by_inspection(
        session,
        site_id=site.id,
        template_id=row.id,
        inspector_id=caller.user.id,
        inspection_id=body.id,
        ended_at=body.ended_at,
        tz=tz,
        now=now,
    )
    log.info(
        "inspection submitted",
        extra={
            "inspection_id": body.id,
            "site_id": site.id,
            "template": f"{row.id}/{row.version}",
            "findings": len(findings),
            "user_id": caller.user.id,
        },
    )
    return Submitted(inspection, hazards_of(session, inspection), created=True)


# ------------------------------------------------------------------ reading


def sees(caller: Caller, inspection: Inspection | None) -> bool:
    return inspection is not None and caller.scope.covers(
        district_id=inspection.district_id, site_id=inspection.site_id
    )


def get_in_scope(session: Session, caller: Caller, inspection_id: str) -> Inspection:
    inspection = session.get(Inspection, inspection_id)
    if not sees(caller, inspection):
        raise not_found("检查记录", "inspection")
    return inspection


INSPECTION_SORTS = {
    "submitted_at": Inspection.submitted_at,
    "started_at": Inspection.started_at,
    "ended_at": Inspection.ended_at,
}


def list_page(
    session: Session,
    caller: Caller,
    *,
    site_id: str | None,
    template_id: str | None,
    limit: int,
    cursor: str | None,
    sort: str | None = None,
    ended_from: datetime | None = None,
    ended_to: datetime | None = None,
    updated_since: datetime | None = None,
) -> tuple[list[Inspection], str | None, int]:
    """Newest first unless ``sort`` says, scoped, keyset-paged (``server.paging``). A record
    is dated by the day it was carried out (``ended_at``); it changes only when submitted, so
    ``updated_since`` reads ``submitted_at``."""
    order = paging.parse_sort(sort, INSPECTION_SORTS, "-submitted_at")
    q = select(Inspection).where(
        scope_filter(caller.scope, Inspection.district_id, Inspection.site_id)
    )
    if site_id:
        q = q.where(Inspection.site_id == site_id)
    if template_id:
        q = q.where(Inspection.template_id == template_id)
    q = paging.in_window(q, Inspection.ended_at, ended_from, ended_to)
    q = paging.in_window(q, Inspection.submitted_at, since=updated_since)
    return paging.page(session, q, order, Inspection.id, limit=limit, cursor=cursor)
