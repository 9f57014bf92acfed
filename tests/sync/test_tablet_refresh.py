"""Device-bound tablet sessions (issue 11, defect 3): the tablet's first login makes an Ed25519
key pair and binds the session to it; every refresh carries a fresh, single-use proof signed
by the key. A copied refresh token is then useless (and revokes its family), a captured proof
cannot be replayed, a stale one is refused (a skewed tablet signs again with the server's
nonce), and a tablet whose refresh answer was lost retries with its old token however long it
was offline, until the successor it never received is used.

Real server on loopback, real tablet code (``mobile_app/core``), both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlmodel import Session, select
from tablets import MALL, PASSWORD

from mobile_app.core.device_backend import DeviceBackend
from mobile_app.core.session import DeviceSession
from mobile_app.core.sync_client import LoginRequired, SyncFailed
from mobile_app.i18n import Translator
from mobile_app.ui.messages import sync_error
from server.auth import security
from server.users.models import AuthSession, UsedProof
from shared.clock import FixedClock
from shared.device_proof import NONCE_HEADER, PROOF_HEADER, DeviceKey
from tests.faultproxy import Fault, FaultProxy

REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def short_tokens(live_demo):
    """Access tokens that die after 15 minutes of the server's clock, so moving the clock makes
    the tablet refresh (the suite's default is 90 days)."""
    live_demo.app.state.settings.access_token_minutes = 15
    return live_demo


def device_key(t) -> DeviceKey:
    return DeviceKey.from_text(t.store.meta("device_key"))


def post_refresh(live, token: str, proof: str | None = None) -> requests.Response:
    headers = {PROOF_HEADER: proof} if proof is not None else {}
    return requests.post(
        live.url + REFRESH, json={"refresh_token": token}, headers=headers, timeout=10
    )


def proof_for(t, live, token: str, now, **kw) -> str:
    """What the tablet itself would sign (a test reads its key from the tablet's store)."""
    return device_key(t).proof(method="POST", url=live.url + REFRESH, refresh_token=token, now=now, **kw)  # fmt: skip


def session_of(engine, refresh_token: str) -> AuthSession:
    with Session(engine) as s:
        digest = security.refresh_digest(refresh_token)
        return s.exec(select(AuthSession).where(AuthSession.refresh_hash == digest)).one()


def works(live, access_token: str) -> bool:
    return requests.get(live.url + "/api/v1/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=10).status_code == 200  # fmt: skip


def test_the_first_login_makes_and_keeps_a_device_key_and_refresh_proves_it(
    short_tokens, tablets, engine, clock
):
    live = short_tokens
    t = tablets(live.url, "inspector", relogin=None)
    key = t.store.meta("device_key")
    assert key and len(key) == 43  # the private key, on the tablet only
    first = t.store.meta("refresh_token")
    bound = session_of(engine, first)
    assert bound.device_key == device_key(t).public_text() != key
    assert bound.device_id == t.store.device_id

    clock.advance(minutes=20)  # the access token is dead: the sync refreshes with a proof
    t.outbox.report_hazard(site_id=MALL, title="刷新后上传", severity="general")
    result = t.sync()
    assert result.ok, result.errors
    assert t.outbox.counts()["acknowledged"] == 1
    second = t.store.meta("refresh_token")
    assert second != first and session_of(engine, second).device_key == bound.device_key
    assert session_of(engine, first).replaced_by == session_of(engine, second).id
    with Session(engine) as s:
        assert len(s.exec(select(UsedProof)).all()) == 1  # its jti is spent

    DeviceSession(t.store).logout()  # the next user of this tablet: same tablet, same key
    assert t.store.meta("device_key") == key and t.store.meta("refresh_token") is None
    t.client.login("inspector", PASSWORD)
    assert session_of(engine, t.store.meta("refresh_token")).device_key == bound.device_key


@pytest.mark.parametrize("attack", ["no proof", "the thief's own key", "garbage"])
def test_a_copied_refresh_token_without_the_device_key_fails_and_revokes_the_family(
    short_tokens, tablets, clock, attack
):
    """A refresh token copied off the tablet (a backup of its token, a log) is shown without a
    proof the tablet's key signed: refused, and every session of that login is revoked, the
    tablet's included: its owner logs in again (and the thief holds nothing)."""
    live = short_tokens
    t = tablets(live.url, "inspector", relogin=None)
    stolen, access = t.store.meta("refresh_token"), t.store.meta("access_token")
    proof = {
        "no proof": None,
        "the thief's own key": DeviceKey.generate().proof(
            method="POST", url=live.url + REFRESH, refresh_token=stolen, now=clock.now()
        ),
        "garbage": "e30.e30.AAAA",
    }[attack]
    r = post_refresh(live, stolen, proof)
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"
    assert not works(live, access)  # the tablet's session ended at once
    # the key holder cannot bring it back with the same token either
    again = post_refresh(live, stolen, proof_for(t, live, stolen, clock.now()))
    assert again.status_code == 401
    clock.advance(minutes=20)
    with pytest.raises(LoginRequired):
        t.sync()
    t.client.login("inspector", PASSWORD)  # the owner logs in again; the thief has nothing
    assert t.sync().ok


def test_a_replayed_proof_fails_and_revokes(short_tokens, tablets, clock):
    """An eavesdropper captured a refresh request (token and proof) on its way. Replayed after
    the tablet's refresh went through, it would pass for a lost answer but for the proof's
    ``jti``: used once, so refused, and the family is revoked."""
    live = short_tokens
    t = tablets(live.url, "inspector", relogin=None)
    captured: list[requests.PreparedRequest] = []
    t.client.http.hooks["response"].append(
        lambda r, *a, **kw: captured.append(r.request) if r.request.url.endswith(REFRESH) else None
    )
    clock.advance(minutes=20)
    assert t.sync().ok
    [request] = captured
    replay = requests.post(
        request.url, data=request.body, headers=dict(request.headers), timeout=10
    )
    assert replay.status_code == 401 and replay.json()["code"] == "proof_replayed"
    assert not works(live, t.store.meta("access_token"))
    with pytest.raises(LoginRequired):
        t.sync()

    # the same proof twice, straight away: the second is refused whatever else it carries
    t.client.login("inspector", PASSWORD)
    token = t.store.meta("refresh_token")
    proof = proof_for(t, live, token, clock.now())
    assert post_refresh(live, token, proof).status_code == 200
    twice = post_refresh(live, token, proof)
    assert twice.status_code == 401 and twice.json()["code"] == "proof_replayed"


def test_a_stale_proof_fails_and_a_tablet_with_a_wrong_clock_signs_again_with_the_nonce(
    short_tokens, tablets, clock
):
    live = short_tokens
    t = tablets(live.url, "inspector", relogin=None)
    token = t.store.meta("refresh_token")
    for off in (timedelta(minutes=-10), timedelta(minutes=10)):
        stale = post_refresh(live, token, proof_for(t, live, token, clock.now() + off))
        assert stale.status_code == 401 and stale.json()["code"] == "stale_proof"
        assert stale.headers[NONCE_HEADER]
    late = clock.now() - timedelta(hours=1)
    forged = post_refresh(live, token, proof_for(t, live, token, late, nonce="1.00"))
    assert forged.status_code == 401 and forged.json()["code"] == "stale_proof"
    # a stale proof is a clock, not a thief: the session lives, and the nonce makes it fresh
    assert works(live, t.store.meta("access_token"))
    nonce = forged.headers[NONCE_HEADER]
    clock.advance(seconds=30)
    signed_again = post_refresh(live, token, proof_for(t, live, token, late, nonce=nonce))
    assert signed_again.status_code == 200
    clock.advance(minutes=5)  # the nonce itself goes stale
    newer = signed_again.json()["refresh_token"]
    old_nonce = post_refresh(live, newer, proof_for(t, live, newer, late, nonce=nonce))
    assert old_nonce.status_code == 401 and old_nonce.json()["code"] == "stale_proof"

    # the tablet's own code does that by itself: its clock is two days ahead of the server's
    skewed = tablets(
        live.url, "officer", clock=FixedClock(clock.now() + timedelta(days=2)), relogin=None
    )
    before = skewed.store.meta("refresh_token")
    clock.advance(minutes=20)
    result = skewed.sync()
    assert result.ok, result.errors
    assert skewed.store.meta("refresh_token") != before


def test_a_lost_refresh_answer_retried_an_hour_later_succeeds_until_the_successor_is_used(
    short_tokens, tablets, engine, clock
):
    """The refresh answer is lost on the way (the server rotated, the tablet never heard); the
    tablet goes down a mine for an hour. Back up, it refreshes with the token it still holds
    and a new proof: a new pair, and the pair it never received is dead. Once a successor has
    been used, the old token (even with the key: a restored backup) revokes the family."""
    live = short_tokens
    proxy = FaultProxy(live.port).start()
    try:
        t = tablets(proxy.url, "inspector", relogin=None, timeout=(5.0, 5.0), max_attempts=2)
        old = t.store.meta("refresh_token")
        clock.advance(minutes=20)
        t.client.http.close()  # the refresh opens a new connection: the one with the fault
        faults = iter([Fault(down_cut=0, stall=True, name="stall")])
        proxy.plan = lambda: next(faults, Fault())
        with pytest.raises(SyncFailed):
            t.client._refresh()
        assert proxy.stats["stall"] == 1
        assert t.store.meta("refresh_token") == old  # nothing arrived
        lost = session_of(engine, old).replaced_by
        assert lost is not None  # but the server did rotate

        clock.advance(hours=1)
        proxy.heal()
        result = t.sync()
        assert result.ok, result.errors
        retried = t.store.meta("refresh_token")
        assert retried != old and session_of(engine, retried).id != lost
        with Session(engine) as s:
            assert s.get(AuthSession, lost).revoked_at is not None  # never delivered, now dead
        assert session_of(engine, old).replaced_by == session_of(engine, retried).id

        clock.advance(minutes=20)
        assert t.sync().ok  # the tablet uses the successor: it refreshes it
        current = t.store.meta("refresh_token")
        assert current != retried
    finally:
        proxy.stop()
    late = post_refresh(live, old, proof_for(t, live, old, clock.now()))
    assert late.status_code == 401 and late.json()["code"] == "invalid_refresh_token"
    assert not works(live, t.store.meta("access_token"))  # the family is revoked
    assert post_refresh(live, current, proof_for(t, live, current, clock.now())).status_code == 401


def test_a_session_from_before_device_keys_logs_in_again_and_the_app_says_so(
    short_tokens, tablets, engine, clock, tmp_path
):
    """Sessions opened before this change (or by an old app) name a device but no key: their
    refresh is refused with ``device_key_required``; the app locks, says why in Chinese (or
    English), and its next login binds the key. A session naming no device (a script) is a
    plain bearer session and still refreshes."""
    live = short_tokens
    with requests.Session() as http:
        old_app = http.post(
            live.url + "/api/v1/auth/token",
            data={"username": "inspector", "password": PASSWORD, "device_id": "old-app-0001"},
            timeout=10,
        ).json()
        script = http.post(
            live.url + "/api/v1/auth/token",
            data={"username": "officer", "password": PASSWORD},
            timeout=10,
        ).json()
    refused = post_refresh(live, old_app["refresh_token"])
    assert refused.status_code == 401 and refused.json()["code"] == "device_key_required"
    assert post_refresh(live, script["refresh_token"]).status_code == 200
    bad_key = requests.post(
        live.url + "/api/v1/auth/token",
        data={"username": "inspector", "password": PASSWORD, "device_key": "not-a-key"},
        timeout=10,
    )
    assert bad_key.status_code == 422 and "device_key" in bad_key.json()["fields"]

    app = DeviceBackend(tmp_path / "upgraded", live.url, clock=clock)
    try:
        app.login("inspector", PASSWORD)
        with Session(engine) as s:  # as the migration leaves a session opened before it
            row = s.exec(select(AuthSession).where(AuthSession.device_id == app.device_id)).one()
            row.device_key = None
            s.add(row)
            s.commit()
        clock.advance(minutes=20)
        report = app.sync()
        assert report.errors == ["auth_expired:device_key"]
        assert app.current_user() is None  # locked, records kept
        zh = sync_error(type("App", (), {"t": Translator("zh_CN")})(), report.errors[0])
        en = sync_error(type("App", (), {"t": Translator("en")})(), report.errors[0])
        assert "绑定" in zh and "security key" in en
        app.login("inspector", PASSWORD)  # binds the key
        clock.advance(minutes=20)
        report = app.sync()
        assert report.errors == [], report.errors
        assert session_of(engine, app.store.meta("refresh_token")).device_key
    finally:
        app.close()
