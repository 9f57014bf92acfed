"""Hazards: a filtered list (state, severity, overdue, site) with badges (重大 in red, 逾期,
not yet synced, refused), and a hazard's page: its chain as a timeline (each link's owner and
deadline; this device's own events marked pending; refused ones with the server's reason)
and the actions the user's role allows now."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kivy.metrics import dp
from kivy.properties import ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from mobile_app.ui import labels, theme
from mobile_app.ui.evidence import PhotoThumb
from mobile_app.ui.photos import pick_photo
from mobile_app.ui.screens.base import BaseScreen, load_kv
from mobile_app.ui.widgets import Badge, FormDialog, ListRow, TButton, WrapLabel
from shared.chain import PLAN_PARTS
from shared.events import SPEC_BY_TYPE, SPECS
from shared.geo import GpsStamp
from shared.supervision import supervision_name

load_kv(__file__)

STATE_FILTERS = [
    "mine",  # 待我处理: what this user does next (shared.events.acts_next)
    "open",
    "all",
    "reported",
    "assigned",
    "rectifying",
    "in_review",
    "verified",
    "closed",
]


class HazardRow(ListRow):
    key = StringProperty("")


class HazardsScreen(BaseScreen):
    state_filter = StringProperty("open")
    severity_filter = StringProperty("")
    overdue_only = StringProperty("")
    site_filter = StringProperty("")
    site_names = ListProperty([])
    _sites: dict[str, str] = {}  # site name → id, filled by show()

    def fetch(self) -> dict[str, Any]:
        b = self.app.backend
        filters = {
            "state": None if self.state_filter == "all" else self.state_filter,
            "severity": self.severity_filter or None,
            "overdue": bool(self.overdue_only),
            "site_id": self.site_filter or None,
        }
        return {"hazards": b.hazards(**filters), "sites": b.sites()}

    def state_label(self, value: str) -> str:
        if value == "mine":
            return self.t("My next steps")
        if value == "open":
            return self.t("Open")
        if value == "all":
            return self.t("All states")
        return labels.state_name(self.app, value)

    def show(self, data: dict[str, Any]) -> None:
        app = self.app
        hazards = data["hazards"]
        self._sites = {s["name"]: s["id"] for s in data["sites"]}
        self.site_names = [self.t("All sites")] + sorted(self._sites)
        self.ids.state_spinner.values = [self.state_label(v) for v in STATE_FILTERS]
        self.ids.state_spinner.text = self.state_label(self.state_filter)
        self.ids.count.text = self.t("{n} hazards").format(n=len(hazards))
        self.ids.rv.data = [
            {
                "key": h["id"],
                "title": h["title"],
                "subtitle": f"{labels.hazard_number(app, h)} · {h['site_name']} · "
                f"{self.t('deadline')} {labels.when(h['deadline'], False)}",
                "stripe": theme.DANGER
                if h["severity"] == "major"
                else theme.STATE.get(h["state"], theme.LINE),
                "badges": labels.hazard_badges(app, h),
                "bg": theme.DANGER_BG if h["overdue"] else theme.SURFACE,
            }
            for h in hazards
        ]

    def pick_state(self, text: str) -> None:
        for v in STATE_FILTERS:
            if self.state_label(v) == text:
                self.state_filter = v
        self.refresh()

    def pick_site(self, text: str) -> None:
        self.site_filter = self._sites.get(text, "")
        self.refresh()

    def set_severity(self, value: str) -> None:
        self.severity_filter = value
        self.refresh()

    def set_overdue(self, on: bool) -> None:
        self.overdue_only = "1" if on else ""
        self.refresh()


class TimelineEntry(BoxLayout):
    pass


def event_photos(payload: dict[str, Any]) -> list[str]:
    """The photos one event cites: its ``photos`` (defect, before) then ``evidence`` (after)."""
    out: list[str] = []
    for key in ("photos", "evidence"):
        value = payload.get(key)
        if isinstance(value, list):
            out += [s for s in value if isinstance(s, str) and s not in out]
    return out


def photo_places(h: dict[str, Any], metres: str) -> dict[str, str]:
    """Where each of the hazard's photos was taken, as a thumbnail shows it: the GPS stamps its
    chain's links carry (the finding's photos, the 整改 evidence, added photos)."""
    out: dict[str, str] = {}
    for ev in h.get("timeline") or []:
        for sha, raw in ((ev.get("payload") or {}).get("photo_gps") or {}).items():
            try:
                out[sha] = GpsStamp.model_validate(raw).label(metres)
            except ValueError:  # a stamp the server accepted is valid; be safe on screen
                continue
    return out


class HazardScreen(BaseScreen):
    heading = StringProperty("")

    def fetch(self) -> dict[str, Any]:
        return self.app.backend.hazard(self.params["hazard_id"])

    def show(self, h: dict[str, Any]) -> None:
        app, t = self.app, self.t
        self.hazard = h
        self.heading = h["title"]
        ids = self.ids
        badges = ids.badges
        badges.clear_widgets()
        for text, colour in labels.hazard_badges(app, h):
            badges.add_widget(Badge(text=text, bg=colour))
        level = supervision_name(h["escalation_level"], app.tr.short)
        if level:
            badges.add_widget(Badge(text=level, bg=theme.DANGER))
        lines = [
            f"{t('Hazard No.')}: {labels.hazard_number(app, h)}",
            f"{t('Site')}: {h['site_name']}",
            f"{t('State')}: {labels.state_name(app, h['state'])}",
            f"{t('Deadline')}: {labels.when(h['deadline'])}",
            f"{t('Responsible')}: {h['responsible_unit'] or '—'} {h['responsible_person'] or ''}",
            f"{t('Reported')}: {labels.when(h['reported_at'])}",
        ]
        if h["link_owner"]:
            owner = h["link_owner"]
            who = owner.get("unit") or labels.role_name(app, owner.get("role", ""))
            lines.append(f"{t('Next to act')}: {who} · {labels.when(h['link_deadline'])}")
        if h.get("supervision"):
            lines.append(f"{t('Leader supervision')}: {h['supervision']['reason']}")
        for i in h.get("instructions_for_me") or []:
            lines.append(f"{t('Instruction to acknowledge')}: {i['text']}")
        ids.info.text = "\n".join(lines)
        ids.description.text = h["description"] or ""
        if h["plan"] or h["severity"] == "major":
            plan = "\n".join(
                f"{labels.plan_part_name(app, p)}: {h['plan'].get(p, t('(missing)'))}"
                for p in PLAN_PARTS
            )
            ids.plan.text = t("Five-assurance plan (五落实)") + "\n" + plan
        else:
            ids.plan.text = ""
        photos = ids.photos
        photos.clear_widgets()
        where = photo_places(h, t("metres after an accuracy (±12 m)"))
        for sha in h["photos"]:  # every photo the chain cites, whoever took it
            photos.add_widget(PhotoThumb(sha256=sha, gps=where.get(sha, "")))
        ids.photos_scroll.height = dp(100) if h["photos"] else 0
        self._show_timeline(h)
        self._show_actions(h)

    def _show_timeline(self, h: dict[str, Any]) -> None:
        app, t = self.app, self.t
        box = self.ids.timeline
        box.clear_widgets()
        where = photo_places(h, t("metres after an accuracy (±12 m)"))
        for ev in reversed(h["timeline"]):
            entry = TimelineEntry()
            status = ev["status"]
            colour = {"pending": theme.PENDING, "rejected": theme.DANGER}.get(status, theme.PRIMARY)
            entry.ids.dot.colour = colour
            head = entry.ids.head
            head.add_widget(Badge(text=labels.event_name(app, ev["type"]), bg=colour))
            if status == "pending":
                head.add_widget(Badge(text=t("Pending: on this tablet only"), bg=theme.PENDING))
            elif status == "rejected":
                head.add_widget(Badge(text=t("Refused by the server"), bg=theme.DANGER))
            who = labels.role_name(app, ev.get("actor_role", ""))
            text = [f"{labels.when(ev.get('at'))} · {who}"]
            text += labels.payload_lines(app, ev["type"], ev.get("payload") or {})
            if ev.get("next_owner"):
                owner = ev["next_owner"]
                name = owner.get("unit") or labels.role_name(app, owner.get("role", ""))
                text.append(f"→ {t('Next')}: {name} · {labels.when(ev.get('next_deadline'))}")
            if status == "rejected" and ev.get("reason"):
                text.append(t("Reason") + ": " + ev["reason"])
            entry.ids.body.text = "\n".join(text)
            entry.ids.body.color = theme.DANGER if status == "rejected" else theme.TEXT
            shots = event_photos(ev.get("payload") or {})
            if shots:  # this link's own photos: the defect, the fix, the check
                row = BoxLayout(size_hint_y=None, height=dp(100), spacing=dp(6))
                for sha in shots:
                    row.add_widget(PhotoThumb(sha256=sha, gps=where.get(sha, "")))
                entry.ids.body.parent.add_widget(row)
            box.add_widget(entry)

    def _show_actions(self, h: dict[str, Any]) -> None:
        """A button for each action the role may take now that the tablet offers (its spec
        says so); its form is built from the spec's fields."""
        box = self.ids.actions
        box.clear_widgets()
        allowed = set(h["allowed"])
        for spec in SPECS:
            if spec.tablet and spec.type in allowed:
                b = TButton(text=self.app.tr.pick(spec.action), kind=spec.tone)
                b.bind(on_release=lambda _b, spec=spec: self.open_action(spec.type))
                box.add_widget(b)
        if not box.children:
            box.add_widget(
                WrapLabel(
                    text=self.t("Nothing for you to do on this hazard now."), color=theme.MUTED
                )
            )

    # ---------------------------------------------------------------- actions

    def _append(self, event_type: str, payload: dict[str, Any]) -> None:
        hazard_id = self.hazard["id"]

        def done(_: Any) -> None:
            self.app.toast(self.t("Saved on this tablet; it will be sent at the next sync."))
            self.app.update_pending()
            self.refresh()
            if self.app.online and self.app.auto_sync:
                self.app.start_sync()

        self.app.call_local(
            self.app.backend.append_event,
            hazard_id,
            event_type,
            payload,
            on_done=done,
            on_error=lambda exc: self.app.toast(self.t("Not saved: ") + str(exc)),
        )

    def open_action(self, event_type: str) -> None:
        """The spec's form: its text fields in a dialog (prefilled from the hazard), an Add
        photo button when it carries photos; an action that asks only for photos opens the
        photo picker at once."""
        spec = SPEC_BY_TYPE[event_type]
        fields = spec.tablet_fields
        photo_key = spec.photo_field
        texts = [f for f in fields if f.kind != "photos"]
        if photo_key and not texts:
            pick_photo(self.app, lambda sha: self._append(event_type, {photo_key: [sha]}))
            return
        view = SimpleNamespace(**self.hazard)  # the record carries the fields a prefill reads
        dlg = FormDialog(
            [
                (f.key, self.app.tr.pick(f.label), (f.prefill(view, "") if f.prefill else "") or "")
                for f in texts
            ],
            title=self.app.tr.pick(spec.action),
        )
        photos: list[str] = []
        counter = WrapLabel(text=self.t("{n} photos").format(n=0), color=theme.MUTED)
        if photo_key:
            add = TButton(text=self.t("Add photo"), kind="secondary")

            def got(sha: str) -> None:
                photos.append(sha)
                counter.text = self.t("{n} photos").format(n=len(photos))

            add.bind(on_release=lambda *_: pick_photo(self.app, got))
            dlg.ids.extra.add_widget(add)
            dlg.ids.extra.add_widget(counter)
            dlg.add_evidence = got

        def save(values: dict[str, str]) -> bool:
            payload: dict[str, Any] = {k: v.strip() for k, v in values.items() if v.strip()}
            missing = [f for f in texts if f.required and f.key not in payload]
            if missing or (photo_key and not photos) or not payload:
                counter.text = self.t("Fill in the required fields and add the photos asked for.")
                counter.color = theme.DANGER
                if not counter.parent:
                    dlg.ids.extra.add_widget(counter)
                return False
            if photo_key:
                payload[photo_key] = list(photos)
            self._append(event_type, payload)
            return True

        dlg.handler = save
        dlg.open()
        self.action_dialog = dlg
