"""The nightly backup: one folder per local day, so a restart's catch-up run or a second
replica adds nothing, and the oldest beyond ``backup_keep`` are removed."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from server.backups.service import Installation, backup_folders, prune, take_backup
from server.jobs.registry import DailyAt, job
from server.settings import Settings


def installation(session: Session, settings: Settings) -> Installation:
    """The database this session is bound to (not necessarily the settings' default URL)."""
    url = session.get_bind().url.render_as_string(hide_password=False)
    return Installation(url, Path(settings.blob_dir), settings.pg_bin_dir)


@job("nightly_backup", DailyAt("backup_time"))
def nightly_backup(session: Session, now: datetime, settings: Settings) -> dict:
    if settings.backup_keep <= 0:
        return {"backup": "off"}
    root = Path(settings.backup_dir)
    day = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    dest = root / day
    if (dest / "manifest.json").exists():
        return {"backup": "exists", "dest": str(dest)}
    if dest.exists():  # an earlier run died half-way: start that day again
        shutil.rmtree(dest)
    previous = [p for p in backup_folders(root) if p != dest]
    take_backup(
        installation(session, settings), dest, now, link_from=previous[-1] if previous else None
    )
    removed = prune(root, settings.backup_keep)
    return {"backup": "taken", "dest": str(dest), "removed": len(removed)}
