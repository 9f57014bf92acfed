"""Randomized sync through the fault proxy: pull the cable at any moment, on either side, and
nothing is lost or doubled.

Three tablets (inspector, officer, enterprise, all working on the same mall) make offline edits
(reports, notes, photos, assignments, plans, rectifications with photo evidence, verdicts,
closures), and each round one of them syncs through the proxy, which cuts connections at
random byte offsets in both directions, resets, delays and stalls them. The server's overdue
job runs as the clock moves, and the server is restarted twice (a new app on the same database
and port). Then the network heals, every tablet syncs until quiet, and we check:

- every op was applied exactly once (or refused once, with a reason), device and server agree;
- every tablet converged to the server's state (events, chains and folded hazards);
- no event was lost or duplicated; every chain verifies, on the server and on each tablet;
- every photo's bytes on the server match their hash.

Seeded (``SEED``), so a failure replays. SQLite runs 220 rounds; PostgreSQL runs a shorter
60-round version of the same scenario to keep the suite's time down (the commit-order
guarantees under concurrency have their own PostgreSQL tests in test_pull_feed.py).
"""

from __future__ import annotations

import random

from sqlmodel import Session, col, select
from tablets import MALL, photo, restart, server_events, sha

from mobile_app.core.outbox import LocalRefusal
from server.blobs.store import BlobStore
from server.hazards.models import Attachment, Hazard, HazardEvent
from server.hazards.scheduled import flag_overdue
from server.hazards.service import load_events, verify_all
from server.sync.models import SyncOp
from shared.chain import fold
from tests.faultproxy import FaultProxy, random_plan

SEED = 20261129
ROUNDS = {"sqlite": 220, "postgresql": 60}


def _open(t, states: tuple[str, ...]) -> list[tuple[str, dict]]:
    return [(h, v) for h, v in sorted(t.hazards().items()) if v["state"] in states]


def _evidence(t, rng: random.Random, n: int) -> str:
    """A photo: mostly small, now and then big enough for cuts to land inside its upload."""
    if rng.random() < 0.25:
        data = b"\xff\xd8\xff\xe0" + rng.randbytes(rng.randint(20_000, 120_000))
    else:
        data = photo(f"{t.name}-{n}-{rng.random()}")
    return t.outbox.add_photo(data)["sha256"]


def act(t, rng: random.Random, n: int, enterprise_id: str) -> None:
    """One offline edit that fits the tablet's role and what it sees; the local rules may
    refuse it (then nothing is queued), the server may still refuse it later (a conflict)."""
    box = t.outbox
    x = rng.random()
    open_states = ("reported", "assigned", "rectifying", "in_review", "verified")
    if t.username == "inspector":
        if x < 0.35 or not t.hazards():
            box.report_hazard(
                site_id=MALL,
                title=f"随机隐患{n}",
                severity="major" if rng.random() < 0.15 else "general",
            )
        elif x < 0.7 and (hs := _open(t, open_states)):
            box.append_event(rng.choice(hs)[0], "note", {"text": f"检查员备注{n}"})
        elif hs := _open(t, open_states):
            box.add_photos(rng.choice(hs)[0], [photo(f"{t.name}-p{n}-{rng.random()}")])
    elif t.username == "officer":
        if x < 0.35 and (hs := _open(t, ("reported",))):
            box.append_event(
                rng.choice(hs)[0],
                "assigned",
                {
                    "responsible_unit": "万达广场",
                    "responsible_person": "陈安全员",
                    "responsible_user_id": enterprise_id,
                },
            )
        elif x < 0.65 and (hs := _open(t, ("in_review",))):
            verdict = "verified" if rng.random() < 0.6 else "rejected"
            box.append_event(rng.choice(hs)[0], verdict, {"reason": f"复查意见{n}"})
        elif x < 0.8 and (hs := _open(t, ("verified",))):
            box.append_event(rng.choice(hs)[0], "closed", {})
        elif x < 0.85 and (hs := _open(t, open_states)):
            box.append_event(rng.choice(hs)[0], "cancelled", {"reason": f"误报{n}"})
        elif hs := _open(t, open_states):
            box.append_event(rng.choice(hs)[0], "note", {"text": f"监管备注{n}"})
    else:
        mine = _open(t, ("assigned", "rectifying"))
        if x < 0.3 and mine:
            hid, view = rng.choice(mine)
            parts = ("responsibility", "measures", "funds", "deadline", "contingency")
            box.append_event(hid, "plan_submitted", {p: f"{p}-{n}" for p in parts})
        elif x < 0.75 and mine:
            hid, _ = rng.choice(mine)
            evidence = [_evidence(t, rng, n) for _ in range(rng.randint(1, 2))]
            box.append_event(
                hid, "rectification_submitted", {"description": f"整改{n}", "evidence": evidence}
            )
        elif hs := _open(t, open_states):
            box.append_event(rng.choice(hs)[0], "note", {"text": f"企业备注{n}"})


def test_randomized_faulty_sync_converges(
    backend, live_demo, tablets, engine, settings, clock, tmp_path
):
    rng = random.Random(SEED)
    server = {"live": live_demo}
    proxy = FaultProxy(live_demo.port).start()
    try:
        enterprise_id = live_demo.login("enterprise").get("/me").json()["id"]
        devices = [
            tablets(
                proxy.url,
                user,
                timeout=(1.0, 1.5),
                max_attempts=3,
                batch_size=rng.choice([3, 10]),
                pull_limit=rng.choice([20, 50]),
                chunk_size=rng.choice([16_384, 65_536]),
                rng=random.Random(rng.random()),
            )
            for user in ("inspector", "officer", "enterprise")
        ]
        for t in devices:
            assert t.sync().ok  # everyone starts from the server's data
            # a new connection per request, so the proxy draws a fault for every request
            t.client.http.headers["Connection"] = "close"
        proxy.plan = random_plan(random.Random(SEED + 1), clean=0.55, max_offset=40_000, stall=0.03)
        rounds = ROUNDS[backend]
        restarts = {rounds // 3, 2 * rounds // 3}
        attempted = failed = 0
        for n in range(rounds):
            t = rng.choice(devices)
            for _ in range(rng.randint(0, 3)):
                try:
                    act(t, rng, n, enterprise_id)
                    attempted += 1
                except LocalRefusal:
                    pass
            if rng.random() < 0.08:  # the server's own writes race the tablets'
                clock.advance(hours=rng.randint(2, 30))
                with Session(engine) as s:
                    flag_overdue(s, clock.now())
            if n in restarts:
                server["live"] = restart(server["live"], settings, clock, engine)
            failed += not t.sync().ok  # errors are expected here: the network is hostile
        # the faults were real (most are absorbed by the client's retries within a round)
        assert proxy.stats["cuts"] > rounds // 2, (proxy.stats, failed)
        assert attempted > rounds

        proxy.heal()
        for _ in range(4):
            results = [t.sync() for t in devices]
            assert all(r.ok for r in results), [r.errors for r in results]
            if all(r.pulled == 0 and r.pushed + r.rejected == 0 for r in results):
                break
        _assert_converged(devices, engine, settings)
    finally:
        proxy.stop()
        server["live"].stop()


def _assert_converged(devices, engine, settings) -> None:
    with Session(engine) as s:
        ops = {o.op_id: o for o in s.exec(select(SyncOp)).all()}
        device_events = {
            e.id: e
            for e in s.exec(select(HazardEvent).where(col(HazardEvent.device_id).isnot(None)))
        }
        assert verify_all(s) == []
        projections = {h.id: h for h in s.exec(select(Hazard)).all()}
        folded = {hid: fold(load_events(s, hid)) for hid in projections}
        attachments = {a.sha256: a for a in s.exec(select(Attachment)).all()}
    store = BlobStore(settings.blob_dir)
    applied_event_ids: set[str] = set()
    total_ops = 0
    for t in devices:
        records = t.outbox.records(limit=100_000)
        total_ops += len(records)
        # every op applied (or refused) exactly once, and device and server agree on which
        assert {r["status"] for r in records} <= {"acknowledged", "rejected"}, t.name
        for r in records:
            stored = ops[r["op_id"]]
            assert stored.device_id == t.store.device_id
            assert stored.status == ("applied" if r["status"] == "acknowledged" else "rejected")
            if r["status"] == "rejected":
                assert r["code"] and r["message_zh"] and r["message_en"]
                assert r["event_id"] not in device_events
            else:
                assert r["event_id"] in device_events  # applied: its event exists
                applied_event_ids.add(r["event_id"])
        # converged: the same events and hashes as the server, and the same folded state
        assert t.events() == server_events(engine, t.username), t.name
        assert t.chains_verify() == [], t.name
        for hid, view in t.hazards().items():
            server_view = folded[hid]
            assert (view["state"], view["event_count"], view["last_hash"]) == (
                server_view.state.value,
                server_view.event_count,
                server_view.last_hash,
            )
            assert projections[hid].last_hash == view["last_hash"]
        assert t.store.read("SELECT pending_count AS n FROM hazard WHERE pending_count > 0") == []
        # every photo reached the server intact
        for blob in t.store.read("SELECT sha256, server_complete FROM blob"):
            assert blob["server_complete"] == 1
            assert attachments[blob["sha256"]].complete
            assert sha(store.read(blob["sha256"])) == blob["sha256"]
    # nothing lost, nothing doubled: device-written events are exactly the applied ops'
    assert set(device_events) == applied_event_ids
    assert len(ops) == total_ops
    for a in attachments.values():
        if a.complete:
            assert sha(store.read(a.sha256)) == a.sha256
    assert len(applied_event_ids) > 50, total_ops  # the run did real work
    assert total_ops > len(applied_event_ids)  # and met real conflicts
