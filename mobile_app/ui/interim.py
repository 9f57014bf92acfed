"""Interim ``Backend`` over the REST API, used until ``mobile_app/core`` lands.

It keeps what the UI needs on the device (SQLite through sqlite-utils: cached server data,
inspection drafts with one row per answer, photos and signatures as blobs, and a queue of
changes) and sends the queue with plain REST calls. The real store, outbox and sync client
(issue 4: push/pull ops, resumable uploads, cursors) replace this module; the screens do not
change because they only see ``backend.Backend``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import sqlite_utils

from mobile_app.ui.backend import (
    ActionRefused,
    LoginFailed,
    NeedsConfirmation,
    ProgressCallback,
    SyncProgress,
    SyncReport,
)
from shared.chain import (
    EVENT_NAMES,
    Actor,
    ChainEvent,
    Refused,
    allowed_event_types,
    decide,
    fold,
    seal_event,
)
from shared.checklist import ChecklistAnswerError, Template, evaluate
from shared.clock import parse_iso, to_iso
from shared.roles import Role

API = "/api/v1"
TIMEOUT = (4, 30)
PBKDF2_ROUNDS = 120_000


def _now() -> datetime:
    return datetime.now(UTC)


def finding_hazard_id(inspection_id: str, item_id: str) -> str:
    """Same derivation as the server's (server/inspections/schemas.py)."""
    return str(uuid.uuid5(uuid.UUID(inspection_id), f"finding:{item_id}"))


def _sniff_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


class Offline(Exception):
    """The server cannot be reached; nothing was lost."""


class InterimBackend:
    """See module docstring. Thread-safe: one SQLite connection per thread (WAL, FULL)."""

    def __init__(self, data_dir: Path | str, server_url: str = "http://127.0.0.1:8000") -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "device.db"
        self._tls = threading.local()
        self._migrate()
        if not self.setting("device_id"):
            self.set_setting("device_id", f"tablet-{uuid.uuid4().hex[:12]}")
        if not self.setting("server_url"):
            self.set_setting("server_url", server_url)
        self.device_id: str = self.setting("device_id")
        # every start asks for the password again; offline it is checked against the cache
        self.set_setting("unlocked", False)
        self._http = threading.local()

    # ------------------------------------------------------------------ storage plumbing

    def db(self) -> sqlite_utils.Database:
        db = getattr(self._tls, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=10)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")  # evidence: survive power loss
            conn.execute("PRAGMA foreign_keys=ON")
            db = self._tls.db = sqlite_utils.Database(conn)
        return db

    def _migrate(self) -> None:
        db = self.db()
        with db.conn:
            db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
            db["sites"].create({"id": str, "name": str, "data": str}, pk="id", if_not_exists=True)
            db["hazards"].create(
                {"id": str, "site_id": str, "local_only": int, "data": str},
                pk="id",
                if_not_exists=True,
            )
            db["templates"].create(
                {"key": str, "id": str, "version": int, "digest": str, "summary": str, "body": str},
                pk="key",
                if_not_exists=True,
            )
            db["tasks"].create({"id": str, "data": str}, pk="id", if_not_exists=True)
            db["inspections"].create(
                {"id": str, "site_id": str, "data": str}, pk="id", if_not_exists=True
            )
            db["drafts"].create(
                {
                    "id": str,
                    "site_id": str,
                    "template_id": str,
                    "template_version": int,
                    "profile": str,
                    "status": str,
                    "started_at": str,
                    "ended_at": str,
                    "notes": str,
                    "extra": str,
                    "updated_at": str,
                },
                pk="id",
                if_not_exists=True,
            )
            db["answers"].create(
                {
                    "draft_id": str,
                    "item_id": str,
                    "value": str,
                    "note": str,
                    "photos": str,
                    "updated_at": str,
                },
                pk=("draft_id", "item_id"),
                if_not_exists=True,
            )
            db["blobs"].create(
                {"sha256": str, "data": bytes, "mime": str, "size": int, "receipt": str},
                pk="sha256",
                if_not_exists=True,
            )
            db["outbox"].create(
                {
                    "seq": int,
                    "id": str,
                    "kind": str,
                    "target_id": str,
                    "payload": str,
                    "blobs": str,
                    "status": str,
                    "reason": str,
                    "receipt": str,
                    "created_at": str,
                },
                pk="seq",
                if_not_exists=True,
            )

    def setting(self, key: str, default: Any = None) -> Any:
        row = self.db().execute("select value from meta where key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        db = self.db()
        with db.conn:
            db["meta"].upsert({"key": key, "value": json.dumps(value)}, pk="key")

    # ------------------------------------------------------------------ session

    def server_url(self) -> str:
        return self.setting("server_url")

    def set_server_url(self, url: str) -> None:
        self.set_setting("server_url", url.rstrip("/"))

    def current_user(self) -> dict[str, Any] | None:
        return self.setting("user") if self.setting("unlocked") else None

    def _session(self) -> requests.Session:
        s = getattr(self._http, "s", None)
        if s is None:
            s = self._http.s = requests.Session()
        return s

    def _request(self, method: str, path: str, auth: bool = True, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        lang = self.setting("lang", "zh_CN")
        headers["Accept-Language"] = "en" if lang.startswith("en") else "zh"
        for attempt in (1, 2):
            if auth:
                headers["Authorization"] = f"Bearer {self.setting('access_token', '')}"
            try:
                r = self._session().request(
                    method, self.server_url() + API + path, headers=headers, timeout=TIMEOUT, **kw
                )
            except requests.RequestException as exc:
                raise Offline(str(exc)) from exc
            if r.status_code == 401 and auth and attempt == 1 and self._refresh():
                continue
            return r
        return r

    def _refresh(self) -> bool:
        token = self.setting("refresh_token")
        if not token:
            return False
        r = self._request("POST", "/auth/refresh", auth=False, json={"refresh_token": token})
        if r.status_code != 200:
            return False
        self._store_tokens(r.json())
        return True

    def _store_tokens(self, body: dict[str, Any]) -> None:
        self.set_setting("access_token", body["access_token"])
        self.set_setting("refresh_token", body.get("refresh_token"))

    @staticmethod
    def _hash_password(password: str, salt: bytes) -> str:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ROUNDS).hex()

    def login(self, username: str, password: str) -> dict[str, Any]:
        try:
            r = self._request(
                "POST",
                "/auth/token",
                auth=False,
                data={"username": username, "password": password, "device_id": self.device_id},
            )
        except Offline:
            return self._unlock_offline(username, password)
        if r.status_code in (400, 401, 403):
            raise LoginFailed("bad_credentials", _message(r))
        if r.status_code != 200:
            raise LoginFailed("server_error", _message(r))
        body = r.json()
        user = body["user"]
        previous = self.setting("user")
        if previous and previous["id"] != user["id"] and self._unsynced_count():
            raise LoginFailed(
                "other_user_data",
                "another user's unsynced records are on this device; sync or log them out first",
            )
        salt = os.urandom(16)
        self._store_tokens(body)
        self.set_setting("user", user)
        self.set_setting(
            "offline_unlock",
            {"username": username, "salt": salt.hex(), "hash": self._hash_password(password, salt)},
        )
        self.set_setting("unlocked", True)
        return user

    def _unlock_offline(self, username: str, password: str) -> dict[str, Any]:
        cached = self.setting("offline_unlock")
        user = self.setting("user")
        if not cached or not user:
            raise LoginFailed("offline_first_login", "first login needs the network")
        ok = (
            cached["username"] == username
            and self._hash_password(password, bytes.fromhex(cached["salt"])) == (cached["hash"])
        )
        if not ok:
            raise LoginFailed("bad_credentials", "wrong user name or password")
        self.set_setting("unlocked", True)
        return user

    def logout(self, force: bool = False) -> None:
        n = self._unsynced_count()
        if n and not force:
            raise NeedsConfirmation(n, f"{n} records exist only on this device")
        db = self.db()
        keep = {"device_id", "server_url", "lang"}
        with db.conn:
            if force or not n:
                for table in ("sites", "hazards", "tasks", "inspections", "templates"):
                    db[table].delete_where()
                db["outbox"].delete_where()
                db["answers"].delete_where()
                db["drafts"].delete_where()
                db["blobs"].delete_where()
            db.execute("delete from meta where key not in (?, ?, ?)", list(keep))

    # ------------------------------------------------------------------ reads

    def _rows(self, table: str, where: str = "", params: list | None = None) -> list[dict]:
        return [json.loads(r["data"]) for r in self.db()[table].rows_where(where or None, params)]

    def sites(self, query: str = "") -> list[dict[str, Any]]:
        out = self._rows("sites")
        if query:
            from shared.taxonomy import name_of

            q = query.strip().lower()
            names = self.setting("districts", {})

            def hay(s: dict) -> str:
                d = names.get(s["district_id"], ["", ""])
                return " ".join(
                    [
                        s["name"],
                        s["address"],
                        *d,
                        name_of(s["industry"], "zh"),
                        name_of(s["industry"], "en"),
                        name_of(s["site_type"], "zh"),
                        name_of(s["site_type"], "en"),
                    ]
                ).lower()

            out = [s for s in out if q in hay(s)]
        order = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
        return sorted(out, key=lambda s: (order.get(s["risk_colour"], 9), s["name"]))

    def site(self, site_id: str) -> dict[str, Any]:
        row = self.db()["sites"].get(site_id)
        site = json.loads(row["data"])
        site["open_hazards"] = [h for h in self.hazards(site_id=site_id) if h["is_open"]]
        local = [
            {
                "id": d["id"],
                "template_id": d["template_id"],
                "ended_at": d["ended_at"] or d["started_at"],
                "status": d["status"],
                "finding_count": None,
            }
            for d in self.drafts()
            if d["site_id"] == site_id
        ]
        server = self._rows("inspections", "site_id = ?", [site_id])
        ids = {d["id"] for d in local}
        site["inspections"] = local + [
            {**i, "status": "acknowledged"} for i in server if i["id"] not in ids
        ]
        site["inspections"].sort(key=lambda i: i.get("ended_at") or "", reverse=True)
        site["district_name"] = self.setting("districts", {}).get(site["district_id"], ["", ""])
        return site

    def blob(self, sha256: str) -> bytes | None:
        row = self.db().execute("select data from blobs where sha256 = ?", [sha256]).fetchone()
        return row[0] if row else None

    # -- hazards

    def _pending_ops(self, hazard_id: str) -> list[dict[str, Any]]:
        rows = self.db().execute(
            "select * from outbox where kind = 'hazard.event' and target_id = ? order by seq",
            [hazard_id],
        )
        cols = [c[0] for c in rows.description]
        return [dict(zip(cols, r, strict=True)) for r in rows.fetchall()]

    def _hazard_record(self, data: dict[str, Any], local_only: bool) -> dict[str, Any]:
        """Server chain + this device's queued events folded on top (same rules as server)."""
        events = [ChainEvent.from_mapping(e) for e in data["events"]]
        view = fold(events)
        timeline = [
            {**e.body(), "status": "pending" if local_only else "server", "reason": ""}
            for e in events
        ]
        user = self.setting("user") or {}
        now = _now()
        for op in self._pending_ops(data["id"]):
            p = json.loads(op["payload"])
            if op["status"] == "acked":
                continue
            entry = {
                "id": p["id"],
                "type": p["type"],
                "actor_id": user.get("id", ""),
                "actor_role": user.get("role", ""),
                "at": p["device_time"],
                "device_time": p["device_time"],
                "payload": p["payload"],
                "next_owner": None,
                "next_deadline": None,
                "status": op["status"],
                "reason": op["reason"] or "",
            }
            if op["status"] == "pending":
                try:
                    actor = Actor(user.get("id", ""), Role(user.get("role", "inspector")))
                    decision = decide(view, p["type"], actor, p["payload"], now)
                    ev = seal_event(
                        event_id=p["id"],
                        hazard_id=data["id"],
                        decision=decision,
                        actor=actor,
                        at=now,
                        prev=view,
                    )
                    view = fold([*events, ev])
                    events.append(ev)
                    entry["next_owner"], entry["next_deadline"] = ev.next_owner, ev.next_deadline
                except Refused as exc:
                    entry["status"], entry["reason"] = "rejected", exc.refusal.message(self._lang())
            timeline.append(entry)
        role = Role(user.get("role", "inspector"))
        site = self.db()["sites"].get(view.site_id) if view.site_id else None
        return {
            "id": view.hazard_id,
            "title": view.title,
            "description": view.description,
            "severity": view.severity,
            "state": view.state.value,
            "is_open": view.is_open,
            "site_id": view.site_id,
            "site_name": json.loads(site["data"])["name"] if site else "",
            "overdue": view.overdue or view.is_past_deadline(now),
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
            "local_only": local_only,
            "has_pending": local_only or any(t["status"] == "pending" for t in timeline),
            "has_rejected": any(t["status"] == "rejected" for t in timeline),
            "timeline": timeline,
            "allowed": [e.value for e in allowed_event_types(view, role)] if view.is_open else [],
        }

    def hazards(self, **filters: Any) -> list[dict[str, Any]]:
        rows = self.db()["hazards"].rows_where(
            "site_id = ?" if filters.get("site_id") else None,
            [filters["site_id"]] if filters.get("site_id") else None,
        )
        out = [self._hazard_record(json.loads(r["data"]), bool(r["local_only"])) for r in rows]
        if filters.get("state"):
            states = filters["state"]
            states = [states] if isinstance(states, str) else states
            if "open" in states:
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
        row = self.db()["hazards"].get(hazard_id)
        return self._hazard_record(json.loads(row["data"]), bool(row["local_only"]))

    def home(self) -> dict[str, Any]:
        user = self.setting("user") or {}
        today = datetime.now().date().isoformat()
        tasks = self._rows("tasks")
        open_tasks = [t for t in tasks if t["status"] == "open"]
        due = [t for t in open_tasks if t["scheduled_for"] <= today]
        site_names = {r["id"]: r["name"] for r in self.db()["sites"].rows}
        for t in due:
            t["site_name"] = site_names.get(t["site_id"], "")
        if user.get("site_ids"):
            my_sites = [s for s in self.sites() if s["id"] in user["site_ids"]]
        else:
            my_sites = self.sites()
        hazards = self.hazards(state="open")
        return {
            "user": user,
            "tasks_today": sorted(due, key=lambda t: t["due_at"]),
            "my_sites": my_sites,
            "pending": self._unsynced_count(),
            "overdue": [h for h in hazards if h["overdue"]],
            "open_hazards": len(hazards),
            "drafts": [d for d in self.drafts() if d["status"] == "draft"],
            "last_sync": self.setting("last_sync"),
            "template_titles": {
                t["id"]: [t["title"]["zh"], t["title"]["en"]] for t in self.templates()
            },
        }

    # -- templates

    def templates(self, industry: str | None = None) -> list[dict[str, Any]]:
        rows = [json.loads(r["summary"]) for r in self.db()["templates"].rows]
        latest: dict[str, dict] = {}
        for s in rows:
            if s["id"] not in latest or s["version"] > latest[s["id"]]["version"]:
                latest[s["id"]] = s
        out = list(latest.values())
        out.sort(key=lambda s: (s["industry"] != industry, s["id"]))
        return out

    _template_cache: dict[tuple[str, int], Template] = {}

    def template(self, template_id: str, version: int) -> Template:
        key = (template_id, int(version))
        if key not in self._template_cache:
            row = self.db()["templates"].get(f"{template_id}/{version}")
            self._template_cache[key] = Template.model_validate_json(row["body"])
        return self._template_cache[key]

    # ------------------------------------------------------------------ drafts

    def drafts(self) -> list[dict[str, Any]]:
        rows = list(self.db()["drafts"].rows_where(order_by="updated_at desc"))
        for r in rows:
            r["extra"] = json.loads(r["extra"] or "{}")
        return rows

    def open_draft(
        self, site_id: str, template_id: str, version: int, profile: str | None
    ) -> dict[str, Any]:
        db = self.db()
        existing = db.execute(
            "select id from drafts where site_id = ? and template_id = ? and status = 'draft'",
            [site_id, template_id],
        ).fetchone()
        if existing:
            return self.draft(existing[0])
        draft_id = str(uuid.uuid4())
        now = to_iso(_now())
        with db.conn:
            db["drafts"].insert(
                {
                    "id": draft_id,
                    "site_id": site_id,
                    "template_id": template_id,
                    "template_version": int(version),
                    "profile": profile,
                    "status": "draft",
                    "started_at": now,
                    "ended_at": None,
                    "notes": "",
                    "extra": "{}",
                    "updated_at": now,
                }
            )
        return self.draft(draft_id)

    def draft(self, draft_id: str) -> dict[str, Any]:
        d = dict(self.db()["drafts"].get(draft_id))
        d["extra"] = json.loads(d["extra"] or "{}")
        d["answers"] = {
            r["item_id"]: {
                "value": json.loads(r["value"]) if r["value"] is not None else None,
                "note": r["note"] or "",
                "photos": json.loads(r["photos"] or "[]"),
            }
            for r in self.db()["answers"].rows_where("draft_id = ?", [draft_id])
        }
        return d

    def save_answer(self, draft_id: str, item_id: str, **changes: Any) -> dict[str, Any]:
        """Write one answer field now (value, note or photos); one small transaction."""
        db = self.db()
        status = db.execute("select status from drafts where id = ?", [draft_id]).fetchone()
        if status is None or status[0] != "draft":
            raise ActionRefused("this inspection is submitted and locked")
        row = db.execute(
            "select value, note, photos from answers where draft_id = ? and item_id = ?",
            [draft_id, item_id],
        ).fetchone()
        current = {
            "value": row[0] if row else None,
            "note": row[1] if row else "",
            "photos": row[2] if row else "[]",
        }
        if "value" in changes:
            v = changes["value"]
            current["value"] = None if v is None else json.dumps(v)
        if "note" in changes:
            current["note"] = changes["note"]
        if "photos" in changes:
            current["photos"] = json.dumps(list(changes["photos"]))
        now = to_iso(_now())
        with db.conn:
            db["answers"].upsert(
                {"draft_id": draft_id, "item_id": item_id, **current, "updated_at": now},
                pk=("draft_id", "item_id"),
            )
            db["drafts"].update(draft_id, {"updated_at": now})
        return {
            "value": json.loads(current["value"]) if current["value"] else None,
            "note": current["note"],
            "photos": json.loads(current["photos"]),
        }

    def save_draft_fields(self, draft_id: str, **changes: Any) -> None:
        """notes, or extra keys (finding texts, signatures, representative name)."""
        d = self.draft(draft_id)
        if d["status"] != "draft":
            raise ActionRefused("this inspection is submitted and locked")
        update: dict[str, Any] = {"updated_at": to_iso(_now())}
        if "notes" in changes:
            update["notes"] = changes.pop("notes")
        if changes:
            update["extra"] = json.dumps({**d["extra"], **changes}, ensure_ascii=False)
        db = self.db()
        with db.conn:
            db["drafts"].update(draft_id, update)

    def _answers_of(self, d: dict[str, Any]) -> dict[str, Any]:
        return {k: a["value"] for k, a in d["answers"].items() if a["value"] not in (None, "")}

    def findings(self, draft_id: str) -> list[dict[str, Any]]:
        d = self.draft(draft_id)
        template = self.template(d["template_id"], d["template_version"])
        lang = self._lang()
        out = []
        texts = d["extra"].get("finding_texts", {})
        for f in evaluate(template, self._answers_of(d), d["profile"]):
            default = f.description_en if lang == "en" else f.description_zh
            out.append(
                {
                    "item_id": f.item_id,
                    "kind": f.kind,
                    "severity": f.severity,
                    "description": default,
                    "text": texts.get(f.item_id, default),
                    "basis": f.basis_en if lang == "en" else f.basis,
                    "deadline_days": f.deadline_days,
                    "photo_required": f.photo_required,
                    "photos": d["answers"].get(f.item_id, {}).get("photos", []),
                    "hazard_id": finding_hazard_id(d["id"], f.item_id),
                }
            )
        return out

    def submit_draft(self, draft_id: str) -> dict[str, Any]:
        """Lock the inspection and queue it (plus notes for edited findings) in one transaction."""
        d = self.draft(draft_id)
        if d["status"] != "draft":
            raise ActionRefused("already submitted")
        template = self.template(d["template_id"], d["template_version"])
        answers = self._answers_of(d)
        try:
            findings = self.findings(draft_id)
        except ChecklistAnswerError as exc:
            raise ActionRefused(exc.message_en if self._lang() == "en" else exc.message_zh) from exc
        missing_photo = [f["item_id"] for f in findings if f["photo_required"] and not f["photos"]]
        if missing_photo:
            raise ActionRefused("photo_required:" + ",".join(missing_photo))
        sig = d["extra"].get("signatures", {})
        if not sig.get("inspector") or not sig.get("representative"):
            raise ActionRefused("signatures_required")
        photos = {
            k: a["photos"]
            for k, a in d["answers"].items()
            if a["photos"] and k in template.items_by_id
        }
        notes = [d["notes"]] if d["notes"] else []
        item_notes = [
            f"[{k}] {a['note']}" for k, a in d["answers"].items() if a.get("note", "").strip()
        ]
        notes += item_notes
        rep = d["extra"].get("representative_name", "")
        # The inspection payload has no signature field yet: the blobs are uploaded and named here.
        notes.append(
            f"[签字确认] inspector={sig['inspector']} representative={sig['representative']}"
            + (f" ({rep})" if rep else "")
        )
        ended = to_iso(_now())
        payload = {
            "id": d["id"],
            "site_id": d["site_id"],
            "template_id": d["template_id"],
            "template_version": d["template_version"],
            "profile": d["profile"],
            "answers": answers,
            "photos": photos,
            "notes": "\n".join(notes)[:8000],
            "started_at": d["started_at"],
            "ended_at": ended,
        }
        blob_list = sorted(
            {s for v in photos.values() for s in v} | {sig["inspector"], sig["representative"]}
        )
        db = self.db()
        user = self.setting("user") or {}
        with db.conn:
            db["drafts"].update(draft_id, {"status": "submitted", "ended_at": ended})
            self._enqueue(db, "inspection.submit", d["id"], payload, blob_list)
            for f in findings:
                seal = self._local_reported(d, f, user, ended)
                db["hazards"].upsert(
                    {
                        "id": f["hazard_id"],
                        "site_id": d["site_id"],
                        "local_only": 1,
                        "data": json.dumps(seal, ensure_ascii=False),
                    },
                    pk="id",
                )
                if f["text"].strip() != f["description"].strip():
                    self._enqueue_event(db, f["hazard_id"], "note", {"text": f["text"]}, ended)
        return {"id": d["id"], "findings": len(findings)}

    def _local_reported(self, d: dict, f: dict, user: dict, at: str) -> dict[str, Any]:
        """The hazard as the server will create it, shown (marked pending) until it is acked."""
        actor = Actor(user.get("id", ""), Role(user.get("role", "inspector")))
        payload = {
            "site_id": d["site_id"],
            "title": f["description"][:200],
            "description": f["text"],
            "severity": f["severity"],
            "photos": f["photos"],
            "inspection_id": d["id"],
            "item_id": f["item_id"],
        }
        decision = decide(None, "reported", actor, payload, parse_iso(at))
        ev = seal_event(
            event_id=f["hazard_id"],
            hazard_id=f["hazard_id"],
            decision=decision,
            actor=actor,
            at=parse_iso(at),
            prev=None,
        )
        return {"id": f["hazard_id"], "events": [{**ev.body(), "hash": ev.hash}]}

    # ------------------------------------------------------------------ hazard actions

    def add_blob(self, data: bytes) -> str:
        sha = hashlib.sha256(data).hexdigest()
        db = self.db()
        with db.conn:
            db["blobs"].insert(
                {"sha256": sha, "data": data, "mime": _sniff_mime(data), "size": len(data)},
                pk="sha256",
                ignore=True,
            )
        return sha

    def append_event(self, hazard_id: str, event_type: str, payload: dict[str, Any]) -> None:
        """Check against the locally folded chain, then queue; refusals are raised at once."""
        record = self.hazard(hazard_id)
        user = self.setting("user") or {}
        if event_type not in record["allowed"]:
            raise ActionRefused(EVENT_NAMES.get(event_type, (event_type,) * 2)[0])
        row = self.db()["hazards"].get(hazard_id)
        events = [ChainEvent.from_mapping(e) for e in json.loads(row["data"])["events"]]
        try:
            decide(
                fold(events),
                event_type,
                Actor(user["id"], Role(user["role"])),
                payload,
                _now(),
            )
        except Refused as exc:
            raise ActionRefused(exc.refusal.message(self._lang())) from exc
        db = self.db()
        with db.conn:
            self._enqueue_event(db, hazard_id, event_type, payload, to_iso(_now()))

    def _enqueue_event(self, db, hazard_id: str, event_type: str, payload: dict, at: str) -> None:
        blobs = list(payload.get("photos", [])) + list(payload.get("evidence", []))
        body = {"id": str(uuid.uuid4()), "type": event_type, "payload": payload, "device_time": at}
        self._enqueue(db, "hazard.event", hazard_id, body, blobs)

    def _enqueue(self, db, kind: str, target: str, payload: dict, blobs: list[str]) -> None:
        db["outbox"].insert(
            {
                "id": payload.get("id", str(uuid.uuid4())),
                "kind": kind,
                "target_id": target,
                "payload": json.dumps(payload, ensure_ascii=False),
                "blobs": json.dumps(blobs),
                "status": "pending",
                "reason": "",
                "receipt": "",
                "created_at": to_iso(_now()),
            }
        )

    # ------------------------------------------------------------------ sync

    def _unsynced_count(self) -> int:
        db = self.db()
        ops = db.execute("select count(*) from outbox where status = 'pending'").fetchone()[0]
        drafts = db.execute("select count(*) from drafts where status = 'draft'").fetchone()[0]
        return ops + drafts

    def sync_state(self) -> dict[str, Any]:
        db = self.db()
        cur = db.execute(
            "select seq, id, kind, target_id, status, reason, receipt, created_at, payload"
            " from outbox order by seq desc limit 200"
        )
        cols = [c[0] for c in cur.description]
        records = []
        for r in cur.fetchall():
            rec = dict(zip(cols, r, strict=True))
            p = json.loads(rec.pop("payload"))
            rec["label"] = p.get("type") or rec["kind"]
            rec["receipt"] = json.loads(rec["receipt"]) if rec["receipt"] else None
            records.append(rec)
        files = [
            {
                "sha256": r["sha256"],
                "size": r["size"],
                "receipt": json.loads(r["receipt"]) if r["receipt"] else None,
            }
            for r in db.query("select sha256, size, receipt from blobs")
        ]
        pending = sum(1 for r in records if r["status"] == "pending")
        drafts = db.execute("select count(*) from drafts where status = 'draft'").fetchone()[0]
        unsent_files = sum(1 for f in files if not f["receipt"])
        return {
            "pending": pending,
            "drafts": drafts,
            "only_copy": pending + drafts + unsent_files,
            "unsent_files": unsent_files,
            "records": records,
            "files": files,
            "last_sync": self.setting("last_sync"),
            "last_report": self.setting("last_report"),
        }

    def probe(self) -> bool:
        try:
            r = self._session().get(self.server_url() + "/healthz", timeout=3)
        except requests.RequestException:
            return False
        return r.status_code == 200

    def sync(self, progress: ProgressCallback | None = None) -> SyncReport:
        report = SyncReport()
        prog = SyncProgress("push")

        def tell() -> None:
            if progress:
                progress(SyncProgress(**vars(prog)))

        try:
            self._push(report, prog, tell)
            prog.phase = "pull"
            tell()
            self._pull(report, prog, tell)
        except Offline as exc:
            report.errors.append(f"offline:{exc}")
        except _ServerError as exc:
            report.errors.append(str(exc))
        prog.phase = "done"
        tell()
        report.finished_at = to_iso(_now())
        self.set_setting("last_report", vars(report))
        if report.ok:
            self.set_setting("last_sync", report.finished_at)
        return report

    def _push(self, report: SyncReport, prog: SyncProgress, tell) -> None:
        db = self.db()
        ops = list(db.query("select * from outbox where status = 'pending' order by seq"))
        blob_rows = {
            r["sha256"]: r
            for r in db.query("select sha256, size, receipt from blobs where receipt is null")
        }
        needed = [s for op in ops for s in json.loads(op["blobs"]) if s in blob_rows]
        needed = list(dict.fromkeys(needed))
        prog.records_total = len(ops)
        prog.bytes_total = sum(blob_rows[s]["size"] for s in needed)
        tell()
        for sha in needed:
            data = self.blob(sha)
            r = self._request(
                "PUT",
                f"/blobs/{sha}",
                data=data,
                headers={"Content-Type": "application/octet-stream"},
            )
            if r.status_code not in (200, 201):
                raise _ServerError(f"file {sha[:8]}: {_message(r)}")
            receipt = {**r.json(), "at": to_iso(_now())}
            with db.conn:
                db["blobs"].update(sha, {"receipt": json.dumps(receipt)})
            prog.bytes_done += len(data)
            report.uploaded_files += 1
            report.bytes_sent += len(data)
            tell()
        for op in ops:
            payload = json.loads(op["payload"])
            if op["kind"] == "inspection.submit":
                r = self._request("POST", "/inspections", json=payload)
            else:
                r = self._request("POST", f"/hazards/{op['target_id']}/events", json=payload)
            report.bytes_sent += len(op["payload"].encode())
            if r.status_code >= 500:
                raise _ServerError(f"server error {r.status_code}")
            if r.status_code in (200, 201):
                body = r.json()
                receipt = {"http": r.status_code, "at": to_iso(_now())}
                if op["kind"] == "inspection.submit":
                    receipt["hazards"] = [h["id"] for h in body.get("hazards", [])]
                    receipt["payload_sha256"] = body.get("payload_sha256")
                else:
                    receipt["event_count"] = body.get("event_count")
                update = {"status": "acked", "receipt": json.dumps(receipt)}
                report.pushed += 1
            elif r.status_code == 401:
                raise _ServerError("auth_expired")
            else:
                update = {"status": "rejected", "reason": _message(r)}
                report.rejected += 1
                if op["kind"] == "inspection.submit":
                    self._drop_provisional(db, op["target_id"])
            with db.conn:
                db["outbox"].update(op["seq"], update)
            prog.records_done += 1
            tell()

    def _drop_provisional(self, db, inspection_id: str) -> None:
        """A refused inspection created no hazards: forget the ones shown while it was pending."""
        with db.conn:
            db["drafts"].update(inspection_id, {"status": "rejected"})
            for row in list(db["hazards"].rows_where("local_only = 1")):
                events = json.loads(row["data"])["events"]
                if events and events[0]["payload"].get("inspection_id") == inspection_id:
                    db["hazards"].delete(row["id"])

    def _get(self, path: str, report: SyncReport, **params: Any) -> Any:
        r = self._request("GET", path, params=params)
        if r.status_code == 401:
            raise _ServerError("auth_expired")
        if r.status_code != 200:
            raise _ServerError(_message(r))
        report.bytes_received += len(r.content)
        return r.json()

    def _get_optional(self, path: str, report: SyncReport, **params: Any) -> list[dict]:
        """A list some roles may not read (tasks are for inspectors): empty when refused."""
        r = self._request("GET", path, params=params)
        if r.status_code in (403, 404):
            return []
        if r.status_code != 200:
            raise _ServerError(_message(r))
        report.bytes_received += len(r.content)
        return r.json()["items"]

    def _pull(self, report: SyncReport, prog: SyncProgress, tell) -> None:
        db = self.db()
        me = self._get("/me", report)
        self.set_setting("user", me)
        districts = self._get("/districts", report)
        self.set_setting("districts", {d["id"]: [d["name"], d["name_en"]] for d in districts})
        sites = self._get("/sites", report, limit=500)["items"]
        hazards: list[dict] = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = self._get("/hazards", report, **params)
            hazards += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        known = {r["id"]: json.loads(r["data"]) for r in db["hazards"].rows_where("local_only = 0")}
        changed = [
            h for h in hazards if known.get(h["id"], {}).get("event_count") != h["event_count"]
        ]
        summaries = self._get("/checklists", report)["items"]
        have = {r["key"]: r["digest"] for r in db["templates"].rows}
        new_templates = [
            s for s in summaries if have.get(f"{s['id']}/{s['version']}") != s["digest"]
        ]
        tasks = self._get_optional("/tasks", report, mine="true", limit=500)
        inspections = self._get("/inspections", report, limit=200)["items"]
        prog.records_total += len(changed) + len(new_templates) + 5
        prog.records_done += 5
        tell()
        with db.conn:
            db["sites"].upsert_all(
                [{"id": s["id"], "name": s["name"], "data": json.dumps(s)} for s in sites], pk="id"
            )
            db["tasks"].delete_where()
            db["tasks"].insert_all([{"id": t["id"], "data": json.dumps(t)} for t in tasks])
            db["inspections"].upsert_all(
                [
                    {"id": i["id"], "site_id": i["site_id"], "data": json.dumps(i)}
                    for i in inspections
                ],
                pk="id",
            )
        for h in changed:
            detail = self._get(f"/hazards/{h['id']}", report)
            events = [{**e, "hazard_id": h["id"]} for e in detail["events"]]
            data = {"id": h["id"], "event_count": h["event_count"], "events": events}
            with db.conn:
                db["hazards"].upsert(
                    {
                        "id": h["id"],
                        "site_id": h["site_id"],
                        "local_only": 0,
                        "data": json.dumps(data, ensure_ascii=False),
                    },
                    pk="id",
                )
            report.pulled += 1
            prog.records_done += 1
            tell()
        for s in new_templates:
            body = self._get(f"/checklists/{s['id']}/{s['version']}", report)
            with db.conn:
                db["templates"].upsert(
                    {
                        "key": f"{s['id']}/{s['version']}",
                        "id": s["id"],
                        "version": s["version"],
                        "digest": s["digest"],
                        "summary": json.dumps(s, ensure_ascii=False),
                        "body": json.dumps(body, ensure_ascii=False),
                    },
                    pk="key",
                )
            report.pulled += 1
            prog.records_done += 1
            tell()
        report.pulled += len(sites) + len(tasks)

    def _lang(self) -> str:
        return "en" if str(self.setting("lang", "zh_CN")).startswith("en") else "zh"


class _ServerError(Exception):
    pass


def _message(r: requests.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"HTTP {r.status_code}"
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return f"HTTP {r.status_code}"
