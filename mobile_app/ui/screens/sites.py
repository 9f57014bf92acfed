"""Sites: search by name, district or industry; a site's page with its risk colour, recent
inspections and open hazards, the button that starts an inspection, and one that reports a
hazard seen outside any checklist."""

from __future__ import annotations

from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.popup import Popup

from mobile_app.ui import labels, theme
from mobile_app.ui.photos import pick_photo
from mobile_app.ui.scanner import ScanDialog
from mobile_app.ui.screens.base import BaseScreen, load_kv
from mobile_app.ui.widgets import FormDialog, ListRow, TButton, TToggle, WrapLabel
from shared.chain import TRANSITIONS, EventType
from shared.site_checklists import picker_fits, picker_mismatch

load_kv(__file__)
# who may report a hazard: the chain's own rule, as the server applies it
REPORTING_ROLES = frozenset(r.value for r in TRANSITIONS[EventType.reported].roles)


class SiteRow(ListRow):
    key = StringProperty("")


class SitesScreen(BaseScreen):
    def fetch(self):
        return self.app.backend.sites(self.ids.search.text)

    def show(self, sites) -> None:
        app = self.app
        self.ids.count.text = self.t("{n} sites").format(n=len(sites))
        self.ids.rv.data = [
            {
                "key": s["id"],
                "title": s["name"],
                "subtitle": " · ".join(
                    x
                    for x in (
                        labels.vocab(app, s["industry"]),
                        labels.vocab(app, s["site_type"]),
                        s["address"],
                    )
                    if x
                ),
                "stripe": theme.RISK.get(s["risk_colour"], theme.LINE),
                "badges": [(labels.vocab(app, s["risk_colour"]), theme.RISK[s["risk_colour"]])]
                if s["risk_colour"] in theme.RISK
                else [],
            }
            for s in sites
        ]

    def scan_code(self) -> None:
        """Open a site from its printed QR code (``hazardchain:site:<id>``): read by the
        tablet's camera, by a handheld scanner into the field, or typed from the line printed
        under the QR. An unknown or foreign code keeps the dialog open and says why."""

        def opened(found: dict) -> None:
            self.app.go("site", site_id=found["site_id"], template_id=found["template_id"])

        dlg = ScanDialog(self.app.camera, on_opened=opened)
        dlg.open()
        self.scan_dialog = dlg


class SiteScreen(BaseScreen):
    def fetch(self):
        b = self.app.backend
        site = b.site(self.params["site_id"])
        site["templates"] = b.templates(site["industry"])
        # who inspects: an enterprise user is offered its self-inspections (自查)
        site["role"] = (b.current_user() or {}).get("role", "inspector")
        return site

    def show(self, site) -> None:
        app, t = self.app, self.t
        self.site = site
        ids = self.ids
        ids.bar.title = site["name"]
        ids.risk.bg = theme.RISK.get(site["risk_colour"], theme.MUTED)
        ids.risk.text = labels.vocab(app, site["risk_colour"])
        district = app.tr.pick(site.get("district_name") or ["", ""])
        ids.info.text = "\n".join(
            [
                f"{t('Industry')}: {labels.vocab(app, site['industry'])} · {labels.vocab(app, site['site_type'])}",
                f"{t('District')}: {district}",
                f"{t('Address')}: {site['address']}",
                f"{t('Contact')}: {site['contact_name']} {site['contact_phone']}",
            ]
        )
        box = ids.inspections
        box.clear_widgets()
        titles = site.get("template_titles", {})

        def checklist_name(template_id: str) -> str:
            return app.tr.pick(titles[template_id]) if template_id in titles else template_id

        for i in site["inspections"][:8]:
            status = {
                "draft": (t("Draft"), theme.PENDING),
                "submitted": (t("Not synced"), theme.PENDING),
                "rejected": (t("Refused"), theme.DANGER),
            }.get(i["status"], (t("Synced"), theme.OK))
            findings = i.get("finding_count")
            row = ListRow(
                title=f"{checklist_name(i['template_id'])} · {labels.when(i.get('ended_at'))}",
                subtitle=(t("{n} findings").format(n=findings) if findings is not None else ""),
                stripe=status[1],
                badges=[status],
            )
            if i["status"] in ("draft", "submitted", "rejected"):
                row.bind(on_release=lambda _r, i=i: app.go("checklist", draft_id=i["id"]))
            box.add_widget(row)
        if not site["inspections"]:
            box.add_widget(WrapLabel(text=t("No inspections yet."), color=theme.MUTED))
        hz = ids.hazards
        hz.clear_widgets()
        for h in site["open_hazards"]:
            row = ListRow(
                title=h["title"],
                subtitle=f"{t('deadline')} {labels.when(h['deadline'], False)}",
                stripe=theme.DANGER if h["severity"] == "major" else theme.STATE[h["state"]],
                badges=labels.hazard_badges(app, h)[:3],
            )
            row.bind(on_release=lambda _r, h=h: app.go("hazard", hazard_id=h["id"]))
            hz.add_widget(row)
        if not site["open_hazards"]:
            hz.add_widget(WrapLabel(text=t("No open hazards."), color=theme.MUTED))
        # inspectors inspect for the regulator; an enterprise user patrols its own site (自查)
        ids.start.disabled = app.role not in ("inspector", "officer", "admin", "enterprise")
        ids.start.opacity = 0 if ids.start.disabled else 1
        ids.report.disabled = app.role not in REPORTING_ROLES
        ids.report.opacity = 0 if ids.report.disabled else 1
        if self.params.get("template_id") and not ids.start.disabled:
            # opened from the site's QR code: its suggested checklist, preselected, one tap away
            self.picker = TemplatePicker(screen=self)
            self.picker.open()
            self.params = {**self.params, "template_id": None}

    def pick_template(self) -> None:
        TemplatePicker(screen=self).open()

    def report_form(self) -> None:
        """A hazard seen outside any checklist (随手报): what, how serious, photos; saved on
        the tablet at once and shown pending until the server has it."""
        t, site_id = self.t, self.site["id"]
        photos: list[str] = []
        dlg = FormDialog(
            [("title", t("What is wrong"), ""), ("description", t("Details"), "")],
            title=t("Report a hazard") + " · " + self.site["name"],
        )
        severity = BoxLayout(size_hint_y=None, height=theme.TOUCH, spacing=theme.GAP)
        general = TToggle(text=t("General"), group="severity", state="down", tone="muted")
        major = TToggle(text=t("Major"), group="severity", tone="danger")
        general.allow_no_selection = major.allow_no_selection = False
        severity.add_widget(general)
        severity.add_widget(major)
        counter = WrapLabel(text=t("{n} photos").format(n=0), color=theme.MUTED)
        add = TButton(text=t("Add photo"), kind="secondary")

        def got(sha: str) -> None:
            photos.append(sha)
            counter.text = t("{n} photos").format(n=len(photos))

        add.bind(on_release=lambda *_: pick_photo(self.app, got))
        heading = WrapLabel(text=t("Severity"), color=theme.MUTED)
        for w in (heading, severity, add, counter):
            dlg.ids.extra.add_widget(w)

        def save(values: dict[str, str]) -> bool:
            title = values["title"].strip()
            if not title:
                counter.text, counter.color = t("Say what is wrong."), theme.DANGER
                return False
            level = "major" if major.state == "down" else "general"
            if level == "major" and not photos:
                counter.text = t("A major hazard needs at least one photo.")
                counter.color = theme.DANGER
                return False

            def done(hazard_id: str) -> None:
                self.app.toast(t("Saved on this tablet; it will be sent at the next sync."))
                self.app.update_pending()
                self.app.go("hazard", hazard_id=hazard_id)
                if self.app.online and self.app.auto_sync:
                    self.app.start_sync()

            self.app.call_local(
                self.app.backend.report_hazard,
                site_id,
                title[:200],
                level,
                values["description"].strip(),
                list(photos),
                on_done=done,
                on_error=lambda exc: self.app.toast(t("Not saved: ") + str(exc)),
            )
            return True

        dlg.handler = save
        dlg.severity_general, dlg.severity_major = general, major
        dlg.add_photo_sha = got
        dlg.open()
        self.report_dialog = dlg

    def start(self, template: dict, profile: str | None, override: str | None = None) -> None:
        """Open (or resume) the draft; ``override`` is why a checklist that does not fit the
        site is used, kept with the draft and sent with the inspection."""
        b = self.app.backend
        site_id = self.site["id"]

        def open_() -> dict:
            d = b.open_draft(site_id, template["id"], template["version"], profile)
            if override:
                b.save_draft_fields(d["id"], checklist_override=override)
            return d

        self.app.call_local(open_, on_done=lambda d: self.app.go("checklist", draft_id=d["id"]))


class TemplatePicker(Popup):
    """Choose the checklist and, if it has any, the profile. The site's own (by its type,
    shared.site_checklists) come first and preselected; another one needs a reason, which is
    recorded on the inspection."""

    def __init__(self, screen: SiteScreen, **kw) -> None:
        super().__init__(**kw)
        self.screen = screen
        self.chosen: dict | None = None
        self.profile: str | None = None
        site = screen.site
        t = screen.app.tr
        templates = site["templates"]
        self.held = {tpl["id"]: tpl["industry"] for tpl in templates}
        self.titles = {tpl["id"]: (tpl["title"]["zh"], tpl["title"]["en"]) for tpl in templates}
        self.role = site.get("role", "inspector")
        self.fits = {
            f.template_id: f
            for f in picker_fits(self.role, site["site_type"], site["industry"], self.held)
        }
        order = list(self.fits)
        fitting = sorted(templates, key=lambda x: order.index(x["id"]) if x["id"] in order else 99)
        wanted = screen.params.get("template_id") or (order[0] if order else None)
        box = self.ids.templates
        for n, tpl in enumerate(fitting):
            if n == len(self.fits) and n:
                box.add_widget(
                    WrapLabel(
                        text=screen.t("Other checklists (a reason is needed)"), color=theme.MUTED
                    )
                )
            title = t.pick([tpl["title"]["zh"], tpl["title"]["en"]])
            btn = TToggle(
                text=f"{title}  (v{tpl['version']} · {tpl['item_count']})",
                group="template",
                tone="primary" if tpl["id"] in self.fits else "muted",
            )
            if screen.app.phone:  # a narrow popup: the whole title on two lines
                btn.shorten, btn.height = False, theme.TOUCH_LARGE + dp(16)
            btn.template_id = tpl["id"]
            btn.bind(on_release=lambda b, tpl=tpl: self.choose(tpl, b))
            box.add_widget(btn)
            if tpl["id"] == wanted:
                btn.state = "down"
                self.choose(tpl, btn)

    def choose(self, tpl: dict, button) -> None:
        if button.state != "down":
            button.state = "down"
        self.chosen = tpl
        self.profile = None
        box = self.ids.profiles
        box.clear_widgets()
        t = self.screen.app.tr
        profiles = tpl.get("profiles") or []
        self.ids.profile_label.opacity = 1 if profiles else 0
        fit = self.fits.get(tpl["id"])
        preferred = (
            fit.profile if fit is not None and fit.profiles else self.screen.site["site_type"]
        )
        for p in profiles:
            b = TToggle(
                text=t.pick([p["zh"], p["en"]]), group="profile", size_hint_x=None, width=160
            )
            b.profile_id = p["id"]
            b.bind(
                on_release=lambda _b, p=p: setattr(
                    self, "profile", p["id"] if _b.state == "down" else None
                )
            )
            box.add_widget(b)
            if p["id"] == preferred:  # an open pit gets its open-pit items, a mall its mall ones
                b.state = "down"
                self.profile = p["id"]
        self.ids.go.disabled = False

    def start(self) -> None:
        if self.chosen is None:
            return
        site = self.screen.site
        why = picker_mismatch(
            self.role,
            site["site_type"],
            site["industry"],
            self.chosen["id"],
            self.profile,
            self.held,
            self.titles,
        )
        if why is None:
            self.dismiss()
            self.screen.start(self.chosen, self.profile)
            return
        t = self.screen.t
        chosen, profile = self.chosen, self.profile

        def go(values: dict[str, str]) -> bool:
            reason = values["reason"].strip()
            if not reason:
                return False
            self.dismiss()
            self.screen.start(chosen, profile, override=reason)
            return True

        self.override_dialog = FormDialog(
            [("reason", why.message(self.screen.app.tr.short), "")],
            title=t("This checklist does not fit the site: why use it?"),
            handler=go,
        )
        self.override_dialog.open()
