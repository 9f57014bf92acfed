"""Jobs are declared where they live (``@job``) and found without import-order luck: every
module that declares one is named in ``JOB_MODULES``, and each named module declares one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from server.jobs.registry import JOB_MODULES, Every, job, jobs

ROOT = Path(__file__).resolve().parents[2]


def test_every_declaring_module_is_named_and_every_named_module_declares():
    declaring = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "server").rglob("*.py")
        if re.search(r"^@job\(", p.read_text(encoding="utf-8"), re.M)
    }
    assert declaring == set(JOB_MODULES)
    by_module = {j.run.__module__ for j in jobs().values()}
    assert by_module == set(JOB_MODULES)


def test_a_fresh_process_finds_every_job_without_importing_the_app():
    """What ``hazardchain jobs run`` sees: nothing else imported first."""
    code = "from server.jobs.registry import jobs; print(','.join(jobs()))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out.split(",") == list(jobs())
    assert "flag_overdue" in out and "log_checkpoint" in out


def test_a_name_declared_twice_is_refused():
    def other(session, now):
        return None

    with pytest.raises(RuntimeError, match="declared twice"):
        job("flag_overdue", Every("overdue_minutes"))(other)
