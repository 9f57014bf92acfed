"""The same app on a phone (issue 18.2): a mall's safety manager does the daily fire patrol
(每日防火巡查, fire_patrol_daily) from Home to a submitted, synced inspection with the real
widgets at two phone sizes and at tablet size; on every screen and popup on the way nothing lies
outside the window, no two touch targets overlap, every target is at least 48 dp and no label's
text is wider than its widget. The tablet keeps its layout (rail, side panes, fixed columns),
also when the window is resized from phone to tablet while the app runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import login, sync
from kivy.core.window import Window
from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.stencilview import StencilView
from kivy.uix.textinput import TextInput

from devtools.tablet_tour import MALL, PATROL, patrol
from mobile_app.ui import theme

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "phone"
SIZES = [*theme.PHONE_SIZES, theme.TABLET_SIZE]
Rect = tuple[float, float, float, float]  # x, y, right, top in window pixels


@pytest.fixture
def window_size():
    """Set the window's size for one test; the other app tests expect the tablet's."""

    def resize(size: tuple[int, int]) -> None:
        from kivy.base import EventLoop

        Window.size = size
        # let the window take the size before an app is built on it: after a run of tablet
        # tests, rows built before the resize arrived kept the tablet's width
        for _ in range(5 if EventLoop.status == "started" else 0):
            EventLoop.idle()

    yield resize
    Window.size = theme.TABLET_SIZE


def _rect(w) -> Rect:
    x, y = w.to_window(w.x, w.y)
    return (x, y, x + w.width, y + w.height)


def _shown(w) -> bool:
    """On screen: it and every parent are visible and have an area."""
    while w is not None and w is not Window:
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return False
        w = w.parent
    return True


def _visible_part(w) -> Rect | None:
    """The part of ``w`` not cut away by the scroll views around it (None: scrolled away)."""
    x, y, r, t = _rect(w)
    p = w.parent
    while p is not None and p is not Window:
        if isinstance(p, StencilView):
            px, py, pr, pt = _rect(p)
            x, y, r, t = max(x, px), max(y, py), min(r, pr), min(t, pt)
        p = p.parent
    return (x, y, r, t) if r - x > 0.5 and t - y > 0.5 else None


def _stencil(w) -> StencilView | None:
    """The nearest scroll view (or other clipping view) around ``w``."""
    p = w.parent
    while p is not None and p is not Window:
        if isinstance(p, StencilView):
            return p
        p = p.parent
    return None


def _sideways_spill(w, stencil: StencilView) -> bool:
    """Out of its scroll view at the side, where that view has nothing to scroll sideways
    (rows of a list laid out wider than the list)."""
    content = stencil.children[0] if stencil.children else None
    if content is not None and content.width > stencil.width + 1:
        return False  # a sideways scroller (the hazard filters on a phone)
    x, _, r, _ = _rect(w)
    sx, _, sr, _ = _rect(stencil)
    return x < sx - 1 or r > sr + 1


def _layer(app):
    """What a finger reaches now: the topmost popup, else the app (its own root: an app an
    earlier test ran in this process may have left its widgets on the window)."""
    from kivy.uix.modalview import ModalView

    popups = [w for w in Window.children if isinstance(w, ModalView)]
    return popups[0] if popups else app.root


def layout_problems(layer) -> list[str]:
    """Everything wrong with what is shown in ``layer`` at the window's size."""
    bad: list[str] = []
    width, height = Window.size
    targets: list[tuple[str, Rect]] = []
    for w in layer.walk():
        if not _shown(w):
            continue
        name = f"{type(w).__name__} {str(getattr(w, 'text', ''))[:24]!r}"
        x, y, r, t = _rect(w)
        stencil = _stencil(w)
        if stencil is None and (x < -1 or y < -1 or r > width + 1 or t > height + 1):
            bad.append(f"outside the window: {name} at {(x, y, r, t)}")
        if stencil is not None and _sideways_spill(w, stencil):
            bad.append(f"wider than its scroll view: {name} at {(x, y, r, t)}")
        if isinstance(w, ButtonBehavior | TextInput):
            if min(w.width, w.height) < dp(48) - 0.5:
                bad.append(f"smaller than 48 dp: {name} {tuple(w.size)}")
            part = _visible_part(w)
            if part is not None:
                targets.append((name, part))
        if isinstance(w, Label) and w.text and not w.shorten:
            tw, th = w.texture_size
            if tw > w.width + 2:
                bad.append(f"text wider than its label: {name} {tw} > {w.width}")
            if w.text_size[1] is None and th > w.height + 2:
                bad.append(f"text taller than its label: {name} {th} > {w.height}")
    for i, (a, ra) in enumerate(targets):
        for b, rb in targets[i + 1 :]:
            overlap_w = min(ra[2], rb[2]) - max(ra[0], rb[0])
            overlap_h = min(ra[3], rb[3]) - max(ra[1], rb[1])
            if overlap_w > 1 and overlap_h > 1:
                bad.append(f"touch targets overlap: {a} {ra} and {b} {rb}")
    return bad


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_mall_patrols_on_a_phone_and_nothing_spills(
    server, start_app, photo_dir, window_size, size
):
    window_size(size)
    d = start_app(server.url, "phone")
    assert d.app.phone is theme.is_phone(size[0])
    problems: dict[str, list[str]] = {}
    shots = SHOTS / f"{size[0]}x{size[1]}"

    def visit(name: str) -> None:
        d.pump(frames=3)
        d.screenshot(shots / f"{len(problems) + 1:02d}-{name}.png")
        problems[name] = layout_problems(_layer(d.app))

    visit("login")
    login(d, "enterprise")
    sync(d)
    d.go("home")
    nav, content = d.app.root.ids.nav, d.app.root.ids.content
    if d.app.phone:  # a bar below the screens, each button a thumb's width
        assert nav.width == Window.width and nav.top <= content.y + 1 and nav.y == 0
    else:  # the tablet's rail on the left
        assert nav.width == theme.NAV_WIDTH and nav.height == Window.height
        assert nav.right <= content.x + 1
    inspection_id = patrol(d, photo_dir, visit)
    for name in ("sites", "hazards", "sync", "settings"):
        d.go(name)
        visit(name)
    assert {k: v for k, v in problems.items() if v} == {}
    assert len(problems) >= 14, sorted(problems)

    # the patrol reaches the server as the enterprise's own inspection at its mall
    sync(d)
    with server.login("officer") as officer:
        got = officer.get(f"/inspections/{inspection_id}", timeout=30)
        assert got.status_code == 200, got.text
        assert got.json()["template_id"] == PATROL
        assert got.json()["signatures"]["representative"] is None
    mall = next(s for s in d.app.backend._inner.sites() if s["name"] == MALL)
    assert got.json()["site_id"] == mall["id"]


def test_phone_back_steps_within_a_screen_then_leaves_it(server, start_app, window_size):
    window_size(theme.PHONE_SIZES[0])
    d = start_app(server.url, "phone-back")
    login(d, "enterprise")
    sync(d)
    store = d.app.backend._inner
    site = next(s for s in store.sites() if s["name"] == MALL)
    draft = store.open_draft(site["id"], PATROL, 1, None)
    checklist = d.go("checklist", draft_id=draft["id"])
    bar = checklist.children[0].children[-1]  # the screen's TopBar
    assert checklist.pane == 1 and checklist.ids.rv.get_root_window() is not None
    d.press(checklist.ids.sections_button)
    assert checklist.ids.rv.get_root_window() is None  # one pane: the sections
    assert checklist.ids.sections.get_root_window() is not None
    d.press(bar.ids.back_button)
    assert d.app.manager.current == "checklist" and checklist.pane == 1
    assert checklist.ids.rv.get_root_window() is not None
    d.press(bar.ids.back_button)
    assert d.app.manager.current == "home"

    review = d.go("review", draft_id=draft["id"])
    assert review.ids.pad_inspector.get_root_window() is None  # findings first
    d.press(review.ids.to_sign)
    assert review.ids.pad_inspector.get_root_window() is not None
    assert review.ids.findings.get_root_window() is None
    d.press(review.children[0].children[-1].ids.back_button)
    assert d.app.manager.current == "review" and review.pane == 0


def test_tablet_keeps_its_layout_after_the_window_was_a_phone(server, start_app, window_size):
    window_size(theme.PHONE_SIZES[1])
    d = start_app(server.url, "turned")
    login(d, "inspector")
    sync(d)
    store = d.app.backend._inner
    site = next(s for s in store.sites() if s["name"] == MALL)
    draft = store.open_draft(site["id"], "crowded_venue", 1, "mall")
    checklist = d.go("checklist", draft_id=draft["id"])
    assert d.app.phone and checklist.ids.sections.get_root_window() is None

    window_size(theme.TABLET_SIZE)  # e.g. a foldable opened, or the phone app on a tablet
    d.pump(frames=5)
    assert not d.app.phone
    root = d.app.root
    nav, content = root.ids.nav, root.ids.content
    assert (nav.x, nav.y, nav.width, nav.height) == (0, 0, theme.NAV_WIDTH, Window.height)
    assert content.x == nav.right and content.width == Window.width - theme.NAV_WIDTH
    nav_buttons = [root.ids[f"nav_{n}"] for n in ("home", "sites", "hazards", "sync", "settings")]
    assert {b.height for b in nav_buttons} == {dp(76)}
    # the checklist: sections beside the items, each item's controls in a fixed column
    checklist = d.go("checklist", draft_id=draft["id"])
    sections, rv = checklist.ids.sections.parent, checklist.ids.rv
    assert sections.width == dp(236) and sections.right < rv.x and rv.get_root_window()
    assert not checklist.ids.sections_button.width and not checklist.ids.sections_button.opacity
    assert checklist.ids.review_button.width == dp(200)
    row = next(v for v in rv.view_adapter.views.values() if hasattr(v, "item_id"))
    controls = row.children[0]
    assert controls.width == theme.ITEM_CONTROLS and controls.x > row.children[1].right
    # the review: findings and the signature card side by side
    review = d.go("review", draft_id=draft["id"])
    card = review.ids.pad_inspector.parent.parent
    assert card.parent.width == dp(430) and review.ids.findings.get_root_window()
    assert card.parent.x > review.ids.findings.right
    assert not review.ids.to_sign.height
    # home: four cards two by two; a site: its card beside the lists
    home = d.go("home")
    assert home.ids.tasks.parent.parent.parent.cols == 2
    site_screen = d.go("site", site_id=site["id"])
    info_card = site_screen.ids.info.parent
    assert info_card.right < site_screen.ids.hazards.parent.parent.x
    assert layout_problems(root) == []
