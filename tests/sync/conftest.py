"""Fixtures for the sync tests (helpers live in ``tablets.py``).

A tablet doing what a district does (log in, pull the checklists, inspect, push) talks to
``cli_server``, set up as ``make run`` does. The protocol tests keep the in-process ``live``
server on purpose: they move its ``FixedClock`` (expiry, offline days), restart it or put the
fault proxy in front of it, and compare the tablet with the server's database at exact moments
(no scheduler writing in between)."""

from __future__ import annotations

import random

import pytest
from tablets import PASSWORD, Tablet

from mobile_app.core.outbox import Outbox
from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import SyncClient


@pytest.fixture
def tablets(tmp_path, clock):
    """``make(server_url, username, **client options) -> Tablet`` (logged in)."""
    made: list[Tablet] = []

    def make(url: str, username: str, name: str | None = None, **kw) -> Tablet:
        name = name or f"{username}-{len(made)}"
        store = LocalStore(tmp_path / f"{name}.db")
        kw.setdefault("backoff_base", 0.01)
        kw.setdefault("backoff_cap", 0.05)
        kw.setdefault("timeout", (2.0, 5.0))
        kw.setdefault("rng", random.Random(len(made)))
        device_clock = kw.pop("clock", clock)  # a tablet may run its own (skewed) clock
        kw.setdefault("relogin", lambda: (username, PASSWORD))  # the user types it again
        client = SyncClient(store, url, clock=device_clock, **kw)
        client.login(username, PASSWORD)
        tablet = Tablet(name, username, store, Outbox(store, clock=device_clock), client)
        made.append(tablet)
        return tablet

    yield make
    for t in made:
        t.client.http.close()
        t.store.close()
