"""Inspections being filled in on the tablet. Every tap is one small transaction (one answer
row), so a killed app or a dead battery loses nothing; a draft resumes where it stopped.

Submitting locks the draft and queues the ``inspection.submit`` op in the same transaction,
together with the hazards its findings will create (``provisional``), so the inspector sees
them at once, marked pending, and can add notes and photos to them before any network.
A draft the server refuses opens again (status ``rejected``) to be put right and resubmitted.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlite_utils import Database

from mobile_app.core.chains import refold
from mobile_app.core.location import LocationProvider, NoLocation
from mobile_app.core.outbox import LocalRefusal, actor_of, enqueue_in, photo_stamps
from mobile_app.core.store import LocalStore, dumps
from shared.checklist import ChecklistAnswerError, Finding, Template, evaluate
from shared.clock import Clock, SystemClock, to_iso
from shared.completion import MARKS, Completion, completion, refusal
from shared.errors import Refusal
from shared.findings import finding_hazard_id, finding_hazard_payload
from shared.sync_wire import OpType

EDITABLE = ("draft", "rejected")
EXTRA_KEYS = frozenset(
    {"finding_texts", "signatures", "representative_name", "checklist_override", "refusal"}
)


def _locked() -> LocalRefusal:
    return LocalRefusal(
        Refusal(
            "inspection_locked", "该检查已提交并锁定", "this inspection is submitted and locked"
        )
    )


class Drafts:
    def __init__(
        self,
        store: LocalStore,
        *,
        clock: Clock | None = None,
        location: LocationProvider | None = None,
    ) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        self.location = location or NoLocation()

    # ---------------------------------------------------------------- reading

    def list(self, site_id: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE site_id = ?", [site_id]) if site_id else ("", [])
        rows = self.store.read(f"SELECT * FROM draft {where} ORDER BY updated_at DESC", params)
        for r in rows:
            r["extra"] = json.loads(r["extra"])
        return rows

    def get(self, draft_id: str) -> dict[str, Any]:
        rows = self.store.read("SELECT * FROM draft WHERE id = ?", [draft_id])
        if not rows:
            raise KeyError(draft_id)
        d = rows[0]
        d["extra"] = json.loads(d["extra"])
        d["answers"] = {
            r["item_id"]: {
                "value": json.loads(r["value"]) if r["value"] is not None else None,
                "note": r["note"],
                "photos": json.loads(r["photos"]),
                "gps": json.loads(r["gps"]) if r["gps"] else None,
            }
            for r in self.store.read("SELECT * FROM answer WHERE draft_id = ?", [draft_id])
        }
        return d

    # ---------------------------------------------------------------- writing

    def open(self, site_id: str, template_id: str, version: int, profile: str | None) -> str:
        """The unfinished draft of this checklist at this site, or a new one."""
        now = to_iso(self.clock.now())
        new_id = str(uuid.uuid4())

        def open_(db: Database) -> str:
            row = db.execute(
                "SELECT id FROM draft WHERE site_id = ? AND template_id = ?"
                " AND status IN ('draft', 'rejected') ORDER BY updated_at DESC",
                [site_id, template_id],
            ).fetchone()
            if row is not None:
                return row[0]
            db.execute(
                "INSERT INTO draft (id, site_id, template_id, template_version, profile,"
                " started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [new_id, site_id, template_id, int(version), profile or None, now, now],
            )
            return new_id

        return self.store.write(open_)

    def _editable(self, db: Database, draft_id: str, now: str) -> None:
        row = db.execute("SELECT status FROM draft WHERE id = ?", [draft_id]).fetchone()
        if row is None:
            raise KeyError(draft_id)
        if row[0] not in EDITABLE:
            raise _locked()
        db.execute(
            "UPDATE draft SET status = 'draft', updated_at = ? WHERE id = ?", [now, draft_id]
        )

    def save_answer(self, draft_id: str, item_id: str, **changes: Any) -> dict[str, Any]:
        """Write one answer field now (``value``, ``note`` or ``photos``). Giving a value stamps
        the answer with where the tablet is, when it knows (the finding's position)."""
        now = to_iso(self.clock.now())
        stamp = self.location.current() if changes.get("value") is not None else None

        def save(db: Database) -> dict[str, Any]:
            self._editable(db, draft_id, now)
            row = db.execute(
                "SELECT value, note, photos, gps FROM answer WHERE draft_id = ? AND item_id = ?",
                [draft_id, item_id],
            ).fetchone()
            value, note, photos, gps = row if row else (None, "", "[]", None)
            if stamp is not None:
                gps = dumps(stamp.wire())
            if "value" in changes:
                value = None if changes["value"] is None else json.dumps(changes["value"])
            if "note" in changes:
                note = str(changes["note"] or "")
            if "photos" in changes:
                photos = json.dumps(list(dict.fromkeys(changes["photos"])))
            db.execute(
                "INSERT INTO answer (draft_id, item_id, value, note, photos, updated_at, gps)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (draft_id, item_id) DO UPDATE SET"
                " value = excluded.value, note = excluded.note, photos = excluded.photos,"
                " updated_at = excluded.updated_at, gps = excluded.gps",
                [draft_id, item_id, value, note, photos, now, gps],
            )
            return {
                "value": json.loads(value) if value is not None else None,
                "note": note,
                "photos": json.loads(photos),
            }

        return self.store.write(save)

    def save_fields(self, draft_id: str, **changes: Any) -> None:
        """``notes``, or the review's extras (finding texts, signatures, representative)."""
        unknown = set(changes) - EXTRA_KEYS - {"notes"}
        if unknown:
            raise ValueError(f"unknown draft fields: {sorted(unknown)}")
        now = to_iso(self.clock.now())

        def save(db: Database) -> None:
            self._editable(db, draft_id, now)
            if "notes" in changes:
                db.execute(
                    "UPDATE draft SET notes = ? WHERE id = ?", [changes.pop("notes"), draft_id]
                )
            if changes:
                extra = json.loads(
                    db.execute("SELECT extra FROM draft WHERE id = ?", [draft_id]).fetchone()[0]
                )
                extra.update(changes)
                db.execute("UPDATE draft SET extra = ? WHERE id = ?", [dumps(extra), draft_id])

        self.store.write(save)

    def mark_unanswered(self, draft_id: str, template: Template, mark: str, reason: str) -> int:
        """Mark every applicable item still unanswered 不适用 or 未检查 with one reason (an
        item's own note, when it has one, stays its reason); returns how many were marked."""
        reason = reason.strip()
        if mark not in MARKS or not reason:
            raise LocalRefusal(
                Refusal(
                    "reason_required",
                    "请写明不适用或未检查的原因",
                    "say why these items are not applicable or not checked",
                    {"reason": "required"},
                )
            )
        now = to_iso(self.clock.now())
        d = self.get(draft_id)
        ids = self.completion(d, template).unanswered

        def mark_(db: Database) -> int:
            self._editable(db, draft_id, now)
            for item_id in ids:
                # an answer given meanwhile (another lane) is kept: only empty rows are marked
                db.execute(
                    "INSERT INTO answer (draft_id, item_id, value, note, photos, updated_at)"
                    " VALUES (?, ?, ?, ?, '[]', ?) ON CONFLICT (draft_id, item_id) DO UPDATE SET"
                    " value = excluded.value, updated_at = excluded.updated_at,"
                    " note = CASE WHEN trim(answer.note) = '' THEN excluded.note"
                    " ELSE answer.note END"
                    " WHERE answer.value IS NULL OR answer.value = '\"\"'",
                    [draft_id, item_id, json.dumps(mark), reason, now],
                )
            return len(ids)

        return self.store.write(mark_)

    # ---------------------------------------------------------------- review and submit

    @staticmethod
    def answers_of(d: dict[str, Any]) -> dict[str, Any]:
        return {k: a["value"] for k, a in d["answers"].items() if a["value"] not in (None, "")}

    @staticmethod
    def notes_of(d: dict[str, Any]) -> dict[str, str]:
        return {k: a["note"].strip() for k, a in d["answers"].items() if a["note"].strip()}

    def completion(self, d: dict[str, Any], template: Template) -> Completion:
        """How much of the checklist is answered or marked with a reason (the review shows it)."""
        return completion(template, self.answers_of(d), self.notes_of(d), d["profile"])

    def findings(self, d: dict[str, Any], template: Template) -> list[Finding]:
        """Raises ``LocalRefusal`` for an answer the checklist cannot take."""
        try:
            return evaluate(template, self.answers_of(d), d["profile"])
        except ChecklistAnswerError as exc:
            raise LocalRefusal(
                Refusal("invalid_answer", exc.message_zh, exc.message_en, {exc.item_id: ""})
            ) from None

    def payload(
        self, d: dict[str, Any], template: Template, ended_at: str, default_texts: dict[str, str]
    ) -> dict[str, Any]:
        """The ``inspection.submit`` JSON; ``default_texts`` are the descriptions the inspector
        was shown, so only what they changed is sent as written text."""
        items = template.items_by_id
        photos = {k: a["photos"] for k, a in d["answers"].items() if a["photos"] and k in items}
        notes = {k: v for k, v in self.notes_of(d).items() if k in items}
        texts = d["extra"].get("finding_texts", {})
        written = {
            k: v.strip()
            for k, v in texts.items()
            if v.strip() and v.strip() != default_texts.get(k, "").strip()
        }
        sig = d["extra"].get("signatures") or {}
        stamps = {  # GPS stamps where the tablet had a fix; left out without one
            "gps": {k: a["gps"] for k, a in d["answers"].items() if a.get("gps") and k in items},
            "photo_gps": photo_stamps(self.store, [s for v in photos.values() for s in v]),
        }
        return {k: v for k, v in stamps.items() if v} | {
            "id": d["id"],
            "site_id": d["site_id"],
            "template_id": d["template_id"],
            "template_version": d["template_version"],
            "profile": d["profile"],
            "answers": self.answers_of(d),
            "photos": photos,
            "item_notes": notes,
            "descriptions": written,
            "signatures": {
                "inspector": sig.get("inspector"),
                "representative": sig.get("representative"),
                "representative_name": d["extra"].get("representative_name", "")[:100],
                **_refusal_of(d["extra"], sig),
            },
            "notes": d["notes"][:4000],
            "started_at": d["started_at"],
            "ended_at": ended_at,
            # why a checklist that does not fit the site is used (shared.site_checklists)
            "checklist_override": d["extra"].get("checklist_override") or None,
        }

    def submit(
        self, draft_id: str, template: Template, default_texts: dict[str, str]
    ) -> dict[str, Any]:
        """Check, lock and queue in one transaction; refusals say what to put right."""
        d = self.get(draft_id)
        if d["status"] not in EDITABLE:
            raise _locked()
        findings = self.findings(d, template)
        incomplete = refusal(template, self.completion(d, template), d["profile"])
        if incomplete is not None:  # the server's rule, before anything is queued
            fields = {k.split(".", 1)[1]: v for k, v in incomplete.fields.items()}
            raise LocalRefusal(Refusal(incomplete.code, incomplete.zh, incomplete.en, fields))
        missing = [
            f.item_id
            for f in findings
            if f.kind == "item" and f.photo_required and not d["answers"][f.item_id]["photos"]
        ]
        if missing:
            raise LocalRefusal(
                Refusal(
                    "photo_required",
                    f"{len(missing)} 项不合格的检查项须附现场照片",
                    f"{len(missing)} failed item(s) need a photo",
                    {m: "photo required" for m in missing},
                )
            )
        sig = d["extra"].get("signatures") or {}
        if template.self_inspection and not sig.get("inspector"):
            # 自查: the patroller signs alone (the enterprise is the site; no one countersigns)
            raise LocalRefusal(
                Refusal("signatures_required", "须由巡查人员签字确认", "the patroller must sign")
            )
        refused = d["extra"].get("refusal") or {}
        if (
            not template.self_inspection
            and refused.get("refused")
            and not sig.get("representative")
        ):
            # 拒签: the representative refused; a witness and a photo of it stand instead
            missing = {
                k: v
                for k, v in (("witness", "witness's name"), ("photo", "photo of the refusal"))
                if not str(refused.get(k) or "").strip()
            }
            if missing or not sig.get("inspector"):
                raise LocalRefusal(
                    Refusal(
                        "refusal_incomplete",
                        "企业负责人拒签的，须由检查人员签字，并记录见证人姓名、拍摄拒签现场照片",
                        "a refusal to sign needs the inspector's signature, a witness's name and "
                        "a photo of the refusal",
                        missing,
                    )
                )
        elif not template.self_inspection and (
            not sig.get("inspector") or not sig.get("representative")
        ):
            raise LocalRefusal(
                Refusal(
                    "signatures_required",
                    "须由检查人员和企业负责人签字确认",
                    "the inspector and the site's representative must both sign",
                )
            )
        ended = to_iso(self.clock.now())
        payload = self.payload(d, template, ended, default_texts)
        op_id = str(uuid.uuid4())

        def submit_(db: Database) -> None:
            status = db.execute("SELECT status FROM draft WHERE id = ?", [draft_id]).fetchone()
            if status is None or status[0] not in EDITABLE:
                raise _locked()
            enqueue_in(db, OpType.inspection_submit, payload, self.clock, op_id)
            db.execute(
                "UPDATE draft SET status = 'submitted', ended_at = ?, updated_at = ?, op_id = ?"
                " WHERE id = ?",
                [ended, ended, op_id, draft_id],
            )
            actor = actor_of(db)
            for f in findings:
                hazard_id = finding_hazard_id(d["id"], f.item_id)
                body = finding_hazard_payload(
                    template,
                    f,
                    inspection_id=d["id"],
                    site_id=d["site_id"],
                    photos=payload["photos"],
                    descriptions=payload["descriptions"],
                    profile=d["profile"],
                    gps=payload.get("gps"),
                    photo_gps=payload.get("photo_gps"),
                )
                db.execute(
                    "INSERT INTO provisional (hazard_id, op_id, body) VALUES (?, ?, ?)"
                    " ON CONFLICT (hazard_id) DO UPDATE SET op_id = excluded.op_id,"
                    " body = excluded.body",
                    [hazard_id, op_id, dumps(body)],
                )
                refold(db, hazard_id, actor)

        self.store.write(submit_)
        return {"id": d["id"], "op_id": op_id, "findings": len(findings)}


def _refusal_of(extra: dict[str, Any], sig: dict[str, Any]) -> dict[str, Any]:
    """The payload's 拒签 record, when the representative refused and did not sign after all."""
    refusal = extra.get("refusal") or {}
    if not refusal.get("refused") or sig.get("representative"):
        return {}
    return {
        "refusal": {
            "witness": str(refusal.get("witness") or "").strip()[:100],
            "photo": refusal.get("photo"),
            "reason": str(refusal.get("reason") or "").strip()[:400],
        }
    }
