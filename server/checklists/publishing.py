"""Publishing checklist versions: the tree's validation and the lock (``versions.lock.json``)
that freezes every published version. Only the server's CLI and CI publish; the tablet and
the API only load what was published, so this lives with the server, not in ``shared``."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from shared.checklist import (
    ChecklistTemplateError,
    parse_template,
    path_problems,
    read_templates,
    rel_path,
    template_dirs,
    template_files,
)

LOCK_FILE_NAME = "versions.lock.json"
# Publication policy, not a schema rule: a template shorter than this is almost certainly a
# draft, so validate_tree() reports it while load_template() still accepts small test files.
MIN_ITEMS_PER_TEMPLATE = 40
# A self-inspection (自查) template is a patrol or a check the enterprise runs every day or two
# hours: the rules list a short set of points (GB 25201 5.2), so its floor is lower.
MIN_ITEMS_PER_SELF_INSPECTION = 8


def _lock_key(path: Path) -> str:
    """``"<folder>/<file stem>"``, i.e. ``"<id>/<version>"`` for a well-named file."""
    return f"{path.parent.name}/{path.stem}"


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the raw file bytes (what the lock records)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_lock(root: Path | str) -> dict[str, str]:
    """The lock as ``{"<id>/<version>": sha256}``; empty if there is no lock file yet."""
    lock_path = Path(root) / LOCK_FILE_NAME
    if not lock_path.exists():
        return {}
    data = json.loads(lock_path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ChecklistTemplateError(
            lock_path, [f"{LOCK_FILE_NAME}: must map strings to strings（锁文件格式错误）"]
        )
    return data


def _naming_problems(root: Path) -> list[str]:
    """Stray files a loader would silently skip (``.yml``, non-numeric names, empty folders)."""
    problems = []
    for folder in template_dirs(root):
        where = rel_path(root, folder)
        yamls = sorted(folder.glob("*.yaml"))
        if not yamls:
            problems.append(f"{where}/: folder has no <version>.yaml files（文件夹中没有模板版本）")
        for path in sorted(folder.glob("*.yml")):
            problems.append(f"{rel_path(root, path)}: use the .yaml extension（扩展名须为 .yaml）")
        for path in yamls:
            if not re.fullmatch(r"[1-9][0-9]*", path.stem):
                problems.append(
                    f"{rel_path(root, path)}: file name must be <version>.yaml, e.g. 1.yaml"
                    "（文件名须为版本号）"
                )
    return problems


def _lock_problems(root: Path, files: Sequence[Path], lock: Mapping[str, str]) -> list[str]:
    """Changed, unpublished and vanished versions, compared with the lock."""
    problems = []
    present = set()
    for path in files:
        key = _lock_key(path)
        present.add(key)
        where = rel_path(root, path)
        if key not in lock:
            problems.append(
                f"{where}: unpublished, not in {LOCK_FILE_NAME}; run write_lock() to publish"
                "（未发布：锁文件中没有该版本）"
            )
        elif lock[key] != file_sha256(path):
            problems.append(
                f"{where}: changed without a version bump; add a new <version>.yaml instead"
                "（已发布版本被修改，须新增版本号）"
            )
    for key in sorted(set(lock) - present):
        problems.append(
            f"{key}.yaml: published version is missing; old versions must stay"
            "（已发布版本被删除，旧版本须保留）"
        )
    return problems


def validate_tree(root: Path | str) -> list[str]:
    """Every problem in a checklists tree, as readable lines (empty list = OK to ship).

    Covers per-template consistency (check_template), naming (id == folder, version == file
    name), the minimum size policy, and the lock (changed without a version bump, unpublished,
    deleted).
    """
    root = Path(root)
    problems = _naming_problems(root)
    files = template_files(root)
    for path, template, found in read_templates(root):
        problems.extend(found)
        if template is None:
            continue
        where = rel_path(root, path)
        count = sum(1 for _ in template.items())
        floor = (
            MIN_ITEMS_PER_TEMPLATE
            if template.usable_by("regulator")
            else MIN_ITEMS_PER_SELF_INSPECTION
        )
        if count < floor:
            problems.append(
                f"{where}: {count} items, at least {floor} required（检查项少于 {floor} 项）"
            )
    try:
        lock = read_lock(root)
    except (ChecklistTemplateError, json.JSONDecodeError) as exc:
        return [*problems, f"{LOCK_FILE_NAME}: unreadable（锁文件无法读取）: {exc}"]
    return [*problems, *_lock_problems(root, files, lock)]


def write_lock(root: Path | str) -> list[str]:
    """Publish: add lock entries for files not yet in the lock; returns the keys added.

    Existing entries are never rewritten (that would launder an in-place edit), and files that
    fail load_template() or are misnamed are not published.
    """
    root = Path(root)
    lock = read_lock(root)
    added = []
    for path in template_files(root):
        key = _lock_key(path)
        if key in lock:
            continue
        try:
            template = parse_template(path.read_bytes(), rel_path(root, path))
        except ChecklistTemplateError:
            continue
        if path_problems(template, path, key):
            continue
        lock[key] = file_sha256(path)
        added.append(key)
    text = json.dumps(dict(sorted(lock.items())), indent=2, ensure_ascii=False) + "\n"
    (root / LOCK_FILE_NAME).write_text(text, encoding="utf-8")
    return added
