"""The restore drill (docs/operations.md), on both databases, with the server set up and run by
the README's commands in subprocesses: tablets work, a backup is taken while the server runs,
more work follows, the server is lost (database and photos), last night's backup is restored,
and the tablets put back everything the server had acknowledged — nothing lost, nothing twice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tablets import MALL, photo, sha

from server.testing import _pg_exec
from shared.clock import SystemClock
from tests.cli_server import (
    CliServer,
    assigned_to_the_mall,
    drop_database,
    empty_database,
    server_state,
)


@pytest.fixture
def install(backend, tmp_path, request):
    """An installation set up by the README's commands; no scheduler, so every event in it is
    one the test made."""
    pg_uri = request.getfixturevalue("pg_uri") if backend == "postgresql" else None
    url = empty_database(backend, tmp_path, pg_uri)
    inst = CliServer(url, tmp_path)
    inst.env["HAZARDCHAIN_SCHEDULER"] = "off"
    inst.pg_uri = pg_uri
    yield inst
    inst.stop()
    drop_database(url, pg_uri)


def lose_the_server(inst: CliServer) -> None:
    """A new disk: no database, no photos."""
    shutil.rmtree(inst.blob_dir)
    if inst.pg_uri is None:
        path = Path(inst.db_url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        drop_database(inst.db_url, inst.pg_uri)
        name = inst.db_url.split("?")[0].rsplit("/", 1)[1]
        _pg_exec(inst.pg_uri, f'CREATE DATABASE "{name}"')


def test_restore_drill(install, tablets):
    inst = install
    inst.run("db", "upgrade")
    inst.run("demo")
    inst.serve()
    clock = SystemClock()
    t1 = tablets(inst.url, "inspector", clock=clock)
    t2 = tablets(inst.url, "inspector", name="second", clock=clock)

    # before the backup
    assigned = assigned_to_the_mall(inst, MALL, "备份前：交办给企业的隐患")
    ent = tablets(inst.url, "enterprise", clock=clock)
    assert ent.sync().ok
    first = t1.outbox.report_hazard(site_id=MALL, title="备份前：消防通道堵塞", severity="general")
    early_photo = photo("drill-early")
    t1.outbox.add_photos(first, [early_photo])
    assert t1.sync().ok and t2.sync().ok

    backup = inst.workdir / "backups" / "night"
    out = inst.run("backup", str(backup))
    assert "backup written" in out.stdout
    manifest = json.loads((backup / "manifest.json").read_text())
    assert manifest["counts"]["hazard"] >= 1 and sha(early_photo) in {
        k.rsplit("/", 1)[-1] for k in manifest["files"]
    }

    # after the backup: work the server acknowledges, then loses
    later_photo = photo("drill-late")
    second = t1.outbox.report_hazard(site_id=MALL, title="备份后：灭火器过期", severity="general")
    t1.outbox.add_photos(second, [later_photo])
    t1.outbox.append_event(first, "note", {"text": "备份后的备注"})
    t2_hazard = t2.outbox.report_hazard(
        site_id=MALL, title="备份后：应急灯损坏", severity="general"
    )
    evidence = ent.outbox.add_photo(photo("drill-evidence"))["sha256"]
    ent.outbox.append_event(
        assigned, "rectification_submitted", {"description": "已清理", "evidence": [evidence]}
    )
    assert t1.sync().ok and t2.sync().ok and ent.sync().ok
    acknowledged = {
        op_id
        for t in (t1, t2, ent)
        for op_id in (r["op_id"] for r in t.outbox.records("acknowledged"))
    }
    before, photos_before = server_state(inst, inst.blob_dir)
    assert {first, second, t2_hazard, assigned} <= set(before)
    assert before[assigned][-1][0] == "rectification_submitted"

    # the server is lost; last night's backup comes back
    inst.stop()
    lose_the_server(inst)
    refused = inst.run("restore", str(backup), ok=False)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    inst.run("db", "upgrade", "--no-checklists")  # a new server is set up, then restored
    out = inst.run("restore", str(backup), "--yes")
    assert "sync epoch renewed" in out.stdout
    inst.serve()
    restored, _ = server_state(inst, inst.blob_dir)
    assert second not in restored and t2_hazard not in restored  # lost with the server

    # the tablets sync: they are told to start again and resend what was lost
    for t in (t1, t2, ent):
        result = t.sync()
        assert result.ok, result.errors
    for t in (t1, t2, ent):
        result = t.sync()
        assert result.ok, result.errors
        assert t.outbox.counts().get("pending", 0) == 0
    after, photos_after = server_state(inst, inst.blob_dir)
    assert after == before  # every hazard, every event, nothing twice
    assert photos_after >= photos_before >= {sha(early_photo), sha(later_photo), evidence}
    for t in (t1, t2, ent):
        for op_id in acknowledged & {r["op_id"] for r in t.outbox.records()}:
            assert t.outbox.record(op_id)["status"] == "acknowledged"
        assert t.chains_verify() == []
    verify = inst.run("chains", "verify")
    assert "BROKEN" not in verify.stdout


def test_restore_refuses_a_damaged_or_foreign_backup(install):
    inst = install
    inst.run("db", "upgrade")
    inst.run("demo")
    backup = inst.workdir / "bk"
    inst.run("backup", str(backup))
    assert inst.run("restore", str(backup), "--check").returncode == 0

    not_empty = inst.run("backup", str(backup), ok=False)
    assert not_empty.returncode == 2 and "not empty" in not_empty.stderr

    blob = next((backup / "blobs").glob("??/*"))
    blob.write_bytes(blob.read_bytes() + b"x")
    damaged = inst.run("restore", str(backup), "--yes", ok=False)
    assert damaged.returncode == 2 and "damaged" in damaged.stderr
    assert blob.relative_to(backup).as_posix() in damaged.stderr

    manifest_path = backup / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][blob.relative_to(backup).as_posix()] = {
        "sha256": sha(blob.read_bytes()),
        "bytes": blob.stat().st_size,
    }
    manifest["dialect"] = "postgresql" if manifest["dialect"] == "sqlite" else "sqlite"
    manifest_path.write_text(json.dumps(manifest))
    foreign = inst.run("restore", str(backup), "--yes", ok=False)
    assert foreign.returncode == 2 and "backup is of a" in foreign.stderr

    manifest["dialect"] = "sqlite" if inst.pg_uri is None else "postgresql"
    manifest["migration_head"] = "zzzz_from_the_future"
    manifest_path.write_text(json.dumps(manifest))
    future = inst.run("restore", str(backup), "--yes", ok=False)
    assert future.returncode == 2 and "unknown" in future.stderr

    (backup / "manifest.json").unlink()
    missing = inst.run("restore", str(backup), "--yes", ok=False)
    assert missing.returncode == 2 and "unfinished" in missing.stderr
