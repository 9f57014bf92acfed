"""``hazardchain checklists …`` and ``db upgrade``'s import, run as the real command, plus the
check that checklists/COVERAGE.md is generated from the current files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from checklist_fixtures import TEMPLATE_ID, template_dict

from server.checklists.commands import COVERAGE_FILE, coverage_text
from server.checklists.service import DEFAULT_ROOT
from shared.checklist import latest_versions, load_all

REPO = Path(__file__).resolve().parents[2]
REAL_CHECKLISTS = REPO / "checklists"


def hazardchain(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HAZARDCHAIN_DATABASE_URL": db_url, "HAZARDCHAIN_ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_template(root: Path, data: dict) -> None:
    folder = root / data["id"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{data['version']}.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def test_validate_list_show_and_import(db_factory, tmp_path):
    url = db_factory.fresh("sqlite")
    try:
        r = hazardchain(url, "checklists", "validate")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "valid" in r.stdout

        r = hazardchain(url, "checklists", "list")
        assert r.returncode == 0, r.stderr
        assert "coal_mine" in r.stdout and "db: not imported" in r.stdout

        r = hazardchain(url, "checklists", "import")
        assert r.returncode == 0, r.stderr
        assert "coal_mine v1" in r.stdout
        r = hazardchain(url, "checklists", "list", "--all")
        assert r.returncode == 0 and "not imported" not in r.stdout
        assert "db: imported" in r.stdout

        r = hazardchain(url, "checklists", "show", "coal_mine")
        latest = latest_versions(load_all(DEFAULT_ROOT))["coal_mine"].version
        assert r.returncode == 0 and r.stdout.startswith(f"coal_mine v{latest} · mine")
        # each item shows how its finding is written, and whether it stops the work
        assert "✗ 瓦斯抽采未达标仍组织生产 / Coal is produced although" in r.stdout
        assert "MAJOR; 0d; stop work" in r.stdout
        r = hazardchain(url, "checklists", "show", "coal_mine", "--version", "1")
        assert r.returncode == 0 and r.stdout.startswith("coal_mine v1 · mine")
        assert "\n    ✗ " not in r.stdout and "stop work" not in r.stdout
        r = hazardchain(url, "checklists", "show", "nope")
        assert r.returncode == 2 and "no checklist 'nope'" in r.stderr
    finally:
        db_factory.drop(url)


def test_db_upgrade_imports_and_refuses_an_edited_version(db_factory, tmp_path):
    url = db_factory.fresh("sqlite")
    root = tmp_path / "tree"
    write_template(root, template_dict(1))
    try:
        r = hazardchain(url, "db", "upgrade", "--checklists", str(root))
        assert r.returncode == 0, r.stderr
        assert f"1 imported ({TEMPLATE_ID} v1)" in r.stdout
        r = hazardchain(url, "db", "upgrade", "--checklists", str(root))
        assert r.returncode == 0 and "0 imported" in r.stdout

        edited = template_dict(1)
        edited["sections"][0]["items"][0]["deadline_days"] = 3
        write_template(root, edited)
        r = hazardchain(url, "checklists", "import", "--root", str(root))
        assert r.returncode == 1
        assert f"{TEMPLATE_ID} v1 differs" in r.stderr and "nothing was changed" in r.stderr
        r = hazardchain(url, "checklists", "list", "--root", str(root))
        assert "db: CHANGED" in r.stdout

        # the tree validator names what is wrong with a draft tree (too small, unpublished)
        r = hazardchain(url, "checklists", "validate", "--root", str(root))
        assert r.returncode == 1 and "at least 40" in r.stdout and "unpublished" in r.stdout
    finally:
        db_factory.drop(url)


def test_coverage_file_is_up_to_date():
    expected = coverage_text(REAL_CHECKLISTS)
    current = (REAL_CHECKLISTS / COVERAGE_FILE).read_text(encoding="utf-8")
    assert current == expected, (
        f"checklists/{COVERAGE_FILE} is stale; run: hazardchain checklists coverage --write"
    )
