"""Login, refresh rotation, logout and device revocation, throttling, expiry by the clock."""

from __future__ import annotations

import httpx
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


def test_a_bearer_refresh_token_shown_again_revokes_its_family_at_once(live_demo):
    """A session with no device key (the API used from a script) has no way to tell its owner
    from a copy: any reuse of a rotated token, even a second later with the successor unused,
    revokes every session rotated from it and the owner logs in again. (A tablet's lost answer
    is recovered by its device key: tests/sync/test_tablet_refresh.py.)"""
    first = token(live_demo).json()
    second = _refresh(live_demo, first["refresh_token"]).json()
    third = _refresh(live_demo, second["refresh_token"]).json()  # the owner goes on
    reused = _refresh(live_demo, first["refresh_token"])
    assert reused.status_code == 401 and reused.json()["code"] == "invalid_refresh_token"
    assert live_demo.client(third["access_token"]).get("/me").status_code == 401
    assert _refresh(live_demo, third["refresh_token"]).status_code == 401

    again = token(live_demo).json()
    unused = _refresh(live_demo, again["refresh_token"]).json()
    assert _refresh(live_demo, again["refresh_token"]).status_code == 401  # no grace period
    assert live_demo.client(unused["access_token"]).get("/me").status_code == 401


def test_an_access_token_naming_another_users_session_is_refused(live_demo, settings, clock):
    """``sid`` and ``sub`` are both signed, yet a token pairing one user with another user's
    session (a leaked signing key, a bug in minting) must not open anything: 401. The console
    cookie, which names both the same way, is held to the same rule."""
    from server.auth.security import decode_access_token, mint_access_token
    from server.console.session import SESSION_COOKIE, session_cookie_value

    mine = decode_access_token(
        token(live_demo).json()["access_token"], settings.secret_key, clock.now()
    )
    officer = token(live_demo, username="officer").json()
    officer_id = officer["user"]["id"]

    def forged(sub: str, sid: str) -> str:
        return mint_access_token(
            user_id=sub, role="officer", session_id=sid, secret=settings.secret_key,
            now=clock.now(), minutes=15,
        )  # fmt: skip

    honest = forged(mine["sub"], mine["sid"])
    assert live_demo.client(honest).get("/me").json()["username"] == "inspector"
    refused = live_demo.client(forged(officer_id, mine["sid"])).get("/me")
    assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"
    assert live_demo.client(officer["access_token"]).get("/me").status_code == 200

    with httpx.Client(base_url=live_demo.url, follow_redirects=False, timeout=30) as browser:
        for uid, to_login in ((mine["sub"], False), (officer_id, True)):
            browser.cookies.set(
                SESSION_COOKIE, session_cookie_value(settings, mine["sid"], uid), path="/console"
            )
            page = browser.get("/console/")
            sent_to_login = page.headers.get("location", "").startswith("/console/login")
            assert sent_to_login is to_login, (uid, page.status_code, page.headers)
            browser.cookies.clear()


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
