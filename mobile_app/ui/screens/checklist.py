"""Run a checklist: sections with progress on the left, the items in a RecycleView (only the
rows on screen exist as widgets, so 1,000 items open as fast as 100), every answer type,
not applicable, notes, photos, the pass rule and legal basis one tap away, failed items
highlighted with their severity. Every answer is written to the device store at once."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from mobile_app.ui import theme
from mobile_app.ui.checklist_model import build_rows, is_failed, progress, rule_text
from mobile_app.ui.photos import pick_photo
from mobile_app.ui.screens.base import PanedScreen, load_kv
from mobile_app.ui.widgets import FormDialog, TToggle, app, inform
from shared.completion import MARKS
from shared.text import for_inspectors

load_kv(__file__)


SAVE_DELAY = 0.3  # s: typed numbers and text are saved this long after the last key
# a phone's item row: the controls (two rows of touch targets) and gaps below the text
PHONE_CONTROLS = theme.TOUCH * 2 + dp(6) + dp(4) * 2 + dp(4)


def screen() -> ChecklistScreen:
    return app().manager.get_screen("checklist")


class SectionRow(RecycleDataViewBehavior, BoxLayout):
    title = StringProperty("")
    section_id = StringProperty("")


class ItemRow(RecycleDataViewBehavior, BoxLayout):
    """One checklist item; subclasses add the answer controls for their type."""

    index = NumericProperty(0)
    item_id = StringProperty("")
    number = StringProperty("")
    text = StringProperty("")
    severity = StringProperty("general")
    rule = StringProperty("")
    unit = StringProperty("")
    choices = ListProperty([])
    value = StringProperty("")
    note = StringProperty("")
    photos = NumericProperty(0)
    photo_required = BooleanProperty(False)
    failed = BooleanProperty(False)
    locked = BooleanProperty(False)

    def refresh_view_attrs(self, rv, index, data):
        self.index = index
        self._loading = True
        super().refresh_view_attrs(rv, index, data)
        self.show_value()
        self._loading = False

    def show_value(self) -> None:
        pass

    def answer(self, value: Any) -> None:
        """A tap on an answer: the same answer again clears it."""
        if self.locked:
            return
        new = "" if str(value) == self.value else str(value)
        self.value = new
        screen().set_answer(self.index, self.item_id, value=new or None)

    def toggle_na(self) -> None:
        self.answer("na")


class YesNoRow(ItemRow):
    pass


class NumberRow(ItemRow):
    _event = None

    def show_value(self) -> None:
        shown = "" if self.value in MARKS else self.value  # 不适用 / 未检查 leave the field empty
        if self.ids.entry.text != shown:
            self.ids.entry.text = shown

    def typed(self, text: str) -> None:
        if getattr(self, "_loading", True) or self.locked:
            return
        if self._event is not None:
            self._event.cancel()
        self._pending = (self.index, self.item_id, text)
        self._event = Clock.schedule_once(lambda *_: self.flush(), SAVE_DELAY)

    def flush(self) -> None:
        """Save typed text now (leaving the field, the screen or pressing enter)."""
        if self._event is not None:
            self._event.cancel()
            self._event = None
            self._save(*self._pending)

    def _save(self, index: int, item_id: str, text: str) -> None:
        text = text.strip()
        try:
            value: float | int | None = float(text) if text else None
        except ValueError:
            return
        if value is not None and value.is_integer() and "." not in text:
            value = int(value)
        if item_id == self.item_id:
            self.value = "" if value is None else str(value)
        screen().set_answer(index, item_id, value=value)


class TextRow(NumberRow):
    def _save(self, index: int, item_id: str, text: str) -> None:
        if item_id == self.item_id:
            self.value = text
        screen().set_answer(index, item_id, value=text or None)


class ChoiceRow(ItemRow):
    def show_value(self) -> None:
        box = self.ids.choice_box
        if [b.choice for b in box.children[::-1]] != [c[0] for c in self.choices]:
            box.clear_widgets()
            for value, label in self.choices:
                b = TToggle(text=label)
                b.choice = value
                b.bind(on_release=lambda btn: self.answer(btn.choice))
                box.add_widget(b)
        for b in box.children:
            b.state = "down" if b.choice == self.value else "normal"
            b.tone = "muted"
            b.disabled = self.locked


class SectionButton(ButtonBehavior, BoxLayout):
    """A section in the side panel: its title and how much of it is answered or failed."""

    kind = StringProperty("secondary")
    title = StringProperty("")
    counts = StringProperty("")


class ChecklistScreen(PanedScreen):
    title = StringProperty("")
    summary = StringProperty("")
    locked = BooleanProperty(False)
    status = StringProperty("")
    home_pane = 1  # a phone shows one pane: 0 the sections, 1 the items
    pane = NumericProperty(1)

    def fetch(self) -> dict[str, Any]:
        b = self.app.backend
        draft = b.draft(self.params["draft_id"])
        template = b.template(draft["template_id"], draft["template_version"])
        site = b.site(draft["site_id"])
        return {"draft": draft, "template": template, "site": site}

    def _text_width(self) -> float:
        if self.app.phone:  # the text spans the row, the controls sit below it
            return Window.width - theme.GAP - 2 * theme.PAD - dp(12)
        return max(self.ids.rv.width - theme.ITEM_CONTROLS - dp(56), dp(200))

    def show(self, data: dict[str, Any]) -> None:
        self.draft = data["draft"]
        self.template = data["template"]
        self.answers = self.draft["answers"]
        self.locked = self.draft["status"] == "submitted"
        lang = self.app.tr.short
        title = self.template.title.en if lang == "en" else self.template.title.zh
        self.title = f"{data['site']['name']} · {title}"
        rows, sections = build_rows(
            self.template,
            self.answers,
            self.draft["profile"],
            lang,
            self._text_width(),
            theme.FONT,
            dp(1),
            self.locked,
            stacked_px=PHONE_CONTROLS if self.app.phone else 0,
        )
        self.rows = rows
        self.sections = sections
        self.pane = 1
        self.ids.rv.data = rows
        self.ids.rv.scroll_y = 1
        self.status = {
            "draft": self.t("Every answer is saved on this tablet as you go."),
            "submitted": self.t("Submitted and locked."),
            "rejected": self.t(
                "Refused by the server (see Sync for the reason): put it right and submit again."
            ),
        }.get(self.draft["status"], "")
        self._show_sections()

    def _show_sections(self) -> None:
        box = self.ids.sections
        box.clear_widgets()
        total_answered = total = total_failed = 0
        for s in self.sections:
            answered, n, failed = progress(self.template, self.answers, s["item_ids"])
            total_answered, total, total_failed = (
                total_answered + answered,
                total + n,
                total_failed + failed,
            )
            b = SectionButton(
                kind="danger" if failed else ("ok" if answered == n else "secondary"),
                title=s["title"],
                counts=f"{answered}/{n}"
                + (" · " + self.t("{n} failed").format(n=failed) if failed else ""),
            )
            b.bind(on_release=lambda _b, s=s: self.open_section(s["row"]))
            box.add_widget(b)
        self.ids.bar.value = total_answered
        self.ids.bar.max = max(total, 1)
        self.summary = self.t("{a} of {n} answered · {f} failed").format(
            a=total_answered, n=total, f=total_failed
        )

    def open_section(self, row_index: int) -> None:
        """A section tapped: its items (on a phone, back in the items pane)."""
        self.pane = 1
        self.scroll_to(row_index)

    def scroll_to(self, row_index: int) -> None:
        rv = self.ids.rv
        offset = sum(r["height"] for r in self.rows[:row_index])
        content = sum(r["height"] for r in self.rows)
        span = max(content - rv.height, 1)
        rv.scroll_y = max(0.0, min(1.0, 1 - offset / span))

    # ------------------------------------------------------------------ answering

    def set_answer(self, index: int, item_id: str, **changes: Any) -> None:
        """Update the row at once, then write to the store on the local lane."""
        if self.locked:
            return
        row = self.rows[index]
        if row.get("item_id") != item_id:
            return
        a = self.answers.setdefault(item_id, {"value": None, "note": "", "photos": []})
        a.update(changes)
        if "value" in changes:
            row["value"] = "" if changes["value"] is None else str(changes["value"])
            row["failed"] = is_failed(self.template.item(item_id), changes["value"])
        if "note" in changes:
            row["note"] = changes["note"]
        if "photos" in changes:
            row["photos"] = len(changes["photos"])
        view = self._view(index)
        if view is not None:  # the row on screen shows the change now; recycled rows read data
            for key in ("value", "failed", "note", "photos"):
                setattr(view, key, row[key])
        self._show_sections()
        self.app.call_local(
            self.app.backend.save_answer,
            self.draft["id"],
            item_id,
            on_done=lambda _saved: self.app.update_pending(),
            **changes,
        )

    def edit_note(self, index: int, item_id: str) -> None:
        current = (self.answers.get(item_id) or {}).get("note", "")

        def save(values: dict[str, str]) -> None:
            self.set_answer(index, item_id, note=values["note"].strip())

        FormDialog(
            [("note", self.rows[index]["text"], current)],
            title=self.t("Note"),
            handler=save,
        ).open()

    def add_photo(self, index: int, item_id: str) -> None:
        if self.locked:
            return

        def got(sha: str) -> None:
            photos = list((self.answers.get(item_id) or {}).get("photos") or []) + [sha]
            self.set_answer(index, item_id, photos=photos)

        pick_photo(self.app, got)

    def show_basis(self, item_id: str) -> None:
        item = self.template.item(item_id)
        lang = self.app.tr.short
        std = self.template.standard(item.basis.standard)
        std_title = (std.title.en if lang == "en" else std.title.zh) if std else item.basis.standard
        edition = f" ({std.edition})" if std else ""
        guidance = for_inspectors(item.guidance.en if lang == "en" else item.guidance.zh)
        text = "\n\n".join(
            [
                rule_text(item, lang),
                self.t("Guidance") + ": " + guidance,
                self.t("Legal basis")
                + f": {std_title}{edition} {for_inspectors(item.basis.clause)}",
            ]
        )
        inform(item.text.en if lang == "en" else item.text.zh, text)

    def review(self) -> None:
        self.app.go("review", draft_id=self.draft["id"])

    def _view(self, index: int) -> ItemRow | None:
        view = self.ids.rv.view_adapter.views.get(index)
        return view if isinstance(view, ItemRow) else None

    def on_pre_leave(self, *_: Any) -> None:
        """Typed text not yet saved (inside the short delay) is saved before leaving."""
        for view in list(self.ids.rv.view_adapter.views.values()):
            if isinstance(view, NumberRow):
                view.flush()
