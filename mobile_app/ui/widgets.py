"""Small widgets every screen uses: large flat buttons, badges, cards, wrapping labels,
popups, a signature pad and blob thumbnails. Their look lives in ``widgets.kv``."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.graphics import Color, Line, Rectangle
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.image import Image
from kivy.uix.label import Label
from kivy.uix.popup import Popup
from kivy.uix.textinput import TextInput
from kivy.uix.togglebutton import ToggleButton
from kivy.uix.widget import Widget

from mobile_app.ui import theme

Builder.load_file(str(Path(__file__).with_name("widgets.kv")))


def app() -> App:
    return App.get_running_app()


class TButton(Button):
    """A flat button at least 48 dp high; ``kind`` picks its colour."""

    kind = StringProperty("primary")  # primary | secondary | danger | ghost | nav


class TToggle(ToggleButton):
    """A toggle with a clear selected colour (yes/no, choices, filters)."""

    tone = StringProperty("primary")  # primary | ok | danger | muted


class Badge(Label):
    bg = ListProperty(theme.MUTED)


class WrapLabel(Label):
    """A label that wraps to its width and grows to its text's height."""


class Card(BoxLayout):
    bg = ListProperty(theme.SURFACE)


class Field(TextInput):
    """A single-line text field sized for fingers."""


class Stripe(Widget):
    colour = ListProperty(theme.LINE)


class TopBar(BoxLayout):
    title = StringProperty("")
    back = StringProperty("")  # screen to go back to; empty hides the button
    inner_back = BooleanProperty(False)  # a phone's second pane: back shows its first


class SplitView(BoxLayout):
    """Side-by-side panes on a tablet; on a phone only pane ``shown`` (in kv order), at the
    full width, the others taken out of the layout so nothing hidden can catch a touch."""

    phone = BooleanProperty(False)
    shown = NumericProperty(0)

    def on_kv_post(self, base_widget) -> None:
        self._panes = list(reversed(self.children))
        self._hints = [(w.size_hint_x, w.width) for w in self._panes]
        self._arrange()

    def on_phone(self, *_) -> None:
        self._arrange()

    def on_shown(self, *_) -> None:
        self._arrange()

    def _arrange(self) -> None:
        panes = getattr(self, "_panes", None)
        if not panes:
            return  # the kv rule is still adding the panes; on_kv_post arranges
        self.clear_widgets()
        for pane, (hint, width) in zip(panes, self._hints, strict=True):
            if self.phone and pane is not panes[int(self.shown)]:
                continue
            pane.size_hint_x, pane.width = (1, width) if self.phone else (hint, width)
            self.add_widget(pane)


class SignaturePad(Widget):
    """Draw with a finger; ``png()`` gives the strokes on white as PNG bytes."""

    strokes = NumericProperty(0)
    line_width = NumericProperty(2.2)

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._lines: list[Line] = []
        self.bind(pos=self._redraw_bg, size=self._redraw_bg)
        with self.canvas.before:
            Color(1, 1, 1, 1)
            self._bg = Rectangle(pos=self.pos, size=self.size)
            Color(*theme.LINE)
            self._border = Line(rectangle=(*self.pos, *self.size), width=1)

    def _redraw_bg(self, *_) -> None:
        self._bg.pos, self._bg.size = self.pos, self.size
        self._border.rectangle = (*self.pos, *self.size)

    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos) or self.disabled:
            return super().on_touch_down(touch)
        touch.grab(self)
        with self.canvas:
            Color(0.05, 0.1, 0.25, 1)
            line = Line(points=[*touch.pos], width=self.line_width)
        self._lines.append(line)
        touch.ud["sig_line"] = line
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is self and "sig_line" in touch.ud:
            x = min(max(touch.x, self.x), self.right)
            y = min(max(touch.y, self.y), self.top)
            touch.ud["sig_line"].points += [x, y]
            return True
        return super().on_touch_move(touch)

    def on_touch_up(self, touch):
        if touch.grab_current is self:
            touch.ungrab(self)
            self.strokes += 1
            return True
        return super().on_touch_up(touch)

    def draw_points(self, points: list[tuple[float, float]]) -> None:
        """One stroke through ``points`` given as fractions of the pad (tests, the tour)."""
        flat: list[float] = []
        for fx, fy in points:
            flat += [self.x + fx * self.width, self.y + fy * self.height]
        with self.canvas:
            Color(0.05, 0.1, 0.25, 1)
            self._lines.append(Line(points=flat, width=self.line_width))
        self.strokes += 1

    def clear(self) -> None:
        for line in self._lines:
            self.canvas.remove(line)
        self._lines.clear()
        self.canvas.clear()
        self.strokes = 0

    def png(self) -> bytes:
        buf = io.BytesIO()
        self.export_as_image().save(buf, fmt="png")
        return buf.getvalue()


class BlobImage(Image):
    """Shows a photo held on the device by its SHA-256 (loaded off the main thread)."""

    sha256 = StringProperty("")

    def on_sha256(self, *_) -> None:
        sha = self.sha256
        if not sha:
            self.texture = None
            return
        a = app()
        a.call_local(a.backend.blob, sha, on_done=lambda data: self._show(sha, data))

    def _show(self, sha: str, data: bytes | None) -> None:
        if sha != self.sha256 or not data:
            return
        ext = "jpg" if data[:2] == b"\xff\xd8" else "png"
        try:
            self.texture = CoreImage(io.BytesIO(data), ext=ext).texture
        except Exception:
            self.texture = None


class Dialog(Popup):
    """Popup with the app's look: title bar, body and a row of buttons."""

    message = StringProperty("")


def confirm(
    title: str,
    message: str,
    on_yes: Callable[[], None],
    yes: str | None = None,
    no: str | None = None,
    danger: bool = False,
) -> Dialog:
    """Ask before anything that cannot be undone or that loses data."""
    t = app().t
    dlg = Dialog(title=title, message=message)
    row = dlg.ids.buttons
    cancel = TButton(text=no or t("Cancel"), kind="secondary")
    ok = TButton(text=yes or t("Confirm"), kind="danger" if danger else "primary")
    cancel.bind(on_release=lambda *_: dlg.dismiss())

    def go(*_):
        dlg.dismiss()
        on_yes()

    ok.bind(on_release=go)
    row.add_widget(cancel)
    row.add_widget(ok)
    dlg.open()
    return dlg


def inform(title: str, message: str) -> Dialog:
    dlg = Dialog(title=title, message=message)
    close = TButton(text=app().t("Close"), kind="secondary")
    close.bind(on_release=lambda *_: dlg.dismiss())
    dlg.ids.buttons.add_widget(close)
    dlg.open()
    return dlg


class FormDialog(Popup):
    """A popup holding labelled text fields (notes, 五落实 plan, evidence)."""

    handler = ObjectProperty(None, allownone=True)
    multiline = BooleanProperty(True)

    def __init__(self, fields: list[tuple[str, str, str]], **kw) -> None:
        """``fields``: (key, label, initial text)."""
        super().__init__(**kw)
        self.inputs: dict[str, TextInput] = {}
        box = self.ids.fields
        for key, label, value in fields:
            box.add_widget(WrapLabel(text=label, color=theme.MUTED))
            ti = FormInput(text=value or "", multiline=self.multiline)
            self.inputs[key] = ti
            box.add_widget(ti)

    def values(self) -> dict[str, str]:
        return {k: ti.text for k, ti in self.inputs.items()}

    def submit(self) -> None:
        if self.handler is not None and self.handler(self.values()) is False:
            return
        self.dismiss()


class FormInput(TextInput):
    pass


class ListRow(ButtonBehavior, BoxLayout):
    """A tappable row: colour stripe, title, subtitle and badges on the right."""

    title = StringProperty("")
    subtitle = StringProperty("")
    stripe = ListProperty(theme.LINE)
    badges = ListProperty([])  # [(text, rgba), ...]
    bg = ListProperty(theme.SURFACE)

    def on_kv_post(self, base_widget) -> None:
        self.on_badges()

    def on_badges(self, *_) -> None:
        box = self.ids.get("badges")
        if box is None:  # set before the kv rule ran; on_kv_post fills it
            return
        box.clear_widgets()
        for text, colour in self.badges:
            box.add_widget(Badge(text=text, bg=colour))
