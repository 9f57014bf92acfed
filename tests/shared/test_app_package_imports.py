"""What the tablet ships (``mobile_app``, ``shared``: buildozer.spec's include patterns) must
not import the server or the development tools, and the core must not import Kivy: the APK
holds neither, and an import that only fails on a device is found by nobody here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["mobile_app", "shared"])
def test_shipped_code_imports_neither_server_nor_devtools(package):
    offenders = {
        str(p.relative_to(ROOT)): sorted(_imports(p) & {"server", "devtools", "tests"})
        for p in _modules(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}
    assert len(offenders) > 10  # the walk found the package


def test_the_tablet_core_and_shared_do_not_import_kivy():
    modules = _modules("mobile_app/core") + _modules("shared")
    offenders = [str(p.relative_to(ROOT)) for p in modules if "kivy" in _imports(p)]
    assert offenders == []
    assert len(modules) > 10
