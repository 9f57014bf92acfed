"""Getting a photo: the camera through plyer on Android, a file chooser on the desktop.
Either way the bytes go into the device store as a blob (by SHA-256) off the main thread,
and the caller receives the hash."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.popup import Popup
from kivy.utils import platform

Builder.load_string(
    """
#:import theme mobile_app.ui.theme
<PhotoChooser>:
    title: app.t('Choose a photo', app.lang)
    size_hint: (0.98, 0.9) if app.phone else (0.85, 0.9)
    background: ''
    title_color: theme.TEXT
    title_size: theme.FONT_LARGE
    auto_dismiss: False
    BoxLayout:
        orientation: 'vertical'
        spacing: theme.GAP
        FileChooserIconView:
            id: chooser
            filters: ['*.png', '*.jpg', '*.jpeg', '*.webp', '*.PNG', '*.JPG', '*.JPEG']
            path: root.start_path
        BoxLayout:
            size_hint_y: None
            height: theme.TOUCH
            spacing: theme.PAD
            TButton:
                kind: 'secondary'
                text: app.t('Cancel', app.lang)
                on_release: root.dismiss()
            TButton:
                text: app.t('Use this photo', app.lang)
                disabled: not chooser.selection
                on_release: root.choose(chooser.selection)
"""
)

PHOTO_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


class PhotoChooser(Popup):
    callback = ObjectProperty(None)

    def __init__(self, **kw: Any) -> None:
        self.start_path = os.environ.get("HAZARDCHAIN_PHOTO_DIR") or str(Path.home())
        super().__init__(**kw)

    def choose(self, selection: list[str]) -> None:
        if selection:
            self.dismiss()
            self.callback(selection[0])


def store_photo(app: Any, path: str, on_sha: Callable[[str], None]) -> None:
    """Read the file and keep its bytes in the device store (local lane)."""

    def work() -> str:
        data = Path(path).read_bytes()
        return app.backend.add_blob(data)

    app.call_local(work, on_done=on_sha)


def pick_photo(app: Any, on_sha: Callable[[str], None]) -> None:
    if platform == "android":  # pragma: no cover - needs a device
        from plyer import camera

        target = os.path.join(tempfile.gettempdir(), f"hc-{uuid.uuid4().hex}.jpg")

        def done(path: str) -> bool:
            if path and os.path.exists(path):
                store_photo(app, path, on_sha)
            return False

        camera.take_picture(filename=target, on_complete=done)
        return
    PhotoChooser(callback=lambda path: store_photo(app, path, on_sha)).open()
