"""The tablet's bulk apply of pulled pages: hazards folded on from their stored rows give the
rows a full refold gives, and the page fetched ahead while one is applied never costs a page
when it fails (the stored cursor only moves with an applied page)."""

from __future__ import annotations

from faultproxy import Fault, FaultProxy
from tablets import MALL, server_events

from mobile_app.core.chains import refold
from mobile_app.core.outbox import actor_of
from mobile_app.core.sync_client import SyncResult


def _rows(t) -> dict[str, dict]:
    return {r["id"]: r for r in t.store.read("SELECT * FROM hazard")}


def test_pages_fold_hazards_as_a_full_refold_does(live_demo, tablets, engine):
    """Small pages split chains across pages (folded on from the stored row); a hazard with
    this device's own op and one with a pending op take the full refold."""
    t = tablets(live_demo.url, "inspector", pull_limit=7)
    mine = t.outbox.report_hazard(site_id=MALL, title="本机上报", severity="general")
    assert t.sync().ok
    t.outbox.report_hazard(site_id=MALL, title="尚未上传", severity="general")
    t.store.set_meta("cursor", None)  # pull everything again, onto the rows it holds
    again = SyncResult()
    t.client.pull(again)
    assert again.pulled > 7 * 3
    pulled = _rows(t)
    assert mine in pulled and len(pulled) > 5

    def refold_all(db) -> None:
        actor = actor_of(db)
        for hazard_id in list(pulled):
            refold(db, hazard_id, actor)

    t.store.write(refold_all)
    assert _rows(t) == pulled
    assert t.events() == server_events(engine, "inspector")
    # from an empty copy too (every chain folded from nothing, page by page)
    fresh = tablets(live_demo.url, "inspector", name="fresh", pull_limit=5)
    assert fresh.sync().ok
    rows = _rows(fresh)
    fresh.store.write(refold_all)
    assert _rows(fresh) == rows and len(rows) == len(pulled) - 1  # not the unsent report


def test_a_failed_fetch_ahead_loses_and_skips_no_page(live_demo, tablets, engine):
    proxy = FaultProxy(live_demo.port).start()
    try:
        applied: list[int] = []
        tablet = []

        def held_events() -> int:
            return tablet[0].store.read("SELECT count(*) AS n FROM event")[0]["n"] if tablet else 0

        def cut_after_events(progress) -> None:
            if progress.phase == "pull" and held_events() and not applied:
                applied.append(progress.records_done)
                # the next page is being fetched ahead right now: every connection dies
                proxy.plan = lambda: Fault(down_cut=0, reset=True, name="cut")
                proxy.drop_all()

        t = tablets(proxy.url, "officer", pull_limit=10, on_progress=cut_after_events)
        tablet.append(t)
        result = t.sync()
        assert not result.ok and applied
        held = t.events()
        every = server_events(engine, "officer")
        assert held and len(held) < len(every)
        assert set(held) < set(every)
        cursor = t.store.meta("cursor")
        assert cursor  # the applied pages' cursor, not the failed one's
        proxy.heal()
        t.client.on_progress = None
        assert t.sync().ok
        assert t.events() == every
        assert t.chains_verify() == []
    finally:
        proxy.stop()
