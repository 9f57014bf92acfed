"""A hazard's photos as the people on site need them: every photo its chain cites (the defect,
the rectification, the verification), whoever took it, from the tablet's cache
(``core.photo_cache``). A thumbnail says what it is waiting for — loading, not downloaded
(offline), failed — and a tap opens the full photo, fetched then if the tablet is online."""

from __future__ import annotations

import io
from typing import Any

from kivy.app import App
from kivy.core.image import Image as CoreImage
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.popup import Popup

Builder.load_string(
    """
#:import theme mobile_app.ui.theme
<PhotoThumb>:
    size_hint: None, None
    size: dp(96), dp(96)
    canvas.before:
        Color:
            rgba: theme.SELECTED if root.status == 'ready' else theme.BG
        Rectangle:
            pos: self.pos
            size: self.size
        Color:
            rgba: theme.DANGER if root.status == 'failed' else theme.LINE
        Line:
            rectangle: (*self.pos, *self.size)
            width: 1
    Image:
        texture: root.texture
        opacity: 1 if root.texture else 0
        fit_mode: 'contain'
        pos: root.pos
        size: root.size
    Label:
        text: root.status_text(root.status, app.lang)
        opacity: 0 if root.status == 'ready' else 1
        color: theme.DANGER if root.status == 'failed' else theme.MUTED
        font_size: theme.FONT_SMALL
        halign: 'center'
        valign: 'middle'
        text_size: root.width - dp(8), None
        pos: root.pos
        size: root.size
    Label:
        # where the photo was taken (its GPS stamp), over the photo's foot
        text: root.gps
        opacity: 1 if root.gps else 0
        color: 1, 1, 1, 1
        font_size: theme.FONT_SMALL * 0.8
        halign: 'center'
        valign: 'bottom'
        text_size: root.width - dp(4), None
        size_hint: None, None
        size: root.width, self.texture_size[1] + dp(2)
        pos: root.pos
        canvas.before:
            Color:
                rgba: (0, 0, 0, 0.6) if root.gps else (0, 0, 0, 0)
            Rectangle:
                pos: self.pos
                size: self.size

<PhotoViewer>:
    title: app.t('Photo', app.lang)
    size_hint: 0.92, 0.92
    background: ''
    title_color: theme.TEXT
    title_size: theme.FONT_LARGE
    BoxLayout:
        orientation: 'vertical'
        spacing: theme.GAP
        Image:
            id: image
            texture: root.texture
            fit_mode: 'contain'
        Label:
            id: note
            text: root.note
            color: theme.MUTED
            size_hint_y: None
            height: dp(30) if root.note else 0
        TButton:
            size_hint_y: None
            height: theme.TOUCH
            kind: 'secondary'
            text: app.t('Close', app.lang)
            on_release: root.dismiss()
"""
)


def _app() -> Any:
    return App.get_running_app()


def texture_of(data: bytes) -> Texture | None:
    ext = "jpg" if data[:2] == b"\xff\xd8" else ("webp" if data[8:12] == b"WEBP" else "png")
    try:
        return CoreImage(io.BytesIO(data), ext=ext).texture
    except Exception:  # a picture Kivy cannot draw: shown as failed, not a crash
        return None


class PhotoThumb(ButtonBehavior, FloatLayout):
    """One photo of a hazard. ``status``: ``loading``, ``ready``, ``offline`` (not downloaded,
    no network) or ``failed`` (the server has it not, or not for this user)."""

    sha256 = StringProperty("")
    gps = StringProperty("")  # where it was taken (shared.geo.GpsStamp.label), if stamped
    status = StringProperty("loading")
    texture = ObjectProperty(None, allownone=True)

    def status_text(self, status: str, *_lang: Any) -> str:
        t = _app().t
        return {
            "loading": t("Loading…"),
            "offline": t("Not downloaded (offline)"),
            "failed": t("Could not load"),
        }.get(status, "")

    def on_sha256(self, *_: Any) -> None:
        self.load()

    def load(self) -> None:
        sha, a = self.sha256, _app()
        self.status, self.texture = "loading", None
        if sha:
            a.call_local(
                a.backend.photo,
                sha,
                "thumb",
                on_done=lambda p: self._held(sha, p),
                on_error=lambda _e: self._set(sha, "failed"),
            )

    def _held(self, sha: str, photo: dict[str, Any]) -> None:
        if sha != self.sha256:
            return
        if photo["data"]:
            self._show(photo["data"])
            return
        a = _app()
        if not a.online:
            self.status = "failed" if photo["status"] == "failed" else "offline"
            return
        a.call_network(
            a.backend.fetch_photo,
            sha,
            "thumb",
            on_done=lambda p: self._fetched(sha, p),
            on_error=lambda _e: self._set(sha, "failed"),
        )

    def _fetched(self, sha: str, photo: dict[str, Any]) -> None:
        if sha != self.sha256:
            return
        if photo["data"]:
            self._show(photo["data"])
        else:
            self.status = "offline" if photo["error"] == "offline" else "failed"

    def _set(self, sha: str, status: str) -> None:
        if sha == self.sha256:
            self.status = status

    def _show(self, data: bytes) -> None:
        self.texture = texture_of(data)
        self.status = "ready" if self.texture is not None else "failed"

    def on_release(self) -> None:
        if self.status == "failed" and _app().online:
            self.load()  # asked again: its taker may have sent it meanwhile
        viewer = PhotoViewer(sha256=self.sha256, texture=self.texture)
        viewer.open()
        viewer.load()


class PhotoViewer(Popup):
    """The full photo: from the tablet if held, else fetched now; the thumbnail meanwhile."""

    sha256 = StringProperty("")
    texture = ObjectProperty(None, allownone=True)
    note = StringProperty("")
    status = StringProperty("loading")  # loading | full | offline | failed

    def load(self) -> None:
        a, sha = _app(), self.sha256
        self.note = a.t("Loading the full photo…")
        a.call_local(
            a.backend.photo, sha, "full", on_done=self._held, on_error=lambda _e: self._fail()
        )

    def _held(self, photo: dict[str, Any]) -> None:
        if photo["data"]:
            self._show(photo["data"])
            return
        a = _app()
        if not a.online:
            self.status, self.note = "offline", a.t("Full photo not downloaded (offline)")
            return
        a.call_network(
            a.backend.fetch_photo,
            self.sha256,
            "full",
            on_done=self._fetched,
            on_error=lambda _e: self._fail(),
        )

    def _fetched(self, photo: dict[str, Any]) -> None:
        if photo["data"]:
            self._show(photo["data"])
        elif photo["error"] == "offline":
            self.status, self.note = "offline", _app().t("Full photo not downloaded (offline)")
        else:
            self._fail()

    def _fail(self) -> None:
        self.status, self.note = "failed", _app().t("The full photo could not be loaded")

    def _show(self, data: bytes) -> None:
        texture = texture_of(data)
        if texture is None:
            self._fail()
            return
        self.texture, self.status, self.note = texture, "full", ""
