"""The nightly backup job: one per local day whatever the number of runs, the newest
``backup_keep`` kept, unchanged photos hard-linked to the previous night's copy."""

from __future__ import annotations

from pathlib import Path

from server.backups.manifest import Manifest
from server.blobs.store import BlobStore, digest
from server.demo import demo_png
from tests.jobs.world import World


def test_one_backup_a_day_the_newest_kept_photos_linked(
    world: World, run, job_settings, clock, tmp_path
):
    root = tmp_path / "nightly"
    settings = job_settings.model_copy(
        update={"backup_dir": root, "backup_keep": 3, "blob_dir": tmp_path / "blobs"}
    )
    data = demo_png("nightly", (10, 20, 30))
    BlobStore(settings.blob_dir).put(digest(data), data)
    world.report("inspector", "mall", "夜间备份前的隐患")

    first = run("nightly_backup", clock.now(), settings)
    assert first["backup"] == "taken"
    assert run("nightly_backup", clock.now(), settings)["backup"] == "exists"
    days = [first["dest"]]
    for _ in range(4):
        clock.advance(days=1)
        days.append(run("nightly_backup", clock.now(), settings)["dest"])
    kept = sorted(p.name for p in root.iterdir())
    assert kept == sorted(Path(d).name for d in days[-3:])
    manifest = Manifest.read(root / kept[-1])
    assert manifest.counts["hazard"] >= 1 and manifest.migration_head
    blob = f"blobs/{digest(data)[:2]}/{digest(data)}"
    assert blob in manifest.files
    assert (root / kept[-1] / blob).stat().st_ino == (root / kept[-2] / blob).stat().st_ino


def test_backups_off_with_keep_zero(run, job_settings, clock, tmp_path):
    settings = job_settings.model_copy(update={"backup_dir": tmp_path / "b", "backup_keep": 0})
    assert run("nightly_backup", clock.now(), settings) == {"backup": "off"}
    assert not (tmp_path / "b").exists()
