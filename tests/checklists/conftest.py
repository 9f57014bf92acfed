"""Fixtures for the checklist and inspection tests."""

from __future__ import annotations

import pytest
from checklist_fixtures import import_test_templates


@pytest.fixture
def checklists(live_demo, clock):
    """The live demo server with ``test_fire`` v1 imported."""
    import_test_templates(live_demo.app.state.engine, clock)
    return live_demo
