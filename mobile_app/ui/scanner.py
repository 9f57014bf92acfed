"""Scanning a site's QR code with the tablet's own camera: a live preview, frames read by zbar
off the main thread (``mobile_app.core.qr_scan``), and the site opened on a good read. The
frame source is injected into the app (``HazardChainApp(camera=…)``), like the location
provider: Kivy's ``Camera`` on a device, ``StillFrames`` for tests and the tour, ``NoCamera``
where there is none. The same dialog takes a handheld scanner's code or a typed one, so a
tablet without a camera (or whose camera was refused) is never stuck."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import Image as CoreImage
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.image import Image
from kivy.uix.popup import Popup
from kivy.uix.widget import Widget
from kivy.utils import platform

from mobile_app.core.backend import ActionRefused
from mobile_app.core.qr_scan import Frame, decoder_available, read_codes, site_code_among
from mobile_app.ui import theme

log = logging.getLogger("hazardchain.app.scan")

# what a frame source reports
STARTING, READY, NO_CAMERA, DENIED = "starting", "ready", "no_camera", "denied"
NO_DECODER = "no_decoder"  # the camera works but this build cannot read QR codes
SCAN_SECONDS = 0.3  # a frame every 0.3 s: quick to react, light on a tablet's CPU
FIRST_FRAME_SECONDS = 6.0  # a camera that shows nothing by then is treated as absent

StateCallback = Callable[[str], None]

Builder.load_string(
    """
#:import theme mobile_app.ui.theme
<Viewfinder>:
    canvas.before:
        Color:
            rgba: 0.12, 0.13, 0.15, 1
        Rectangle:
            pos: self.pos
            size: self.size
    canvas.after:
        # the square the code is held inside; brightens once a live picture is there
        Color:
            rgba: (1, 1, 1, 0.9) if root.live else (1, 1, 1, 0.25)
        Line:
            width: dp(2)
            rectangle: self.center_x - self.guide / 2, self.center_y - self.guide / 2, self.guide, self.guide
    Label:
        id: placeholder
        text: root.message
        font_size: theme.FONT_LARGE
        color: 1, 1, 1, 0.85
        text_size: root.width - dp(32), None
        halign: 'center'
        pos: root.pos
        size: root.size
        opacity: 0 if root.live else 1

<ScanDialog>:
    title: app.t('Scan the site QR code', app.lang)
    size_hint: (0.95, 0.92) if app.phone else (0.62, 0.92)
    background: ''
    title_color: theme.TEXT
    title_size: theme.FONT_LARGE
    separator_color: theme.PRIMARY
    auto_dismiss: False
    BoxLayout:
        orientation: 'vertical'
        spacing: theme.GAP
        Viewfinder:
            id: viewfinder
        WrapLabel:
            id: status
            color: theme.TEXT
        WrapLabel:
            id: hint
            color: theme.MUTED
        BoxLayout:
            size_hint_y: None
            height: theme.TOUCH
            spacing: theme.PAD
            FormInput:
                id: code
                multiline: False
                hint_text: app.t('Code under the QR', app.lang)
                on_text_validate: root.submit()
            TButton:
                id: submit_button
                size_hint_x: None
                width: dp(96) if app.phone else dp(140)
                text: app.t('Open the site', app.lang)
                on_release: root.submit()
        TButton:
            id: cancel
            kind: 'secondary'
            text: app.t('Cancel', app.lang)
            on_release: root.dismiss()
"""
)


def texture_frame(texture: Any) -> Frame | None:
    """The frame a Kivy texture holds (read back from the GPU: RGBA, bottom row first)."""
    if texture is None:
        return None
    w, h = (int(v) for v in texture.size)
    return Frame(bytes(texture.pixels), w, h, "RGBA", bottom_up=True)


class FrameSource:
    """Where frames come from. ``open`` reports its state through ``on_state`` (at once, or
    later: a permission prompt, a camera warming up); while ``READY``, ``preview`` is the
    widget to show and ``frame`` the latest picture."""

    def open(self, on_state: StateCallback) -> None:
        raise NotImplementedError

    def preview(self) -> Widget | None:
        return None

    def frame(self) -> Frame | None:
        return None

    def close(self) -> None:
        return None


class NoCamera(FrameSource):
    """A device without a camera (a desktop), or one whose camera was refused (``DENIED``)."""

    def __init__(self, state: str = NO_CAMERA) -> None:
        self.state = state

    def open(self, on_state: StateCallback) -> None:
        on_state(self.state)


class StillFrames(FrameSource):
    """Pictures (PNG or JPEG bytes) shown as the camera's view, one after another: the tests
    and the tour, on a machine with no camera. Each is shown through a Kivy texture and read
    back as a camera's texture is, so the whole decode path runs."""

    def __init__(self, pictures: list[bytes]) -> None:
        self.pictures = list(pictures)
        self._shown = 0
        self._image: Image | None = None

    def open(self, on_state: StateCallback) -> None:
        self._shown = 0
        self._image = Image(fit_mode="contain")
        self._show(0)
        on_state(READY)

    def _show(self, n: int) -> None:
        data = self.pictures[n % len(self.pictures)]
        ext = "jpg" if data[:2] == b"\xff\xd8" else "png"
        assert self._image is not None
        self._image.texture = CoreImage(io.BytesIO(data), ext=ext).texture

    def preview(self) -> Widget | None:
        return self._image

    def frame(self) -> Frame | None:
        if self._image is None or not self.pictures:
            return None
        frame = texture_frame(self._image.texture)
        self._shown += 1
        self._show(self._shown)  # the next read sees the next picture, as a moving camera
        return frame

    def close(self) -> None:
        self._image = None


class KivyCamera(FrameSource):  # pragma: no cover - needs a camera (Android, or a webcam)
    """The device's camera through Kivy's ``Camera`` widget. On Android the camera permission
    is asked for first; there the frame is the preview's luma plane (NV21 starts with it),
    elsewhere the texture read back."""

    def __init__(self, index: int = 0, resolution: tuple[int, int] = (640, 480)) -> None:
        self.index = index
        self.resolution = resolution
        self._camera: Any = None
        self._on_state: StateCallback | None = None
        self._timeout: Any = None

    def open(self, on_state: StateCallback) -> None:
        self._on_state = on_state
        if platform != "android":
            self._start()
            return
        try:
            from android.permissions import (  # type: ignore[import-not-found]
                Permission,
                check_permission,
                request_permissions,
            )
        except ImportError:
            self._start()
            return
        if check_permission(Permission.CAMERA):
            self._start()
            return
        on_state(STARTING)

        def answered(_permissions: list[str], grants: list[bool]) -> None:
            # Android answers on its own thread: back to Kivy's before touching widgets
            Clock.schedule_once(lambda _dt: self._start() if all(grants) else on_state(DENIED))

        request_permissions([Permission.CAMERA], answered)

    def _start(self) -> None:
        assert self._on_state is not None
        try:
            from kivy.uix.camera import Camera

            self._camera = Camera(
                index=self.index, resolution=self.resolution, play=True, fit_mode="contain"
            )
        except Exception as exc:  # no camera provider, no device, device busy: per platform
            log.info("no camera: %s", exc)
            self._camera = None
            self._on_state(NO_CAMERA)
            return
        self._on_state(STARTING)
        self._camera.bind(texture=self._first_texture)
        self._timeout = Clock.schedule_once(self._no_picture, FIRST_FRAME_SECONDS)

    def _first_texture(self, _camera: Any, texture: Any) -> None:
        if texture is not None and self._on_state is not None:
            self._camera.unbind(texture=self._first_texture)
            if self._timeout is not None:
                self._timeout.cancel()
            self._on_state(READY)

    def _no_picture(self, _dt: float) -> None:
        log.info("the camera gave no picture in %s s", FIRST_FRAME_SECONDS)
        self.close()
        if self._on_state is not None:
            self._on_state(NO_CAMERA)

    def preview(self) -> Widget | None:
        return self._camera

    def frame(self) -> Frame | None:
        cam = self._camera
        if cam is None or cam.texture is None:
            return None
        core = cam._camera
        if hasattr(core, "grab_frame"):  # Android: the NV21 buffer, its first plane is luma
            buf = core.grab_frame()
            if buf:
                w, h = core.resolution
                return Frame(bytes(buf[: w * h]), w, h, "L")
            return None
        return texture_frame(cam.texture)

    def close(self) -> None:
        if self._timeout is not None:
            self._timeout.cancel()
        if self._camera is not None:
            self._camera.play = False
            self._camera = None


def device_camera() -> FrameSource:
    """This device's camera (Kivy's, which reports ``NO_CAMERA`` where it finds none)."""
    return KivyCamera()


class Viewfinder(Widget):
    """The camera's picture with the square to hold the code in, or what stands in its way."""

    live = BooleanProperty(False)
    message = StringProperty("")
    guide = NumericProperty(0)

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._picture: Widget | None = None
        self.bind(pos=self._layout, size=self._layout)

    def show(self, picture: Widget | None) -> None:
        if self._picture is not None:
            self.remove_widget(self._picture)
        self._picture = picture
        self.live = picture is not None
        if picture is not None:
            self.add_widget(picture, index=len(self.children))  # under the placeholder
        self._layout()

    def _layout(self, *_: Any) -> None:
        self.guide = min(self.width, self.height) * 0.7
        self.ids.placeholder.pos, self.ids.placeholder.size = self.pos, self.size
        if self._picture is not None:
            self._picture.pos, self._picture.size = self.pos, self.size


class ScanDialog(Popup):
    """The camera's live view, read every ``SCAN_SECONDS`` until a code opens a site; the
    field below takes a handheld scanner's or a typed code. A refused code (foreign, another
    district's site) says why and the scan goes on."""

    def __init__(self, source: FrameSource, on_opened: Callable[[dict], None], **kw: Any):
        super().__init__(**kw)
        self.source = source
        self.on_opened = on_opened
        self.state = STARTING
        self.inputs = {"code": self.ids.code}  # as FormDialog names its fields
        self.hint = self.ids.hint
        self.refused_code: str | None = None  # read again and again while held up: asked once
        self._reading = False
        self._ticker: Any = None
        self._closed = False

    @property
    def app(self) -> Any:
        return App.get_running_app()

    def t(self, msgid: str) -> str:
        return self.app.t(msgid)

    def on_pre_open(self) -> None:
        """At once, not after the popup's opening animation: the camera warms up meanwhile."""
        self.app.bind(lang=self._relabel)
        self.source.open(self.camera_state)
        self._ticker = Clock.schedule_interval(self.scan, SCAN_SECONDS)

    def on_dismiss(self) -> None:
        self._closed = True
        self.app.unbind(lang=self._relabel)
        if self._ticker is not None:
            self._ticker.cancel()
        self.source.close()

    def _relabel(self, *_: Any) -> None:
        """The language changed: say the state again in it (a refusal is said again once the
        code is read again)."""
        self.refused_code = None
        self.camera_state(self.state)

    def camera_state(self, state: str) -> None:
        """What the camera can do now, said in words a person can act on."""
        if self._closed:
            return
        if state == READY and not decoder_available():
            self.source.close()
            state = NO_DECODER
        self.state = state
        t, vf = self.t, self.ids.viewfinder
        vf.show(self.source.preview() if state == READY else None)
        vf.message = {
            STARTING: t("Starting the camera…"),
            NO_CAMERA: t("No camera on this device"),
            DENIED: t("Camera permission refused"),
            NO_DECODER: t("This tablet cannot read QR codes"),
        }.get(state, "")
        self.say(
            {
                STARTING: t("Starting the camera…"),
                READY: t("Scanning… hold the site's QR code inside the square."),
                NO_CAMERA: t("Use a handheld scanner, or type the code printed under the QR."),
                DENIED: t(
                    "Allow the camera in the tablet's settings, or type the code printed under the QR."
                ),
                NO_DECODER: t("Use a handheld scanner, or type the code printed under the QR."),
            }[state],
            theme.DANGER if state == DENIED else theme.TEXT,
        )
        # the field's own hint while the camera scans; otherwise the status already says it
        self.hint.text = (
            t("Scan the site's QR code into the field, or type the code printed under it.")
            if state == READY
            else ""
        )
        self.hint.color = theme.MUTED
        if state != READY:
            self.ids.code.focus = True  # a handheld scanner types into the field

    def say(self, text: str, colour: Any = None) -> None:
        self.ids.status.text = text
        self.ids.status.color = colour or theme.TEXT

    # ------------------------------------------------------------------ the camera's reads

    def scan(self, _dt: float = 0) -> None:
        """Take the newest frame (on the main thread: it may come from the GPU) and read it
        on the device lane, one read at a time."""
        if self._reading or self.state != READY:
            return
        frame = self.source.frame()
        if frame is None:
            return
        self._reading = True
        self.app.call_local(self._read, frame, on_done=self._read_done, on_error=self._failed)

    def _read(self, frame: Frame) -> tuple[str, Any] | None:
        """Worker lane: the frame's code, and the site it opens or why not."""
        code = site_code_among(read_codes(frame))
        if code is None or code == self.refused_code:
            return None
        try:
            return ("opened", self.app.backend.open_site_code(code))
        except ActionRefused as exc:
            return ("refused", (code, str(exc)))

    def _read_done(self, result: tuple[str, Any] | None) -> None:
        self._reading = False
        if result is None or self._closed:
            return
        kind, value = result
        if kind == "opened":
            self._opened(value)
            return
        self.refused_code, reason = value
        self.say(reason, theme.DANGER)

    def _failed(self, exc: BaseException) -> None:
        self._reading = False
        log.warning("a frame could not be read: %s", exc)

    # ------------------------------------------------------------------ the field

    def submit(self) -> None:
        """A handheld scanner's Enter, or the Open button: the same lookup as a camera read."""

        def refused(exc: BaseException) -> None:
            self.hint.text, self.hint.color = str(exc), theme.DANGER

        self.app.call_local(
            self.app.backend.open_site_code,
            self.ids.code.text,
            on_done=self._opened,
            on_error=refused,
        )

    def _opened(self, found: dict) -> None:
        if self._closed:
            return
        self.dismiss()
        self.on_opened(found)
