"""Notifications: stored per user and read through the API; delivered by email (a real SMTP
server from aiosmtpd on loopback) and by webhook (a local receiver), as a daily digest or at
once, each message exactly once even when the job runs twice."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import select

from server.notifications import service as notifications
from server.notifications.models import Notification, NotificationDelivery
from server.testing import free_port
from tests.jobs.world import World

T_DIGEST = datetime(2026, 3, 3, 0, 1, tzinfo=UTC)  # 08:01 in Wuhai, the day after T0


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


class Receiver:
    """A webhook endpoint on loopback; fails the first ``fail`` requests with 500."""

    def __init__(self, fail: int = 0) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.fail = fail
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                status = 500 if len(outer.requests) <= outer.fail else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def _due_soon(world: World) -> str:
    """A hazard due in two days, owned by the mall's account: its reminder reaches the
    enterprise user, officer and officer2 (the remind job)."""
    hid = world.report("inspector", "mall", "消防通道堵塞")
    world.assign(hid, days=2, responsible_user_id=world.user_ids["enterprise"])
    return hid


def test_immediate_by_email_and_daily_digest(world: World, clock, run, job_settings, smtp):
    inbox, port = smtp
    settings = job_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    with world.session() as s:
        notifications.set_preference(
            s, world.user_ids["officer"], {"mode": "immediate"}, clock.now()
        )
    _due_soon(world)
    assert run("remind", clock.now())["reminders"] == 1
    out = run("deliver", clock.now(), settings)
    assert out == {"queued": 1, "sent": 1, "failed": 0}  # officer at once; digests wait for 08:00
    assert run("deliver", clock.now(), settings) == {"queued": 0, "sent": 0, "failed": 0}
    [(to, msg)] = inbox.messages
    assert to == ["officer@example.org"] and subject(msg).startswith("整改期限提醒：消防通道堵塞")
    with world.session() as s:
        d = s.exec(select(NotificationDelivery)).one()
    assert msg["Message-ID"] == f"<{d.id}@hazardchain>" and d.status == "sent"

    clock.set(T_DIGEST - timedelta(minutes=2))  # 07:59 the next day
    assert run("deliver", clock.now(), settings)["sent"] == 0
    clock.set(T_DIGEST)
    out = run("deliver", clock.now(), settings)
    assert out == {"queued": 1, "sent": 1, "failed": 0}  # enterprise; officer2 has no address
    assert run("deliver", clock.now(), settings) == {"queued": 0, "sent": 0, "failed": 0}
    (to, msg) = inbox.messages[1]
    assert to == ["boss@mall.example.org"]
    assert subject(msg) == "隐患一条链每日汇总 2026-03-03（1条）"
    assert "消防通道堵塞" in msg.get_payload(decode=True).decode()
    with world.session() as s:
        pending = s.exec(select(Notification).where(Notification.delivered_at.is_(None))).all()
    assert pending == []  # officer2's is stored (in-app) and handed over with nothing to send


def test_digest_collects_a_day_into_one_message(world: World, clock, run, job_settings, smtp):
    inbox, port = smtp
    settings = job_settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
    for i in range(3):
        hid = world.report("inspector", "mall", f"隐患{i}")
        world.assign(hid, days=1 + i, responsible_user_id=world.user_ids["enterprise"])
    run("remind", clock.now())
    clock.set(T_DIGEST)
    run("deliver", clock.now(), settings)
    boss = [m for to, m in inbox.messages if to == ["boss@mall.example.org"]]
    assert len(boss) == 1 and subject(boss[0]).endswith("（3条）")


def test_webhook_is_signed_retried_and_sent_once(world: World, clock, run, job_settings):
    settings = job_settings.model_copy(update={"webhook_secret": "s3cret"})
    with Receiver(fail=1) as hook:
        with world.session() as s:
            notifications.set_preference(
                s,
                world.user_ids["officer"],
                {"mode": "immediate", "webhook_url": hook.url},
                clock.now(),
            )
        _due_soon(world)
        run("remind", clock.now())
        assert run("deliver", clock.now(), settings) == {"queued": 1, "sent": 0, "failed": 0}
        assert run("deliver", clock.now(), settings)["sent"] == 0  # backing off
        clock.advance(minutes=3)
        assert run("deliver", clock.now(), settings)["sent"] == 1
        assert run("deliver", clock.now(), settings)["sent"] == 0
    assert len(hook.requests) == 2
    (h1, b1), (h2, b2) = hook.requests
    assert h1["X-HazardChain-Delivery"] == h2["X-HazardChain-Delivery"] and b1 == b2
    expected = hmac.new(b"s3cret", b2, hashlib.sha256).hexdigest()
    assert h2["X-HazardChain-Signature"] == f"sha256={expected}"
    payload = json.loads(b2)
    assert payload["kind"] == "immediate" and payload["subject"].startswith("整改期限提醒")
    with world.session() as s:
        d = s.exec(select(NotificationDelivery)).one()
    assert (d.status, d.attempts, d.last_error[:9]) == ("sent", 2, "HTTPStatu")


def test_a_dead_endpoint_gives_up_after_max_attempts(world: World, clock, run, job_settings):
    settings = job_settings.model_copy(update={"delivery_max_attempts": 2})
    with world.session() as s:
        notifications.set_preference(
            s,
            world.user_ids["officer"],
            {"mode": "immediate", "webhook_url": f"http://127.0.0.1:{free_port()}/closed"},
            clock.now(),
        )
    _due_soon(world)
    run("remind", clock.now())
    assert run("deliver", clock.now(), settings)["failed"] == 0
    clock.advance(hours=1)
    assert run("deliver", clock.now(), settings)["failed"] == 1
    clock.advance(days=1)
    assert run("deliver", clock.now(), settings) == {"queued": 0, "sent": 0, "failed": 0}


def test_notifications_api(world: World, clock, run, live):
    _due_soon(world)
    run("remind", clock.now())
    officer, officer2 = live.login("officer"), live.login("officer2")
    page = officer.get("/notifications").json()
    assert page["total"] == 1 and page["unread"] == 1
    [n] = page["items"]
    assert n["kind"] == "reminder" and n["hazard_id"] and n["read_at"] is None
    assert officer2.post(f"/notifications/{n['id']}/read").status_code == 404  # not theirs
    r = officer.post(f"/notifications/{n['id']}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert officer.get("/notifications", params={"unread": "true"}).json()["total"] == 0
    assert officer2.post("/notifications/read-all").json() == {"marked": 1}
    assert officer2.get("/notifications").json()["unread"] == 0

    pref = officer.get("/notifications/preferences").json()
    assert pref == {"mode": "digest", "email": True, "webhook_url": None, "updated_at": None}
    r = officer.put(
        "/notifications/preferences",
        json={"mode": "immediate", "webhook_url": "https://hooks.example.org/x"},
    )
    assert r.status_code == 200
    assert (
        r.json()["mode"] == "immediate" and r.json()["webhook_url"] == "https://hooks.example.org/x"
    )
    assert officer.put("/notifications/preferences", json={"mode": "hourly"}).status_code == 422
    assert (
        officer.put("/notifications/preferences", json={"webhook_url": "ftp://x"}).status_code
        == 422
    )
    r = officer.put("/notifications/preferences", json={"webhook_url": None})
    assert r.json()["webhook_url"] is None and r.json()["mode"] == "immediate"
    with live.client() as anon:
        assert anon.get("/notifications").status_code == 401
