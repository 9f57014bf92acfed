"""Ops are numbered gap-free per device (TECH-NOTES §1.3 case 7): a gap stops the batch at
the gap and says where to resume; a tablet restored from an old backup is told the next
number, renumbers what it has not sent, and loses and duplicates nothing."""

from __future__ import annotations

import os
import shutil
import uuid

from tablets import MALL, op, push_raw, report_payload, server_events

from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import SyncClient

DEVICE = "tablet-seq-0001"


def note(hid: str, text: str) -> dict:
    return {"hazard_id": hid, "type": "note", "payload": {"text": text}}


def test_gap_stops_the_batch_at_the_gap(live_demo):
    http = live_demo.login("inspector")
    hid = str(uuid.uuid4())
    body = push_raw(
        http,
        DEVICE,
        [
            op(1, "hazard.report", report_payload(hid), op_id=hid),
            op(3, "hazard.event", note(hid, "three")),
            op(4, "hazard.event", note(hid, "four")),
        ],
    )
    assert [r["status"] for r in body["results"]] == ["applied"]
    assert body["stopped"] == {"reason": "seq_gap", "at_seq": 3, "expected_seq": 2}
    assert body["last_seq"] == 1
    # re-sent from the gap, in order: accepted
    body = push_raw(
        http,
        DEVICE,
        [op(2, "hazard.event", note(hid, "two")), op(3, "hazard.event", note(hid, "three"))],
    )
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    # a new op under a number already used is refused the same way
    body = push_raw(http, DEVICE, [op(2, "hazard.event", note(hid, "again"))])
    assert body["results"] == []
    assert body["stopped"] == {"reason": "seq_behind", "at_seq": 2, "expected_seq": 4}


def test_tablet_restored_from_an_old_backup(live_demo, tablets, engine, tmp_path, clock):
    t = tablets(live_demo.url, "inspector")
    hid = t.outbox.report_hazard(site_id=MALL, title="安全出口上锁", severity="general")
    assert t.sync().ok
    t.outbox.append_event(hid, "note", {"text": "backup holds this one unsent"})
    backup = tmp_path / "backup.db"
    t.store.backup_to(backup)  # seq 2 pending in the backup
    assert t.sync().ok
    for i in range(3):  # seq 3-5 pushed and then lost with the tablet
        t.outbox.append_event(hid, "note", {"text": f"lost with the tablet {i}"})
    assert t.sync().ok
    path = t.store.path
    t.store.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")
    shutil.copyfile(backup, path)

    store = LocalStore(path)
    client = SyncClient(store, live_demo.url, clock=clock, backoff_base=0.01)
    t.store, t.client = store, client
    t.outbox.store = store
    new_op = t.outbox.append_event(hid, "note", {"text": "written after the restore"})
    assert t.outbox.record(new_op)["device_seq"] == 3  # a number the server already used
    result = t.sync()
    assert result.ok, result.errors
    records = {r["op_id"]: r for r in t.outbox.records()}
    assert all(r["status"] == "acknowledged" for r in records.values())
    assert records[new_op]["device_seq"] == 6  # renumbered after the server's last
    assert [r["result_status"] for r in records.values()] == ["applied", "duplicate", "applied"]
    # the ops lost with the tablet come back through the pull: nothing lost, nothing doubled
    assert t.events() == server_events(engine, "inspector")
    chain = t.chain(hid)
    assert [e.payload.get("text") for e in chain[1:]] == [
        "backup holds this one unsent",
        "lost with the tablet 0",
        "lost with the tablet 1",
        "lost with the tablet 2",
        "written after the restore",
    ]
    assert t.chains_verify() == []
