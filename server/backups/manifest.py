"""What a backup folder holds and how it is checked: a damaged or foreign backup is refused
before anything in the live installation is touched."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shared.errors import DomainError

MANIFEST = "manifest.json"
FORMAT = 1
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
BLOB_DIR = "blobs"


@dataclass
class Manifest:
    """The record a restore trusts: every file's checksum and the rows each table held."""

    dialect: str
    migration_head: str
    created_at: str
    app_version: str
    counts: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkpoint: dict[str, Any] | None = None
    format: int = FORMAT

    @property
    def database_file(self) -> str:
        return SQLITE_FILE if self.dialect == "sqlite" else PG_FILE

    def write(self, folder: Path) -> None:
        text = json.dumps(asdict(self), ensure_ascii=False, indent=1, sort_keys=True)
        tmp = folder / (MANIFEST + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(folder / MANIFEST)  # a backup without a manifest is visibly unfinished

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except FileNotFoundError:
            raise refused(
                "no_manifest",
                "备份目录中没有清单文件（备份未完成或目录有误）",
                f"{path} is missing: the backup is unfinished or this is not a backup",
            ) from None
        except (ValueError, TypeError) as exc:
            raise refused("bad_manifest", "备份清单已损坏", f"{path} is damaged: {exc}") from exc
        if manifest.format != FORMAT:
            raise refused(
                "bad_manifest",
                "备份清单格式不受支持",
                f"backup format {manifest.format} is not {FORMAT}",
            )
        return manifest


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entry(path: Path) -> dict[str, Any]:
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size}


def damaged_files(folder: Path, manifest: Manifest) -> list[str]:
    """Files named in the manifest that are missing or differ, and files it does not name."""
    problems = []
    for rel, entry in sorted(manifest.files.items()):
        path = folder / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            problems.append(f"{rel}: checksum differs")
    named = set(manifest.files) | {MANIFEST}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel not in named:
            problems.append(f"{rel}: not in the manifest")
    if manifest.database_file not in manifest.files:
        problems.append(f"{manifest.database_file}: not in the manifest")
    return problems


def refused(code: str, zh: str, en: str) -> DomainError:
    return DomainError.of(code, zh, en)
