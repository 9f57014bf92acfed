"""``python -m devtools.tablet_tour --screenshots DIR`` renders every screen, for an inspector and an
enterprise user, to non-blank PNG files (run here in-process; the CLI only sets Kivy up)."""

from __future__ import annotations

from statistics import pstdev

from kivy.core.image import Image as CoreImage

from devtools.tablet_tour import run_tour

SCREENS = {
    "login",
    "home",
    "sites",
    "site",
    "checklist",
    "review",
    "hazards",
    "hazard",
    "sync",
    "settings",
}


def _variance(path) -> float:
    img = CoreImage(str(path), keep_data=True)
    data = img.image._data[0].data
    step = max(len(data) // 20000, 1) * 4
    samples = [data[i] + data[i + 1] + data[i + 2] for i in range(0, len(data) - 4, step)]
    return pstdev(samples)


def test_tour_renders_every_screen_for_both_roles(tmp_path):
    shots = run_tour(tmp_path / "shots", tmp_path / "work")
    names = [p.name for p in shots]
    assert len(names) == len(set(names)) >= 25
    for role in ("inspector", "enterprise"):
        assert any(n.startswith(role) for n in names)
    covered = {
        s for s in SCREENS if any(s in n.replace("-", " ").split() or f"-{s}" in n for n in names)
    }
    assert covered >= {
        "login",
        "home",
        "sites",
        "site",
        "checklist",
        "review",
        "hazards",
        "sync",
        "settings",
    }
    for path in shots:
        assert path.stat().st_size > 5000, path
        assert _variance(path) > 10, f"{path.name} looks blank"
