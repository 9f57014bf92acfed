"""Every console page on a phone, a tablet and a desktop, in real Chromium (in Chinese, and in
English on a phone and a tablet): nothing wider than the screen, the menu never over the page
title, the page's main action on screen, no choice label cut short, and no English word inside
the Chinese pages. Screenshots at 390 and 1280 px
go to a temporary directory (``HAZARDCHAIN_SHOTS`` to keep them somewhere).

SQLite only, like the other browser tests: the layout does not depend on the database.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from console_helpers import (
    CLOSED,
    IN_REVIEW,
    MALL,
    REPORTED,
    WUDA_MAJOR,
    browser_login,
    raise_inspection,
)
from sqlmodel import Session, select

from server.users.models import User

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

WIDTHS = (360, 390, 768, 1280)
SHOT_WIDTHS = (390, 1280)
# (language, width): every width in Chinese; English, whose words run longer, on a phone and
# a tablet upright
VIEWS = [("zh", w) for w in WIDTHS] + [("en", 360), ("en", 768)]

# Per role, the pages it works in and the selector of each page's main action.
PAGES: dict[str, list[tuple[str, str]]] = {
    "officer": [
        ("/console/queue", "form.filters button.primary"),
        ("/console/queue?tab=all", "table.queue tbody tr a"),
        (f"/console/hazards/{IN_REVIEW}", "#actions details.action summary"),
        (f"/console/hazards/{REPORTED}", "#actions details.action summary"),
        (f"/console/hazards/{CLOSED}", "section.timeline"),
        ("/console/dashboard", ".head-actions a.button"),
        ("/console/reports/daily", ".print-actions button.primary"),
        ("/console/matters", "table.grid a"),
        ("/console/matters/ebike", ".page-head a.button"),
        ("/console/inspections", "table.grid a"),
        ("/console/inspections/{inspection}", ".print-actions button.primary"),
        ("/console/plans", "form.form-grid button.primary"),
        ("/console/tasks", "form.filters button.primary"),
        ("/console/no-such-page", ".error-page a"),
    ],
    "leader": [
        ("/console/dashboard", "#ack-button"),
        (f"/console/hazards/{WUDA_MAJOR}", "#actions details.action summary"),
        ("/console/queue", "form.filters button.primary"),
    ],
    "enterprise": [
        ("/console/queue", "form.filters button.primary"),
        ("{next}", "#actions details.action summary"),  # the first hazard it acts on
    ],
    "inspector": [("/console/inspections", "table.grid a")],
    "admin": [
        ("/console/admin/users", "form.form-grid button.primary"),
        ("/console/admin/users/{user}", "form.form-grid button.primary"),
        ("/console/admin/sites", "form.form-grid button.primary"),
        (f"/console/admin/sites/{MALL}", "form.form-grid button.primary"),
    ],
}

LAYOUT = """() => {
  const de = document.documentElement;
  const box = el => { if (!el) return null; const r = el.getBoundingClientRect();
    return r.width && r.height ? {top: r.top, bottom: r.bottom, left: r.left, right: r.right} : null; };
  const wide = [...document.querySelectorAll('body *')].filter(el => {
    const r = el.getBoundingClientRect(); return r.width && r.right > innerWidth + 1; })
    .slice(0, 5).map(el => el.tagName.toLowerCase() + '.' + el.className);
  return {scroll: de.scrollWidth, inner: innerWidth, header: box(document.querySelector('header.top')),
    nav: box(document.querySelector('header.top nav')), title: box(document.querySelector('main h1')),
    wide};
}"""

# Every option of every select (those in folded action forms too) must fit the select's box:
# a label cut short ("是否督…") is a choice the user cannot read.
CUT_LABELS = """() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  const ctx = document.createElement('canvas').getContext('2d');
  const cut = [];
  document.querySelectorAll('main select').forEach(sel => {
    if (!sel.offsetParent) return;
    const cs = getComputedStyle(sel);
    ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
    const list = sel.multiple || sel.size > 1;
    const room = sel.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - (list ? 0 : 20);
    for (const o of sel.options) {
      const w = ctx.measureText(o.text).width;
      if (w > room + 1) cut.push(`${sel.name}: ${o.text} (${Math.round(w)} > ${Math.round(room)})`);
    }
  });
  return cut;
}"""

# The words a Chinese page shows (text, tooltips, placeholders, labels), minus what is data or
# code by nature: hashes, usernames, the language switch.
SHOWN_WORDS = """() => {
  const out = [];
  const skip = el => !el || el.closest('code, .hash, script, style, [lang=en]');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let n;
  while ((n = walker.nextNode())) { if (!skip(n.parentElement)) out.push(n.textContent); }
  document.querySelectorAll('[title], [placeholder], [aria-label], [data-label]').forEach(el => {
    if (skip(el)) return;
    for (const a of ['title', 'placeholder', 'aria-label', 'data-label']) {
      const v = el.getAttribute(a); if (v && !v.startsWith('SHA-256 ') && !v.startsWith('哈希 ')) out.push(v); } });
  return out;
}"""
# An English word: two lowercase letters in a row; product and key names people write as is.
ENGLISH_WORD = re.compile(r"(?<![@\w])[A-Za-z]*[a-z]{2,}[A-Za-z]*")
WRITTEN_AS_IS = {"Excel", "Ctrl"}


@pytest.fixture
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("HAZARDCHAIN_SHOTS")
    path = Path(where) if where else tmp_path_factory.mktemp("phone-shots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _ids(engine, clock) -> dict[str, str]:
    """An inspection record to print (the mall, three items failed) and a user to edit."""
    inspection, _ = raise_inspection(engine, clock)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "enterprise")).one()
    return {"inspection": inspection, "user": user.id}


def _overlaps(a: dict | None, b: dict | None) -> bool:
    if not a or not b:
        return False
    return a["top"] < b["bottom"] and b["top"] < a["bottom"] and a["left"] < b["right"]


def _english_words(texts: list[str]) -> set[str]:
    words = set()
    for text in texts:
        for w in ENGLISH_WORD.findall(text):
            if w not in WRITTEN_AS_IS and not re.fullmatch(r"[0-9a-f]+", w):
                words.add(f"{w} «{text.strip()[:60]}»")
    return words


def test_every_page_fits_phone_tablet_and_desktop(live_demo, demo, clock, browser, shots):
    base, ids = live_demo.url, _ids(demo, clock)
    problems: list[str] = []
    seen = 0
    for user, pages in PAGES.items():
        ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = ctx.new_page()
        browser_login(page, base, user)
        page.goto(f"{base}/console/queue?tab=next")
        first = page.locator("table.queue tbody tr a").first
        mine = {"next": first.get_attribute("href") if first.count() else ""}
        for path, action in pages:
            path = path.format(**ids, **mine)
            for lang, width in VIEWS:
                ctx.add_cookies([{"name": "hc_lang", "value": lang, "url": f"{base}/console"}])
                page.set_viewport_size({"width": width, "height": 800})
                status = page.goto(base + path).status
                page.wait_for_load_state("networkidle")
                seen += 1
                where = f"{user} {path} @{width}px {lang}"
                if status != (404 if "no-such-page" in path else 200):
                    problems.append(f"{where}: answered {status}")
                m = page.evaluate(LAYOUT)
                if m["scroll"] > m["inner"]:
                    problems.append(f"{where}: {m['scroll']} px wide {m['wide']}")
                if m["title"] and m["header"] and m["title"]["top"] < m["header"]["bottom"]:
                    problems.append(f"{where}: the header covers the title")
                if _overlaps(m["nav"], m["title"]):
                    problems.append(f"{where}: the menu covers the title")
                if lang == "zh" and width in SHOT_WIDTHS:
                    name = re.sub(r"[^a-z0-9]+", "-", f"{user}{path}".lower()).strip("-")[:70]
                    page.screenshot(path=str(shots / f"{width}-{name}.png"), full_page=True)
                target = page.locator(action).first
                if not target.is_visible():
                    problems.append(f"{where}: main action {action} not shown")
                else:
                    target.scroll_into_view_if_needed()
                    b = target.bounding_box()
                    if b is None or b["x"] < 0 or b["x"] + b["width"] > width + 1:
                        problems.append(f"{where}: main action {action} off screen ({b})")
                problems += [f"{where}: cut label {c}" for c in page.evaluate(CUT_LABELS)]
                if lang == "zh" and width == 1280:
                    problems += [
                        f"{where}: English {w}" for w in _english_words(page.evaluate(SHOWN_WORDS))
                    ]
        ctx.close()
    assert seen == sum(len(p) for p in PAGES.values()) * len(VIEWS)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", [360, 390, 768])
def test_the_menu_folds_and_opens_without_covering_the_title(live_demo, browser, width):
    ctx = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_demo.url, "admin")  # the longest menu
    page.goto(f"{live_demo.url}/console/admin/users")
    nav = page.locator("header.top nav")
    assert not nav.is_visible()  # folded: only the brand and the menu button
    assert page.locator("header.top .menu-button").is_visible()
    page.locator("header.top .menu-button").click()
    links = nav.locator("a")
    assert links.count() >= 8 and all(links.nth(i).is_visible() for i in range(links.count()))
    for i in range(links.count()):
        b = links.nth(i).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= width + 1
    m = page.evaluate(LAYOUT)
    assert m["scroll"] <= m["inner"]
    assert not _overlaps(m["nav"], m["title"]) and m["title"]["top"] >= m["header"]["bottom"]
    assert page.locator("header.top button:has-text('退出')").is_visible()
    links.filter(has_text="场所管理").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/console/admin/sites")
    assert not page.locator("header.top nav").is_visible()  # a new page starts folded
    ctx.close()


def test_the_menu_is_one_row_on_a_desktop(live_demo, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, live_demo.url, "officer")
    assert page.locator("header.top nav").is_visible()
    assert not page.locator("header.top .menu-button").is_visible()
    assert page.locator("header.top").bounding_box()["height"] <= 60
    ctx.close()
