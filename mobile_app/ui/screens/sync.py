"""Sync: a progress bar (records and bytes), the last sync time, the server's receipt for
every record and file, errors in plain words, the "this tablet holds the only copy of N
records" warning and a retry button. Automatic sync when the network appears is the app's
job (``HazardChainApp._probe``)."""

from __future__ import annotations

from typing import Any

from kivy.properties import NumericProperty, StringProperty

from mobile_app.i18n.extract import N_
from mobile_app.ui import labels, theme
from mobile_app.ui.messages import sync_error
from mobile_app.ui.screens.base import BaseScreen, load_kv
from mobile_app.ui.widgets import ListRow, WrapLabel

load_kv(__file__)

KIND_NAMES = {
    "inspection.submit": N_("Inspection"),
    "hazard.event": N_("Hazard event"),
    "photo.add": N_("Photo"),
}


def human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


class SyncScreen(BaseScreen):
    only_copy = NumericProperty(0)
    last_sync = StringProperty("")

    def fetch(self) -> dict[str, Any]:
        return self.app.backend.sync_state()

    def progress_text(self, p: dict) -> str:
        if not p:
            return ""
        t = self.t
        phase = {
            "upload": t("Sending photos"),
            "push": t("Sending"),
            "pull": t("Receiving"),
            "photos": t("Receiving photos"),
            "done": t("Done"),
        }.get(p.get("phase"), "")
        text = f"{phase}: {p.get('records_done', 0)}/{p.get('records_total', 0)} {t('records')}"
        if p.get("bytes_total"):
            text += f" · {human_bytes(p.get('bytes_done', 0))}/{human_bytes(p['bytes_total'])}"
        return text

    def show(self, state: dict[str, Any]) -> None:
        app, t = self.app, self.t
        self.only_copy = state["only_copy"]
        self.last_sync = labels.when(state["last_sync"])
        self.ids.warning.text = (
            t(
                "This tablet holds the only copy of {n} records. Sync before you hand it over or log out."
            ).format(n=state["only_copy"])
            if state["only_copy"]
            else t("Everything on this tablet is on the server.")
        )
        report = state.get("last_report") or {}
        errors = report.get("errors") or []
        witness = state.get("log_failures") or []  # already in the tablet's language
        self.ids.errors.text = "\n".join([*(sync_error(app, e) for e in errors), *witness])
        box = self.ids.records
        box.clear_widgets()
        for r in state["records"][:100]:
            status = {
                "pending": (t("Waiting"), theme.PENDING),
                "sent": (t("Sent, no answer yet"), theme.WARN),
                "acknowledged": (t("Received by server"), theme.OK),
                "rejected": (t("Refused"), theme.DANGER),
            }.get(r["status"], (r["status"], theme.MUTED))
            receipt = r.get("receipt") or {}
            sub = labels.when(r["created_at"])
            if receipt.get("at"):
                sub += f" → {t('receipt')} {labels.when(receipt['at'])}"
            if r["status"] == "rejected":
                sub = f"{t('Reason')}: {r['reason']}"
            name = t(KIND_NAMES.get(r["kind"], r["kind"]))
            if r["kind"] == "hazard.event":
                name += " · " + labels.event_name(app, r["label"])
            box.add_widget(
                ListRow(
                    title=name,
                    subtitle=sub,
                    stripe=status[1],
                    badges=[status],
                    bg=theme.DANGER_BG if r["status"] == "rejected" else theme.SURFACE,
                )
            )
        if not state["records"]:
            box.add_widget(
                WrapLabel(text=t("Nothing recorded on this tablet yet."), color=theme.MUTED)
            )
        files = self.ids.files
        files.clear_widgets()
        for f in state["files"][:100]:
            receipt = f.get("receipt")
            status = (
                (t("Received by server"), theme.OK) if receipt else (t("Waiting"), theme.PENDING)
            )
            files.add_widget(
                ListRow(
                    title=f"{f['sha256'][:12]}… · {human_bytes(f['size'])}",
                    subtitle=(t("receipt") + " " + labels.when(receipt.get("at")))
                    if receipt
                    else "",
                    stripe=status[1],
                    badges=[status],
                )
            )
        if not state["files"]:
            files.add_widget(WrapLabel(text=t("No photos or signatures yet."), color=theme.MUTED))

    def sync_now(self) -> None:
        self.app.start_sync()
