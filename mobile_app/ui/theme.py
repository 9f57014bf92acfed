"""The app's look in one place: colours, sizes (touch targets of at least 48 dp for gloved
hands) and the bundled Chinese font, which replaces Kivy's Roboto everywhere so no label
can fall back to tofu boxes."""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import LabelBase
from kivy.metrics import dp, sp

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
# WenQuanYi Micro Hei: face 0 of the .ttc is the Simplified-Chinese face (see fonts/README.md).
FONT_FILE = FONT_DIR / "wqy-microhei.ttc"
FONT_NAME = "Roboto"  # re-registered, so every widget (and Kivy's own popups) uses it


def register_fonts() -> None:
    """Point Kivy's default font at the bundled CJK font (all four styles)."""
    path = str(FONT_FILE)
    LabelBase.register(FONT_NAME, path, path, path, path)


def rgba(hex_colour: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    h = hex_colour.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


# Colours: high contrast for sunlight and dust; red is kept for 重大 and failures only.
BG = rgba("#F2F4F7")
SURFACE = rgba("#FFFFFF")
TEXT = rgba("#1B2430")
MUTED = rgba("#5B6675")
LINE = rgba("#D0D5DD")
PRIMARY = rgba("#1F5FAF")
PRIMARY_DARK = rgba("#17467F")
NAV = rgba("#14263D")
NAV_ACTIVE = rgba("#2B4C75")
OK = rgba("#1E7D3A")
WARN = rgba("#B25E00")
DANGER = rgba("#C62828")
DANGER_BG = rgba("#FDECEA")
WARN_BG = rgba("#FFF4E0")
OK_BG = rgba("#E8F5EC")
PENDING = rgba("#6A4FB3")
SELECTED = rgba("#DCE8F8")
DISABLED = rgba("#AEB5BF")

RISK = {
    "red": rgba("#D32F2F"),
    "orange": rgba("#EF6C00"),
    "yellow": rgba("#F2B705"),
    "blue": rgba("#1E6FD9"),
}
STATE = {
    "reported": rgba("#6B7785"),
    "assigned": rgba("#1F5FAF"),
    "rectifying": rgba("#B25E00"),
    "in_review": rgba("#6A4FB3"),
    "verified": rgba("#1E7D3A"),
    "closed": rgba("#2E3B4E"),
    "cancelled": rgba("#8A939E"),
}

BUTTON_KINDS = {
    "primary": PRIMARY,
    "secondary": SELECTED,
    "danger": DANGER,
    "ok": OK,
    "warn": WARN,
    "ghost": SURFACE,
    "nav": NAV,
}
TOGGLE_TONES = {"primary": PRIMARY, "ok": OK, "danger": DANGER, "muted": MUTED}


def button_colour(kind: str, disabled: bool = False) -> tuple[float, float, float, float]:
    return DISABLED if disabled else BUTTON_KINDS.get(kind, PRIMARY)


def toggle_colour(tone: str, state: str) -> tuple[float, float, float, float]:
    return TOGGLE_TONES.get(tone, PRIMARY) if state == "down" else SELECTED


def nav_colour(current: str, screen: str, waiting: int = 0) -> tuple[float, float, float, float]:
    """The rail button of the screen shown is lit; Sync turns amber while records wait."""
    if current.startswith(screen):
        return NAV_ACTIVE
    return WARN if waiting else NAV


# Sizes. TOUCH is the minimum height and width of anything a finger presses.
TOUCH = dp(48)
TOUCH_LARGE = dp(56)
PAD = dp(12)
GAP = dp(8)
NAV_WIDTH = dp(112)
ITEM_CONTROLS = dp(440)  # checklist rows: answer controls and the row buttons
FONT = sp(18)
FONT_SMALL = sp(15)
FONT_LARGE = sp(22)
FONT_TITLE = sp(26)

TABLET_SIZE = (1280, 800)  # landscape; the screenshot tour renders at this size

# Phone or tablet: the one rule every layout asks. Below this window width the navigation rail
# becomes a bottom bar, two-pane screens show one pane at a time (with a way back) and fixed
# side widths give way to the full width. Tablets keep their layout unchanged.
PHONE_BREAKPOINT = dp(600)
PHONE_SIZES = ((360, 740), (412, 915))  # portrait phones the tests and the phone tour use
NAV_BAR_HEIGHT = dp(60)  # the phone's bottom bar


def is_phone(width: float) -> bool:
    """Whether a window this wide gets the phone layout."""
    return width < PHONE_BREAKPOINT
