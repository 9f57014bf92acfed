"""The printed 检查记录 read on a 360 px phone and printed on A4, in real Chromium on both
databases: on the phone every table fits the screen with no sideways scrolling and no cell
squeezed to a letter per line, its rows read as labelled cards; on paper (print media, A4) it
keeps its ruled tables with their header rows, inside the printable width."""

from __future__ import annotations

from console_helpers import browser_login, raise_inspection

# Every table of the record: its width against the page's, how narrow its narrowest text
# cell is, and whether its header row shows (cards hide it; paper shows it).
MEASURE = """() => {
  const paper = document.querySelector('article.paper').getBoundingClientRect();
  const tables = [...document.querySelectorAll('article.paper table')].map(t => {
    const r = t.getBoundingClientRect();
    const cells = [...t.querySelectorAll('td')].filter(td => td.innerText.trim().length > 3);
    const narrowest = Math.min(...cells.map(td => td.getBoundingClientRect().width), 9999);
    const head = t.querySelector('thead');
    return {right: r.right, width: r.width, narrowest,
            head: !!head && head.getBoundingClientRect().height > 1};
  });
  return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth,
          paper: {left: paper.left, right: paper.right}, tables};
}"""


def test_record_reads_at_360_px_and_prints_on_a4(live_demo, browser, artifacts, clock):
    inspection_id, _failed = raise_inspection(
        live_demo.app.state.engine,
        clock,
        item_notes={},
        descriptions={},
    )
    base = live_demo.url
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
    page = ctx.new_page()
    browser_login(page, base, "officer")
    page.goto(f"{base}/console/inspections/{inspection_id}")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "inspection-record-360.png"), full_page=True)
    phone = page.evaluate(MEASURE)
    assert phone["scroll"] <= phone["inner"], phone  # no sideways scrolling
    assert len(phone["tables"]) >= 3
    for t in phone["tables"]:
        assert t["right"] <= phone["inner"] + 0.5, t
        assert t["narrowest"] >= 120, f"a cell squeezed to a column of letters: {t}"
    # the number and the labelled cards: each value says which column it is
    assert page.locator("#record-number").inner_text().startswith("JC-")
    label = page.evaluate(
        "() => getComputedStyle(document.querySelector('table.items td[data-label]'),"
        " '::before').content"
    )
    assert label not in ("none", "normal", ""), label

    # on paper: A4 (210 mm less 2 × 12 mm margins ≈ 703 px at 96 dpi), ruled tables with heads
    page.set_viewport_size({"width": 703, "height": 1000})
    page.emulate_media(media="print")
    paper = page.evaluate(MEASURE)
    assert paper["scroll"] <= paper["inner"], paper
    for t in paper["tables"]:
        assert t["right"] <= paper["inner"] + 0.5, t
    assert all(t["head"] for t in paper["tables"][1:]), "the item tables keep their header row"
    columns = page.evaluate(
        "() => getComputedStyle(document.querySelector('.signatures')).gridTemplateColumns"
    )
    assert len(columns.split()) == 2, f"the two signatures side by side on paper: {columns}"
    wrapped = page.evaluate(
        "() => [...document.querySelectorAll('table.items td.nowrap')]"
        ".filter(td => { const r = document.createRange(); r.selectNodeContents(td);"
        " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size > 1; })"
        ".map(td => td.innerText)"
    )
    assert wrapped == [], f"grades, numbers and states stay on one line on paper: {wrapped}"
    page.screenshot(path=str(artifacts / "inspection-record-a4-print.png"), full_page=True)
    pdf = page.pdf(format="A4", margin={"top": "12mm", "bottom": "12mm"})
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    ctx.close()
