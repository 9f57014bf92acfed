"""Login, refresh rotation, logout and device revocation, throttling, expiry by the clock."""

from __future__ import annotations

import pytest

from server.app import create_app
from server.testing import LiveServer


def token(live, username="inspector", password="demo-password", **extra):
    with live.client() as anon:
        return anon.post("/auth/token", data={"username": username, "password": password, **extra})


def test_login_refresh_logout(live_demo):
    r = token(live_demo)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["user"]["username"] == "inspector"
    assert "password_hash" not in body["user"]
    c = live_demo.client(body["access_token"])
    assert c.get("/me").status_code == 200
    with live_demo.client() as anon:
        rotated = anon.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
        assert rotated.status_code == 200
        assert anon.post("/auth/refresh", json={"refresh_token": "x" * 40}).status_code == 401
    # the old access token belonged to the rotated-away session
    assert c.get("/me").status_code == 401
    c2 = live_demo.client(rotated.json()["access_token"])
    assert c2.post("/auth/logout").status_code == 204
    assert c2.get("/me").status_code == 401
    with live_demo.client() as anon:
        again = anon.post("/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})
        assert again.status_code == 401


def test_wrong_password_and_throttling(live_demo, clock):
    r = token(live_demo, password="wrong")
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"
    assert token(live_demo, username="ghost", password="x").json()["code"] == "bad_credentials"
    for _ in range(4):
        token(live_demo, password="wrong")
    locked = token(live_demo)  # even the right password waits out the lockout
    assert locked.status_code == 429 and locked.json()["code"] == "too_many_attempts"
    assert token(live_demo, username="officer").status_code == 200  # others unaffected
    clock.advance(minutes=16)
    assert token(live_demo).status_code == 200
    assert token(live_demo, password="wrong").status_code == 401  # counter restarted


def test_device_revocation_ends_its_sessions(live_demo):
    c = live_demo.login("inspector")
    assert c.post("/devices", json={"id": "tablet-42", "name": "井下平板"}).status_code == 201
    on_device = token(live_demo, device_id="tablet-42").json()
    dc = live_demo.client(on_device["access_token"])
    assert dc.get("/me").status_code == 200
    assert c.delete("/devices/tablet-42").status_code == 200
    assert dc.get("/me").status_code == 401
    with live_demo.client() as anon:
        r = anon.post("/auth/refresh", json={"refresh_token": on_device["refresh_token"]})
        assert r.status_code == 401
    refused = token(live_demo, device_id="tablet-42")
    assert refused.status_code == 403 and refused.json()["code"] == "device_revoked"
    assert c.get("/me").status_code == 200  # the session without the device lives on


def test_deactivated_user_is_locked_out(live_demo):
    inspector = live_demo.login("inspector")
    admin = live_demo.login("admin")
    uid = inspector.get("/me").json()["id"]
    assert admin.patch(f"/users/{uid}", json={"active": False}).json()["active"] is False
    assert inspector.get("/me").status_code == 401
    assert token(live_demo).status_code == 401


@pytest.fixture
def short_lived(settings, engine, clock, demo):
    server = LiveServer(
        create_app(
            settings.model_copy(update={"access_token_minutes": 15}), clock=clock, engine=engine
        )
    ).start()
    yield server
    server.stop()


def test_access_token_expires_by_the_server_clock(short_lived, clock):
    body = token(short_lived).json()
    assert body["expires_in"] == 900
    c = short_lived.client(body["access_token"])
    clock.advance(minutes=14)
    assert c.get("/me").status_code == 200
    clock.advance(minutes=2)
    assert c.get("/me").status_code == 401
    with short_lived.client() as anon:
        fresh = anon.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert short_lived.client(fresh.json()["access_token"]).get("/me").status_code == 200


def _refresh(live, refresh_token: str):
    with live.client() as anon:
        return anon.post("/auth/refresh", json={"refresh_token": refresh_token})


def test_a_refresh_answer_lost_on_the_way_is_given_again(live_demo, clock):
    """The tablet sent its refresh token, the network dropped the answer, it sends the same
    token again moments later: it gets a new pair (not a logout); the pair it never received
    is dead."""
    first = token(live_demo).json()
    lost = _refresh(live_demo, first["refresh_token"]).json()
    clock.advance(seconds=20)
    retried = _refresh(live_demo, first["refresh_token"])
    assert retried.status_code == 200
    fresh = retried.json()
    assert live_demo.client(fresh["access_token"]).get("/me").status_code == 200
    assert live_demo.client(lost["access_token"]).get("/me").status_code == 401
    assert _refresh(live_demo, lost["refresh_token"]).status_code == 401
    assert _refresh(live_demo, fresh["refresh_token"]).status_code == 200  # rotation goes on


def test_a_stolen_refresh_token_shown_again_revokes_its_family(live_demo, clock):
    """Reuse after the grace period, or after the successor was used, is theft: every session
    rotated from it stops, the owner's included, and the owner logs in again."""
    first = token(live_demo).json()
    second = _refresh(live_demo, first["refresh_token"]).json()
    third = _refresh(live_demo, second["refresh_token"]).json()  # the owner goes on
    # within the grace period, but its successor was used since: not a lost answer
    reused = _refresh(live_demo, first["refresh_token"])
    assert reused.status_code == 401 and reused.json()["code"] == "invalid_refresh_token"
    assert live_demo.client(third["access_token"]).get("/me").status_code == 401
    assert _refresh(live_demo, third["refresh_token"]).status_code == 401

    again = token(live_demo).json()
    later = _refresh(live_demo, again["refresh_token"]).json()
    clock.advance(seconds=61)  # past the grace period, though the successor is unused
    assert _refresh(live_demo, again["refresh_token"]).status_code == 401
    assert live_demo.client(later["access_token"]).get("/me").status_code == 401


def test_a_tablet_is_registered_at_its_first_login_and_can_be_revoked(live_demo):
    """A lost tablet: its user (or an administrator) revokes it, and nobody logs in on it."""
    first = token(live_demo, device_id="tab-mine-0007").json()
    owner = live_demo.client(first["access_token"])
    devices = {d["id"]: d for d in owner.get("/devices").json()}
    assert "tab-mine-0007" in devices and devices["tab-mine-0007"]["revoked_at"] is None
    # a second user on the same (shared) tablet logs in; the tablet stays the first user's
    shared = token(live_demo, username="officer", device_id="tab-mine-0007")
    assert shared.status_code == 200
    assert live_demo.client(shared.json()["access_token"]).get("/devices").json() == []
    with live_demo.login("admin") as admin:
        assert admin.delete("/devices/tab-mine-0007").status_code == 200
    assert owner.get("/me").status_code == 401
    for who in ("inspector", "officer"):
        refused = token(live_demo, username=who, device_id="tab-mine-0007")
        assert refused.status_code == 403 and refused.json()["code"] == "device_revoked"
    bad = token(live_demo, device_id="a b")
    assert bad.status_code == 422 and "device_id" in str(bad.json()["fields"])
