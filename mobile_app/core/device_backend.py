"""The ``Backend`` the screens use, over the tablet's core (``mobile_app/core``): the local
store, the outbox, drafts, the session and the sync client. This module only shapes records
for the screens and turns the core's exceptions into the UI's; every rule lives in the core
or in ``shared``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import requests

from mobile_app.core.backend import (
    ActionRefused,
    LoginFailed,
    NeedsConfirmation,
    ProgressCallback,
    SyncProgress,
    SyncReport,
)
from mobile_app.core.chains import local_chain, stored_view
from mobile_app.core.checklists import held_templates
from mobile_app.core.drafts import Drafts
from mobile_app.core.evidence_copy import drop_uploaded_originals
from mobile_app.core.location import LocationProvider, device_location
from mobile_app.core.outbox import LocalRefusal, Outbox, actor_of
from mobile_app.core.photo_cache import DEFAULT_BUDGET_MB, MB, PhotoCache
from mobile_app.core.session import (
    DeviceSession,
    UnlockFailed,
    UnsyncedRecords,
    clear_local_data,
    unsynced_count,
)
from mobile_app.core.site_codes import open_from_qr
from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import (
    DeviceRevoked,
    LoginRequired,
    ServerRefused,
    SyncClient,
    SyncFailed,
    UpgradeRequired,
)
from mobile_app.core.witness import message as witness_message
from shared.chain import Actor, HazardView
from shared.checklist import Template
from shared.clock import Clock, SystemClock, local_date, parse_iso, to_iso
from shared.events import awaits, offered, pending_instructions
from shared.findings import default_description, finding_hazard_id
from shared.roles import Role
from shared.tasks import TaskRef, fulfilled_task
from shared.taxonomy import name_of

RISK_ORDER = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}


def _refused(exc: LocalRefusal, lang: str) -> ActionRefused:
    """The core's refusal in the user's language, with its code for screens that branch."""
    r = exc.refusal
    return ActionRefused(r.message(lang), code=r.code, fields=dict(r.fields or {}))


def _task_ref(task: dict[str, Any]) -> TaskRef:
    return TaskRef(
        task["id"],
        task["site_id"],
        task["template_id"],
        date.fromisoformat(task["scheduled_for"]),
        task.get("assignee_user_id"),
        task["status"],
    )


class DeviceBackend:
    """Thread-safe: the store has one writer thread and a reader per thread; the sync client
    is used from the network lane only."""

    def __init__(
        self,
        data_dir: Path | str,
        server_url: str = "http://127.0.0.1:8000",
        *,
        clock: Clock | None = None,
        fast_fail: bool = True,
        location: LocationProvider | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.clock = clock or SystemClock()
        self.store = LocalStore(self.data_dir / "device.db")
        # GPS on Android (plyer); none on a desktop: findings and photos are stamped where known
        self.location = location or device_location(clock=self.clock)
        self.outbox = Outbox(self.store, clock=self.clock, location=self.location)
        self.drafts_ = Drafts(self.store, clock=self.clock, location=self.location)
        self.session = DeviceSession(self.store)
        self.device_id: str = self.store.device_id
        if not self.store.meta("server_url"):
            self.store.set_meta("server_url", server_url.rstrip("/"))
        # a tablet in a mine should hear "no network" in seconds, not after minutes of retries
        self._retry = {"max_attempts": 3, "backoff_cap": 2.0} if fast_fail else {}
        self._templates: dict[tuple[str, int], Template] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------------ settings

    def setting(self, key: str, default: Any = None) -> Any:
        raw = self.store.meta(f"ui.{key}")
        return json.loads(raw) if raw is not None else default

    def set_setting(self, key: str, value: Any) -> None:
        self.store.set_meta(f"ui.{key}", json.dumps(value, ensure_ascii=False))

    def _lang(self) -> str:
        return "en" if str(self.setting("lang", "zh_CN")).startswith("en") else "zh"

    def server_url(self) -> str:
        return self.store.meta("server_url") or ""

    def set_server_url(self, url: str) -> None:
        self.store.set_meta("server_url", url.strip().rstrip("/"))

    def _client(self, progress: ProgressCallback | None = None) -> SyncClient:
        return SyncClient(
            self.store,
            self.server_url(),
            clock=self.clock,
            on_progress=progress,
            lang=self._lang(),
            **self._retry,
        )

    # ------------------------------------------------------------------ session

    def cached_username(self) -> str | None:
        user = self.session.user()
        return user.get("username") if user else None

    def login(self, username: str, password: str) -> dict[str, Any]:
        previous = self.session.user()
        other = previous is not None and previous.get("username", "").lower() != (
            username.strip().lower()
        )
        if other and unsynced_count(self.store.reader()):
            raise LoginFailed("other_user_data", "another user's records are not synced yet")
        try:
            user = self._client().login(username, password)
        except SyncFailed:
            try:
                return self.session.unlock_offline(username, password)
            except UnlockFailed as exc:
                raise LoginFailed(exc.code, str(exc)) from None
        except ServerRefused as exc:
            code = "other_user_data" if exc.code == "other_user" else "bad_credentials"
            if exc.status >= 500 or exc.status == 429:
                code = "server_error"
            raise LoginFailed(code, exc.message) from None
        except DeviceRevoked as exc:
            raise LoginFailed("device_revoked", str(exc)) from None
        except LoginRequired as exc:
            raise LoginFailed("bad_credentials", str(exc)) from None
        except UpgradeRequired as exc:
            raise LoginFailed("upgrade_required", str(exc)) from None
        if previous is not None and previous.get("id") != user["id"]:
            self.store.write(clear_local_data)  # the last user's copy of server data
            self._templates.clear()
        self.session.remember(username, password)
        return user

    def current_user(self) -> dict[str, Any] | None:
        return self.session.current_user()

    def logout(self, force: bool = False) -> None:
        try:
            self.session.logout(force)
        except UnsyncedRecords as exc:
            raise NeedsConfirmation(exc.count, str(exc)) from None
        self._templates.clear()

    def _user(self) -> dict[str, Any]:
        return self.session.user() or {}

    def _local_day(self, instant: datetime) -> str:
        """The deployment's day (the server says its zone in ``/me``), not the tablet's."""
        return local_date(instant, self._user().get("timezone")).isoformat()

    def _actor(self) -> Actor:
        return actor_of(self.store.reader())

    # ------------------------------------------------------------------ reference data

    def _districts(self) -> dict[str, list[str]]:
        rows = self.store.read("SELECT data FROM district")
        out = {}
        for r in rows:
            d = json.loads(r["data"])
            out[d["id"]] = [d["name"], d.get("name_en") or d["name"]]
        return out

    def _site_rows(self) -> list[dict[str, Any]]:
        return [json.loads(r["data"]) for r in self.store.read("SELECT data FROM site")]

    def sites(self, query: str = "") -> list[dict[str, Any]]:
        out = self._site_rows()
        q = query.strip().lower()
        if q:
            names = self._districts()

            def hay(s: dict[str, Any]) -> str:
                words = [s["name"], s.get("address", ""), *names.get(s["district_id"], [])]
                for code in (s.get("industry"), s.get("site_type")):
                    if code:
                        words += [name_of(code, "zh"), name_of(code, "en")]
                return " ".join(words).lower()

            out = [s for s in out if q in hay(s)]
        return sorted(out, key=lambda s: (RISK_ORDER.get(s.get("risk_colour"), 9), s["name"]))

    def site(self, site_id: str) -> dict[str, Any]:
        rows = self.store.read("SELECT data FROM site WHERE id = ?", [site_id])
        if not rows:
            raise ActionRefused(
                "该场所不在本机" if self._lang() == "zh" else "this site is not on the tablet"
            )
        site = json.loads(rows[0]["data"])
        site["open_hazards"] = [h for h in self.hazards(site_id=site_id) if h["is_open"]]
        local = [
            {
                "id": d["id"],
                "template_id": d["template_id"],
                "ended_at": d["ended_at"] or d["started_at"],
                "status": d["status"],
                "finding_count": None,
            }
            for d in self.drafts_.list(site_id)
        ]
        ids = {d["id"] for d in local}
        server = [
            {**json.loads(r["data"]), "status": "acknowledged"}
            for r in self.store.read("SELECT data FROM inspection WHERE site_id = ?", [site_id])
        ]
        inspections = local + [i for i in server if i["id"] not in ids]
        inspections.sort(key=lambda i: i.get("ended_at") or "", reverse=True)
        site["inspections"] = inspections
        site["district_name"] = self._districts().get(site["district_id"], ["", ""])
        site["template_titles"] = self._template_titles()
        return site

    def _template_titles(self) -> dict[str, list[str]]:
        """Checklist names by id, so rows name a checklist as people do, never by its id."""
        return {t["id"]: [t["title"]["zh"], t["title"]["en"]] for t in self.templates()}

    def templates(self, industry: str | None = None) -> list[dict[str, Any]]:
        # only those this user may inspect with: an enterprise user its self-inspections
        latest = held_templates(self.store, self._user().get("role", "inspector"))
        out = [
            {
                "id": t["id"],
                "version": t["version"],
                "title": {"zh": t["title"], "en": t.get("title_en") or t["title"]},
                "industry": t["industry"],
                "digest": t["digest"],
                "item_count": t.get("item_count", 0),
                "major_count": t.get("major_count", 0),
                "profiles": t["content"].get("profiles") or [],
                "inspectors": t["content"].get("inspectors") or ["regulator"],
            }
            for t in latest.values()
        ]
        out.sort(key=lambda s: (s["industry"] != industry, s["id"]))
        return out

    def template(self, template_id: str, version: int) -> Template:
        key = (template_id, int(version))
        with self._lock:
            cached = self._templates.get(key)
        if cached is not None:
            return cached
        rows = self.store.read(
            "SELECT data FROM template WHERE id = ?", [f"{template_id}:{int(version)}"]
        )
        if not rows:
            raise ActionRefused(
                "该检查表不在本机，请先同步"
                if self._lang() == "zh"
                else "this checklist is not on the tablet yet; sync first"
            )
        template = Template.model_validate(json.loads(rows[0]["data"])["content"])
        with self._lock:
            self._templates[key] = template
        return template

    def blob(self, sha256: str) -> bytes | None:
        path = self.store.blob_path(sha256)
        return path.read_bytes() if path.exists() else None

    def _photos(self) -> PhotoCache:
        budget = int(self.setting("photo_budget_mb", DEFAULT_BUDGET_MB)) * MB
        return PhotoCache(self.store, budget_bytes=budget, clock=self.clock)

    def photo(self, sha256: str, variant: str = "thumb") -> dict[str, Any]:
        """What the tablet holds of a hazard's photo, offline (``core.photo_cache.Photo``)."""
        return vars(self._photos().get(sha256, variant))  # type: ignore[arg-type]

    def fetch_photo(self, sha256: str, variant: str = "thumb") -> dict[str, Any]:
        """Fetch it from the server now (a tap; a preview the screen still lacks)."""
        return vars(self._photos().fetch(self._client(), sha256, variant))  # type: ignore[arg-type]

    def photo_storage(self) -> dict[str, int]:
        cache = self._photos()
        return {"used": cache.usage(), "budget": cache.budget_bytes}

    def set_photo_budget(self, mb: int) -> dict[str, int]:
        """A new budget for fetched photos, applied at once (the least recently viewed go)."""
        self.set_setting("photo_budget_mb", int(mb))
        self._photos().evict_to_budget()
        return self.photo_storage()

    # ------------------------------------------------------------------ hazards

    def _record(self, view: HazardView, row: dict[str, Any], actor: Actor) -> dict[str, Any]:
        now = self.clock.now()
        role = actor.role
        return {
            "id": view.hazard_id,
            "number": row.get("number"),
            "title": view.title,
            "description": view.description,
            "severity": view.severity,
            "state": view.state.value,
            "is_open": view.is_open,
            "site_id": view.site_id,
            "site_name": row.get("site_name") or "",
            "overdue": view.is_overdue(now),
            "deadline": view.deadline,
            "responsible_unit": view.responsible_unit,
            "responsible_person": view.responsible_person,
            "link_owner": view.link_owner,
            "link_deadline": view.link_deadline,
            "escalation_level": view.escalation_level,
            "plan": view.plan,
            "plan_missing": view.plan_missing,
            "photos": view.photos,
            "evidence": view.evidence,
            "reported_at": view.reported_at,
            "updated_at": view.updated_at,
            "local_only": not row["confirmed_count"],
            "has_pending": bool(row["pending_count"]) or not row["confirmed_count"],
            "has_rejected": bool(row.get("rejected")) or bool(row.get("conflicts")),
            "allowed": [e.value for e in offered(view, actor)] if view.is_open else [],
            # the one rule of "待我处理" (shared.events.acts_next), and the 批示 to 签收
            "awaits_me": awaits(view, role, actor.id),
            "instructions_for_me": pending_instructions(view, actor),
            "supervision": view.supervision,
        }

    HAZARD_ROWS = """
        SELECT h.*, json_extract(s.data, '$.name') AS site_name,
               (SELECT n.number FROM hazard_number n WHERE n.hazard_id = h.id) AS number,
               (SELECT count(*) FROM outbox o
                WHERE o.hazard_id = h.id AND o.status = 'rejected') AS rejected
        FROM hazard h LEFT JOIN site s ON s.id = h.site_id
    """

    def hazards(self, **filters: Any) -> list[dict[str, Any]]:
        where, params = "", []
        if filters.get("site_id"):
            where, params = " WHERE h.site_id = ?", [filters["site_id"]]
        user = self._user()
        actor = Actor(user.get("id", ""), Role(user.get("role", "inspector")))
        out = [
            self._record(stored_view(json.loads(r["view"])), r, actor)
            for r in self.store.read(self.HAZARD_ROWS + where, params)
        ]
        states = filters.get("state")
        if states:
            states = [states] if isinstance(states, str) else list(states)
            if "mine" in states:
                out = [h for h in out if h["awaits_me"]]
            elif "open" in states:
                out = [h for h in out if h["is_open"]]
            else:
                out = [h for h in out if h["state"] in states]
        if filters.get("severity"):
            out = [h for h in out if h["severity"] == filters["severity"]]
        if filters.get("overdue"):
            out = [h for h in out if h["overdue"]]
        out.sort(
            key=lambda h: (
                not h["is_open"],
                not h["overdue"],
                h["severity"] != "major",
                h["deadline"] or "9999",
            )
        )
        return out

    def hazard(self, hazard_id: str) -> dict[str, Any]:
        rows = self.store.read(self.HAZARD_ROWS + " WHERE h.id = ?", [hazard_id])
        if not rows:
            raise ActionRefused(
                "该隐患不在本机" if self._lang() == "zh" else "this hazard is not on the tablet"
            )
        lang = self._lang()
        db = self.store.reader()
        actor = self._actor()
        chain = local_chain(db, hazard_id, actor)
        record = self._record(chain.view, rows[0], actor)
        timeline = [{**e.body(), "status": "server", "reason": ""} for e in chain.confirmed]
        timeline += [{**ev.body(), "status": "pending", "reason": ""} for _, ev in chain.pending]
        refused = self.store.read(
            "SELECT * FROM outbox WHERE hazard_id = ? AND status = 'rejected' ORDER BY device_seq",
            [hazard_id],
        )
        conflicts = {c["op_id"]: c for c in json.loads(rows[0]["conflicts"] or "[]")}
        for op in [*refused, *self.store.read(
            "SELECT * FROM outbox WHERE op_id IN (SELECT value FROM json_each(?))",
            [json.dumps(list(conflicts))],
        )]:  # fmt: skip
            payload = json.loads(op["payload"])
            c = conflicts.get(op["op_id"])
            reason = (
                (c["en"] if lang == "en" else c["zh"])
                if c and op["status"] != "rejected"
                else (op["message_en"] if lang == "en" else op["message_zh"]) or op["code"] or ""
            )
            timeline.append(
                {
                    "id": op["op_id"],
                    "type": payload.get("type", "photo_added" if "photos" in payload else ""),
                    "actor_id": actor.id,
                    "actor_role": actor.role.value,
                    "at": op["device_time"],
                    "device_time": op["device_time"],
                    "payload": payload.get("payload", payload),
                    "next_owner": None,
                    "next_deadline": None,
                    "status": "rejected",
                    "reason": reason,
                }
            )
        record["timeline"] = timeline
        return record

    # ------------------------------------------------------------------ home

    def home(self) -> dict[str, Any]:
        user = self._user()
        today = self._local_day(self.clock.now())
        site_names = {s["id"]: s["name"] for s in self._site_rows()}
        tasks = [json.loads(r["data"]) for r in self.store.read("SELECT data FROM task")]
        due = [
            t for t in tasks if t["status"] in ("open", "missed") and t["scheduled_for"] <= today
        ]
        due = self._not_done_here(due)
        for t in due:
            t["site_name"] = site_names.get(t["site_id"], "")
            t["late"] = t["status"] == "missed"
        sites = self.sites()
        if user.get("site_ids"):
            sites = [s for s in sites if s["id"] in user["site_ids"]]
        hazards = self.hazards(state="open")
        return {
            "user": user,
            "tasks_today": sorted(due, key=lambda t: t["due_at"]),
            "my_sites": sites,
            "pending": unsynced_count(self.store.reader()),
            "overdue": [h for h in hazards if h["overdue"]],
            "open_hazards": len(hazards),
            "drafts": [d for d in self.drafts() if d["status"] in ("draft", "rejected")],
            "last_sync": self.store.meta("last_sync"),
            "template_titles": self._template_titles(),
        }

    def _not_done_here(self, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Without the tasks an inspection submitted on this tablet fulfils, as the server
        will decide once it arrives (``shared.tasks.fulfilled_task``, the server's rule)."""
        left = {t["id"]: t for t in tasks}
        unsent = self.store.read(
            "SELECT d.site_id, d.template_id, d.ended_at FROM draft d"
            " JOIN outbox o ON o.op_id = d.op_id"
            " WHERE d.status = 'submitted' AND o.status IN ('pending', 'sent')"
        )  # once the server has it, the pulled tasks say so themselves
        me = self._user().get("id", "")
        for d in unsent:
            done = fulfilled_task(
                (_task_ref(t) for t in left.values()),
                site_id=d["site_id"],
                template_id=d["template_id"],
                inspector_id=me,
                day=date.fromisoformat(self._local_day(parse_iso(d["ended_at"]))),
            )
            if done is not None:
                del left[done.id]
        return list(left.values())

    # ------------------------------------------------------------------ drafts

    def drafts(self) -> list[dict[str, Any]]:
        return self.drafts_.list()

    def open_draft(
        self, site_id: str, template_id: str, version: int, profile: str | None
    ) -> dict[str, Any]:
        return self.draft(self.drafts_.open(site_id, template_id, version, profile))

    def draft(self, draft_id: str) -> dict[str, Any]:
        return self.drafts_.get(draft_id)

    def save_answer(self, draft_id: str, item_id: str, **changes: Any) -> dict[str, Any]:
        try:
            return self.drafts_.save_answer(draft_id, item_id, **changes)
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None

    def save_draft_fields(self, draft_id: str, **changes: Any) -> None:
        try:
            self.drafts_.save_fields(draft_id, **changes)
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None

    def _default_texts(self, d: dict[str, Any], template: Template) -> dict[str, str]:
        lang = self._lang()
        return {
            f.item_id: f.description_en if lang == "en" else f.description_zh
            for f in self.drafts_.findings(d, template)
        }

    def findings(self, draft_id: str) -> list[dict[str, Any]]:
        d = self.draft(draft_id)
        template = self.template(d["template_id"], d["template_version"])
        lang = self._lang()
        texts = d["extra"].get("finding_texts", {})
        try:
            found = self.drafts_.findings(d, template)
        except LocalRefusal as exc:
            raise _refused(exc, lang) from None
        out = []
        for f in found:
            shown = f.description_en if lang == "en" else f.description_zh
            out.append(
                {
                    "item_id": f.item_id,
                    "kind": f.kind,
                    "severity": f.severity,
                    "description": shown,
                    "record": default_description(f),
                    "text": texts.get(f.item_id, shown),
                    "basis": f.basis_en if lang == "en" else f.basis,
                    "deadline_days": f.deadline_days,
                    "photo_required": f.photo_required,
                    "photos": d["answers"].get(f.item_id, {}).get("photos", []),
                    "hazard_id": finding_hazard_id(d["id"], f.item_id),
                }
            )
        return out

    def completion(self, draft_id: str) -> dict[str, Any]:
        """What the review shows: answered, 不适用, 未检查, unanswered, and the 完成率."""
        d = self.draft(draft_id)
        c = self.drafts_.completion(d, self.template(d["template_id"], d["template_version"]))
        lists = {"unanswered": list(c.unanswered), "unexplained": list(c.unexplained)}
        return asdict(c) | lists | {"done": c.done, "rate": c.rate}

    def mark_unanswered(self, draft_id: str, mark: str, reason: str) -> int:
        d = self.draft(draft_id)
        template = self.template(d["template_id"], d["template_version"])
        try:
            return self.drafts_.mark_unanswered(draft_id, template, mark, reason)
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None

    def submit_draft(self, draft_id: str) -> dict[str, Any]:
        d = self.draft(draft_id)
        template = self.template(d["template_id"], d["template_version"])
        try:
            defaults = self._default_texts(d, template)
            return self.drafts_.submit(draft_id, template, defaults)
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None

    # ------------------------------------------------------------------ hazard actions

    def add_blob(self, data: bytes) -> str:
        try:
            return self.outbox.add_photo(data)["sha256"]
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None

    def append_event(self, hazard_id: str, event_type: str, payload: dict[str, Any]) -> None:
        """Checked against the locally folded chain before it is queued."""
        try:
            self.outbox.append_event(hazard_id, event_type, payload)
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None

    def report_hazard(
        self, site_id: str, title: str, severity: str, description: str, photos: list[str]
    ) -> str:
        try:
            return self.outbox.report_hazard(
                site_id=site_id,
                title=title,
                severity=severity,
                description=description,
                photos=photos,
            )
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None

    def open_site_code(self, payload: str) -> dict[str, Any]:
        try:
            opened = open_from_qr(self.store, self._user()["role"], payload)
        except LocalRefusal as exc:
            raise _refused(exc, self._lang()) from None
        offer = opened.suggested
        return {
            "site_id": opened.site["id"],
            "name": opened.site["name"],
            "template_id": offer.template_id if offer else None,
            "profile": offer.profile if offer else None,
        }

    # ------------------------------------------------------------------ sync

    def probe(self) -> bool:
        try:
            r = requests.get(self.server_url() + "/healthz", timeout=3)
        except requests.RequestException:
            return False
        return r.status_code == 200

    def sync(self, progress: ProgressCallback | None = None) -> SyncReport:
        report = SyncReport()
        fetched = 0
        try:
            client = self._client(progress)
            result = client.sync()
            if result.ok:  # the photos of what was just pulled, previews first
                drop_uploaded_originals(self.store)
                fetched = self._photos().prefetch(client).fetched
        except LoginRequired as exc:
            # the server ended this session (or it predates device keys and the next login
            # binds one): ask for the password again, keep every record
            self.session.lock()
            rebind = exc.code == "device_key_required"
            report.errors.append("auth_expired:device_key" if rebind else "auth_expired")
        except DeviceRevoked as exc:
            self.session.lock()
            report.errors.append(f"device_revoked:{exc}")
        except UpgradeRequired as exc:
            report.errors.append(f"upgrade_required:{exc}")
        else:
            errors = [self._plain(e) for e in result.errors]
            report = SyncReport(**{**vars(result), "errors": errors, "photos_fetched": fetched})
        if progress is not None:
            progress(SyncProgress("done"))
        report.finished_at = to_iso(self.clock.now())
        self.set_setting("last_report", vars(report))
        return report

    @staticmethod
    def _plain(error: str) -> str:
        """The client's error as the screen's codes: offline, or a server problem."""
        if ": HTTP 5" in error:
            return "server error " + error.rsplit("HTTP ", 1)[1][:3]
        if error.split(" ", 1)[0] in ("GET", "POST", "PUT", "PATCH", "HEAD", "token"):
            return f"offline:{error}"
        return error

    def sync_state(self) -> dict[str, Any]:
        lang = self._lang()
        records = []
        for r in self.store.read("SELECT * FROM outbox ORDER BY device_seq DESC LIMIT 200"):
            payload = json.loads(r["payload"])
            label = payload.get("type") if r["type"] == "hazard.event" else r["type"]
            receipt = None
            if r["received_at"]:
                receipt = {"at": r["received_at"], "server_seq": r["server_seq"]}
            records.append(
                {
                    "seq": r["device_seq"],
                    "id": r["op_id"],
                    "kind": r["type"],
                    "target_id": r["hazard_id"] or payload.get("id"),
                    "status": r["status"],
                    "reason": (r["message_en"] if lang == "en" else r["message_zh"])
                    or r["code"]
                    or "",
                    "receipt": receipt,
                    "created_at": r["created_at"],
                    "label": label,
                }
            )
        files = [
            {
                "sha256": b["sha256"],
                "size": b["size"],
                "receipt": {"at": b["receipt_at"]} if b["server_complete"] else None,
                "error": b["error"],
            }
            for b in self.store.read("SELECT * FROM blob ORDER BY created_at DESC")
        ]
        only = self.outbox.only_copy()
        drafts = self.store.read(
            "SELECT count(*) AS n FROM draft WHERE status IN ('draft', 'rejected')"
        )[0]["n"]
        return {
            "pending": only.records,
            "drafts": drafts,
            "only_copy": only.records + drafts + only.photos,
            "unsent_files": only.photos,
            "records": records,
            "files": files,
            "last_sync": self.store.meta("last_sync"),
            "last_report": self.setting("last_report"),
            # what the log witness found wrong with the server: shown until someone looks
            "log_failures": [
                witness_message(r["reason"], lang)
                for r in self.store.read("SELECT DISTINCT reason FROM witness_failure")
            ],
        }
