"""Fixtures for the jobs' tests: the hand-built world on each database, the job settings, and
a runner that goes through the same entry point as the scheduler and the CLI."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.jobs.world import World, build_world


@pytest.fixture
def world(engine, clock) -> World:
    return build_world(engine, clock)


@pytest.fixture
def job_settings(settings):
    """The test settings with the jobs' defaults (zone Asia/Shanghai, no SMTP relay)."""
    return settings.model_copy(update={"smtp_host": "", "webhook_secret": ""})


@pytest.fixture
def run(engine, job_settings):
    """Run a job through the same entry point as the scheduler and the CLI."""
    from server.scheduler import run_job

    def _run(name: str, now: datetime, settings=None):
        return run_job(engine, name, now, settings or job_settings)

    return _run
