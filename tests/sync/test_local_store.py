"""The tablet's store and outbox on their own (no server): durable settings on every
connection, its own migrations, one writer, gap-free numbering under concurrent taps, whole
transactions, and the rules applied before anything is queued."""

from __future__ import annotations

import threading
import uuid

import pytest

from mobile_app.core.outbox import LocalRefusal, Outbox
from mobile_app.core.store import MIGRATION_SET, LocalStore, opened
from shared.clock import FixedClock

MALL = "1b8c8f5e-0000-4000-8000-000000000001"


@pytest.fixture
def store(tmp_path):
    with opened(tmp_path / "tablet.db") as s:
        s.write(lambda db: [db.execute("INSERT INTO meta VALUES (?, ?)", kv) for kv in (
            ("user_id", "u-inspector"), ("role", "inspector"))])  # fmt: skip
        yield s


def test_every_connection_is_durable_and_migrations_are_recorded(store):
    def pragmas(db):
        names = ("journal_mode", "synchronous", "foreign_keys")
        return {p: db.execute(f"PRAGMA {p}").fetchone()[0] for p in names}

    want = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}  # 2 = FULL
    assert store.write(pragmas) == pragmas(store.reader()) == want
    applied = store.read("SELECT migration_set, name FROM _sqlite_migrations")
    assert applied == [
        {"migration_set": MIGRATION_SET, "name": "m001_initial"},
        {"migration_set": MIGRATION_SET, "name": "m002_inspections"},
        {"migration_set": MIGRATION_SET, "name": "m003_log_witness"},
        {"migration_set": MIGRATION_SET, "name": "m004_hazard_numbers"},
        {"migration_set": MIGRATION_SET, "name": "m006_location"},
    ]


def test_one_writer_numbers_ops_gap_free_under_concurrent_taps(store):
    box = Outbox(store, clock=FixedClock())
    hid = box.report_hazard(site_id=MALL, title="并发", severity="general")
    errors = []

    def taps(k: int) -> None:
        try:
            for i in range(20):
                box.append_event(hid, "note", {"text": f"{k}-{i}"})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=taps, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = [r["device_seq"] for r in box.records()]
    assert seqs == list(range(1, 82))
    row = store.read("SELECT pending_count, state FROM hazard WHERE id = ?", [hid])[0]
    assert row == {"pending_count": 81, "state": "reported"}
    assert box.only_copy().records == 81


def test_a_failed_write_leaves_nothing_behind(store):
    def half_then_fail(db):
        db.execute("INSERT INTO meta VALUES ('half', 'written')")
        raise ValueError("boom")

    with pytest.raises(ValueError):
        store.write(half_then_fail)
    assert store.meta("half") is None
    with pytest.raises(RuntimeError):
        store.write(lambda db: store.write(lambda inner: None))


def test_rules_refuse_on_the_spot_and_nothing_is_queued(store):
    box = Outbox(store, clock=FixedClock())
    hid = box.report_hazard(site_id=MALL, title="只能由监管员复查", severity="general")
    with pytest.raises(LocalRefusal) as exc:
        box.append_event(hid, "verified", {})
    assert exc.value.refusal.code == "role_not_allowed"
    assert "复查通过" in exc.value.refusal.zh and exc.value.refusal.en
    with pytest.raises(LocalRefusal):
        box.append_event(str(uuid.uuid4()), "note", {"text": "没有这个隐患"})
    with pytest.raises(LocalRefusal):
        box.add_photo(b"GIF89a not a photo we take")
    assert [r["type"] for r in box.records()] == ["hazard.report"]
    assert store.meta("next_seq") == "2"


def test_device_identity_and_numbering_survive_a_restart(tmp_path):
    path = tmp_path / "tablet.db"
    first = LocalStore(path)
    first.write(
        lambda db: db.execute("INSERT INTO meta VALUES ('user_id', 'u'), ('role', 'inspector')")
    )
    device = first.device_id
    Outbox(first).report_hazard(site_id=MALL, title="重启前", severity="general")
    first.close()
    with opened(path) as again:
        assert again.device_id == device
        op_id = Outbox(again).report_hazard(site_id=MALL, title="重启后", severity="general")
        assert Outbox(again).record(op_id)["device_seq"] == 2
