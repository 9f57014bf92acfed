"""Gloved fingers: every button, toggle, row and text field on every screen is at least
48 dp in both directions (the tests run at density 1, so 48 px)."""

from __future__ import annotations

from app_helpers import login, sync
from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.textinput import TextInput


def _too_small(root) -> list[str]:
    bad = []
    for w in root.walk():
        if not isinstance(w, ButtonBehavior | TextInput):
            continue
        if w.opacity == 0 or w.width == 0 or w.height == 0 or not w.get_root_window():
            continue  # hidden (e.g. the back button on a top-level screen)
        if min(w.width, w.height) < dp(48) - 0.5:
            bad.append(f"{type(w).__name__} {getattr(w, 'text', '')!r} {w.size}")
    return bad


def test_every_touch_target_is_at_least_48dp(server, start_app):
    d = start_app(server.url, "tablet")
    assert _too_small(d.app.root) == []
    login(d, "inspector")
    sync(d)
    store = d.app.backend._inner
    site = next(s for s in store.sites() if s["name"] == "万达广场乌海店")
    draft = store.open_draft(site["id"], "crowded_venue", 1, "mall")
    hazard = next(h for h in store.hazards() if h["is_open"])
    visits = [
        ("home", {}),
        ("sites", {}),
        ("site", {"site_id": site["id"]}),
        ("checklist", {"draft_id": draft["id"]}),
        ("review", {"draft_id": draft["id"]}),
        ("hazards", {}),
        ("hazard", {"hazard_id": hazard["id"]}),
        ("sync", {}),
        ("settings", {}),
    ]
    problems = {}
    for name, params in visits:
        d.go(name, **params)
        d.pump(frames=3)
        bad = _too_small(d.app.root)
        if bad:
            problems[name] = bad
    assert problems == {}
