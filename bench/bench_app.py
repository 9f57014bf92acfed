"""Time to open a checklist of 100, 300 and 1,000 items in the tablet app, and the memory it
takes, against a baseline measured in the same run: the same rows built whole (one widget tree
per item in a ScrollView), which is what the RecycleView avoids.

"Open" is from ``app.go("checklist")`` to the first frame drawn with the rows on screen: the
draft and its answers read from the device store on the worker lane, the rows built, laid
out and drawn. Half the items are already answered (a resumed draft). Memory is the peak of
Python allocations during the open (tracemalloc) plus the number of row widgets alive.
Runs with no display (SDL offscreen). Usage: python bench/bench_app.py [N ...] [--whole-all]
(the whole-list baseline is skipped above 300 items unless --whole-all: it takes minutes).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="hc-bench-app-"))
os.environ.setdefault("KIVY_HOME", str(WORK / "kivy"))
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_METRICS_DENSITY", "1")
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from kivy.config import Config  # noqa: E402

Config.set("graphics", "width", "1280")
Config.set("graphics", "height", "800")
Config.set("kivy", "log_level", "error")


from kivy.factory import Factory  # noqa: E402
from kivy.uix.boxlayout import BoxLayout  # noqa: E402
from kivy.uix.scrollview import ScrollView  # noqa: E402

from devtools.kivy_driver import Driver  # noqa: E402
from mobile_app.app import HazardChainApp  # noqa: E402
from mobile_app.core.device_backend import DeviceBackend  # noqa: E402
from mobile_app.core.store import dumps, set_meta  # noqa: E402
from mobile_app.ui.checklist_model import build_rows  # noqa: E402
from shared.checklist import Template, load_template  # noqa: E402

ARGS = [a for a in sys.argv[1:] if not a.startswith("-")]
SIZES = [int(a) for a in ARGS] or [100, 300, 1000]
# building 1,000 rows whole takes minutes (that is the point); --whole-all measures it anyway
WHOLE_MAX = 10**9 if "--whole-all" in sys.argv else 300
PER_SECTION = 25


def synthetic_template(n: int) -> Template:
    """n items cycled from the coal-mine checklist (all four answer types), 25 per section."""
    source = load_template(ROOT / "checklists" / "coal_mine" / "1.yaml")
    base = [i for i in source.items() if i.profiles is None]
    raw = source.model_dump(mode="json", by_alias=True)
    raw.update(id=f"bench_{n}", count_rules=[], profiles=[])
    sections = []
    for s in range(0, n, PER_SECTION):
        items = []
        for k in range(s, min(s + PER_SECTION, n)):
            item = base[k % len(base)].model_dump(mode="json", by_alias=True, exclude_none=True)
            item["id"] = f"bench.item_{k:04d}"
            item.pop("groups", None)
            items.append(item)
        sections.append(
            {
                "id": f"s{s // PER_SECTION}",
                "title": {
                    "zh": f"第{s // PER_SECTION + 1}部分",
                    "en": f"Part {s // PER_SECTION + 1}",
                },
                "items": items,
            }
        )
    raw["sections"] = sections
    return Template.model_validate(raw)


def install(backend: DeviceBackend, template: Template) -> str:
    """Put a site, the template and a half-answered draft on the device (bench set-up only)."""
    site = {
        "id": "bench-site",
        "name": "基准测试煤矿",
        "industry": "mine",
        "site_type": "coal_mine",
        "district_id": "1",
        "risk_colour": "red",
        "address": "",
        "contact_name": "",
        "contact_phone": "",
    }
    row = {
        "id": template.id,
        "version": 1,
        "title": "基准",
        "title_en": "Bench",
        "industry": "mine",
        "digest": "x",
        "item_count": 0,
        "content": template.model_dump(mode="json", by_alias=True),
    }
    user = {"id": "u", "username": "bench", "role": "inspector", "display_name": "基准"}

    def put(db) -> None:
        db.execute(
            "INSERT OR REPLACE INTO site (id, district_id, data) VALUES (?, ?, ?)",
            [site["id"], site["district_id"], dumps(site)],
        )
        db.execute(
            "INSERT OR REPLACE INTO template (id, data) VALUES (?, ?)",
            [f"{template.id}:1", dumps(row)],
        )
        for key, value in (("user", dumps(user)), ("user_id", "u"), ("role", "inspector")):
            set_meta(db, key, value)

    backend.store.write(put)
    draft = backend.open_draft(site["id"], template.id, 1, None)
    for k, item in enumerate(template.items()):
        if k % 2 == 0:
            value = {
                "yes_no": item.pass_when,
                "number": 1,
                "choice": item.choices[0].value if item.choices else None,
                "text": "记录",
            }[item.answer]
            backend.save_answer(draft["id"], item.id, value=value)
    return draft["id"]


def measured(fn, trace: bool) -> tuple[float, int, object]:
    """(seconds, peak bytes, result); memory in a separate run: tracemalloc slows Python."""
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    return elapsed, peak, result


def open_recycled(d: Driver, draft_id: str, trace: bool = False) -> tuple[float, int, int]:
    def go():
        screen = d.go("checklist", draft_id=draft_id)
        d.pump(frames=1)
        return screen

    elapsed, peak, screen = measured(go, trace)
    views = len(screen.ids.rv.view_adapter.views)
    assert len(screen.rows) > 0 and views > 0
    d.go("home")
    return elapsed, peak, views


def open_whole(d: Driver, rows: list[dict], trace: bool = False) -> tuple[float, int, int]:
    """Baseline: every row built as widgets at once (no recycling), laid out and drawn."""
    from kivy.core.window import Window

    def build():
        scroll = ScrollView()
        box = BoxLayout(orientation="vertical", size_hint_y=None)
        box.bind(minimum_height=box.setter("height"))
        for index, data in enumerate(rows):
            view = Factory.get(data["viewclass"])(size_hint_y=None, height=data["height"])
            attrs = {k: v for k, v in data.items() if k != "viewclass"}
            if data["viewclass"] == "SectionRow":
                view.title = attrs["title"]
            else:
                view.refresh_view_attrs(None, index, attrs)
            box.add_widget(view)
        scroll.add_widget(box)
        Window.add_widget(scroll)
        d.pump(frames=1, until_idle=False)
        return scroll

    elapsed, peak, scroll = measured(build, trace)
    Window.remove_widget(scroll)
    d.pump(frames=1, until_idle=False)
    return elapsed, peak, len(rows)


def main() -> None:
    backend = DeviceBackend(WORK / "device", "http://127.0.0.1:9")
    app = HazardChainApp(backend, auto_sync=False)
    d = Driver(app).start()
    app.role, app.user_name = "inspector", "基准"
    print(
        f"{'items':>6} {'open (s)':>9} {'peak MB':>8} {'row widgets':>11} | {'whole (s)':>9} {'peak MB':>8} {'rows':>5} | {'time ratio':>10}"
    )
    results = []
    for n in SIZES:
        template = synthetic_template(n)
        draft_id = install(backend, template)
        open_recycled(d, draft_id)  # warm: kv rules compiled, glyphs cached
        t = min(open_recycled(d, draft_id)[0] for _ in range(3))
        _, peak, views = open_recycled(d, draft_id, trace=True)
        screen = app.manager.get_screen("checklist")
        rows, _ = build_rows(
            template, backend.draft(draft_id)["answers"], None, "zh", screen._text_width(), 18, 1.0
        )
        if n <= WHOLE_MAX:
            tw, _, wrows = open_whole(d, rows)
            _, wpeak, _ = open_whole(d, rows, trace=True)
        else:
            tw, wpeak, wrows = float("nan"), float("nan"), len(rows)
        ratio = tw / t
        results.append((n, t, peak, views, tw, wpeak, wrows, ratio))
        if n <= WHOLE_MAX:
            whole = f"{tw:>9.3f} {wpeak / 1e6:>8.1f} {wrows:>5} | {ratio:>9.1f}x"
        else:
            whole = f"{'skipped':>9} {'':>8} {wrows:>5} | {'--whole-all':>10}"
        print(f"{n:>6} {t:>9.3f} {peak / 1e6:>8.1f} {views:>11} | {whole}")
    d.stop()
    for n, t, *_ in results:
        if n == 300 and t >= 1.0:
            print(f"FAIL: a 300-item checklist took {t:.2f} s to open (target < 1 s)")
            raise SystemExit(1)
    print(
        "ok: a 300-item checklist opens in under 1 s; row widgets stay bounded by the screen, not the list"
    )


if __name__ == "__main__":
    main()
