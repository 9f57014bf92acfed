"""Home: today's inspection tasks and unfinished drafts, my sites, what waits to be synced
and the overdue hazards."""

from __future__ import annotations

from mobile_app.ui import labels, theme
from mobile_app.ui.screens.base import BaseScreen, load_kv
from mobile_app.ui.widgets import ListRow, WrapLabel

load_kv(__file__)

MAX_ROWS = 6


class HomeScreen(BaseScreen):
    def fetch(self):
        return self.app.backend.home()

    def show(self, data) -> None:
        app, t = self.app, self.t
        ids = self.ids
        user = data["user"]
        ids.greeting.text = f"{user.get('display_name', '')}  ·  {labels.role_name(app, user.get('role', ''))}  ·  {user.get('unit', '')}"
        titles = data.get("template_titles", {})

        def title(template_id: str) -> str:
            return app.tr.pick(titles[template_id]) if template_id in titles else template_id

        tasks = ids.tasks
        tasks.clear_widgets()
        for d in data["drafts"][:MAX_ROWS]:
            row = ListRow(
                title=t("Continue inspection") + f" · {self._site_name(data, d['site_id'])}",
                subtitle=f"{title(d['template_id'])} · {labels.when(d['updated_at'])}",
                stripe=theme.PENDING,
                badges=[(t("Draft"), theme.PENDING)],
            )
            row.bind(on_release=lambda _r, d=d: app.go("checklist", draft_id=d["id"]))
            tasks.add_widget(row)
        for task in data["tasks_today"][: MAX_ROWS - len(data["drafts"][:MAX_ROWS])]:
            badges = [(t("Late"), theme.DANGER)] if task.get("late") else []
            row = ListRow(
                title=task.get("site_name") or task["site_id"],
                subtitle=f"{title(task['template_id'])} · {t('due')} {labels.when(task['due_at'])}",
                stripe=theme.PRIMARY,
                badges=badges + [(t("Start"), theme.PRIMARY)],
            )
            row.bind(
                on_release=lambda _r, task=task: app.go(
                    "site", site_id=task["site_id"], template_id=task["template_id"]
                )
            )
            tasks.add_widget(row)
        if not tasks.children:
            tasks.add_widget(WrapLabel(text=t("No inspection tasks for today."), color=theme.MUTED))
        sites = ids.sites
        sites.clear_widgets()
        for s in data["my_sites"][:MAX_ROWS]:
            row = ListRow(
                title=s["name"],
                subtitle=f"{labels.vocab(app, s['site_type'])} · {s['address']}",
                stripe=theme.RISK.get(s["risk_colour"], theme.LINE),
            )
            row.bind(on_release=lambda _r, s=s: app.go("site", site_id=s["id"]))
            sites.add_widget(row)
        ids.sites_title.text = t("My sites") + f" ({len(data['my_sites'])})"
        ids.pending_count.text = str(data["pending"])
        ids.pending_count.color = theme.WARN if data["pending"] else theme.OK
        ids.pending_text.text = (
            t("records exist only on this tablet")
            if data["pending"]
            else t("Everything is synced.")
        )
        ids.last_sync.text = t("Last sync") + ": " + labels.when(data["last_sync"])
        overdue = ids.overdue
        overdue.clear_widgets()
        for h in data["overdue"][:MAX_ROWS]:
            row = ListRow(
                title=h["title"],
                subtitle=f"{h['site_name']} · {t('deadline')} {labels.when(h['deadline'], False)}",
                stripe=theme.DANGER if h["severity"] == "major" else theme.WARN,
                badges=labels.hazard_badges(app, h)[:2],
            )
            row.bind(on_release=lambda _r, h=h: app.go("hazard", hazard_id=h["id"]))
            overdue.add_widget(row)
        ids.overdue_title.text = t("Overdue hazards") + f" ({len(data['overdue'])})"
        if not data["overdue"]:
            overdue.add_widget(WrapLabel(text=t("No overdue hazards."), color=theme.MUTED))

    @staticmethod
    def _site_name(data, site_id: str) -> str:
        return next((s["name"] for s in data["my_sites"] if s["id"] == site_id), "")
