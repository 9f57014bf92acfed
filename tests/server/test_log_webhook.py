"""Checkpoints pushed to an external witness by webhook, received by a real HTTP server on
loopback: each new signed checkpoint arrives as JSON with the shared secret; a receiver that
is down loses nothing (the job still succeeds and the checkpoint waits) and, once back, gets
what it missed in signing order; every attempt is logged."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import Session, col, select

from server.demo import did
from server.hazards import service as hazards
from server.scheduler import run_job
from server.testing import free_port
from server.tlog.keys import public_key
from server.tlog.models import Checkpoint
from server.tlog.webhook import SECRET_HEADER
from server.uow import unit_of_work
from shared import checkpoint as note
from shared.chain import Actor, EventType
from shared.roles import Role

SECRET = "witness-shared-secret"


class Receiver:
    """An auditor's endpoint: answers 503 while ``failing`` > 0 (counting down), else keeps
    each POSTed body and its secret header and answers 204."""

    def __init__(self) -> None:
        self.failing = 0
        self.received: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.refused = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if outer.failing > 0:
                    outer.failing -= 1
                    outer.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append(json.loads(body))
                outer.secrets.append(self.headers.get(SECRET_HEADER))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/checkpoints"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def _grow(engine: Any, now: Any) -> None:
    with unit_of_work(engine) as session:
        hazards.append(
            session,
            actor=Actor(did("user", "officer"), Role.officer),
            hazard_id=did("hazard", "安全出口被货物堵塞"),
            event_type=EventType.note,
            payload={"text": "webhook drill"},
            now=now,
        )


def _states(engine: Any) -> list[tuple[int, str | None, int]]:
    with Session(engine) as session:
        rows = session.exec(select(Checkpoint).order_by(col(Checkpoint.id))).all()
        return [(r.size, r.webhook_state, r.webhook_attempts) for r in rows]


def test_a_failing_receiver_gets_each_checkpoint_once_it_recovers(
    demo, settings, clock, receiver, caplog
):
    caplog.set_level(logging.INFO, logger="hazardchain.tlog")
    hooked = settings.model_copy(
        update={"log_webhook_url": receiver.url, "log_webhook_secret": SECRET}
    )
    receiver.failing = 1  # down at the first run
    first = run_job(demo, "log_checkpoint", clock.now(), hooked)
    assert first["signed"] is True  # the job itself succeeded
    assert first["webhook"] == {"pushed": 0, "pending": 1}
    assert receiver.refused == 1 and receiver.received == []
    assert _states(demo) == [(first["size"], "pending", 1)]
    failed = [r for r in caplog.records if r.getMessage().startswith("checkpoint not delivered")]
    assert failed and failed[0].levelname == "WARNING"
    assert failed[0].size == first["size"] and "503" in failed[0].error

    _grow(demo, clock.now())  # back up, and the log grew meanwhile
    second = run_job(demo, "log_checkpoint", clock.now(), hooked)
    assert second["signed"] is True and second["size"] == first["size"] + 1
    assert second["webhook"] == {"pushed": 2, "pending": 0}
    assert [b["size"] for b in receiver.received] == [first["size"], second["size"]]
    assert receiver.secrets == [SECRET, SECRET]
    key = public_key(settings)
    for body in receiver.received:  # each is the signed note itself, checkable on its own
        cp = note.verify(body["note"], key, settings.log_origin)
        assert (cp.size, cp.root_hex) == (body["size"], body["root"])
        assert body["origin"] == settings.log_origin
    assert _states(demo) == [(first["size"], "sent", 2), (second["size"], "sent", 1)]
    delivered = [
        r for r in caplog.records if r.getMessage() == "checkpoint delivered to the webhook"
    ]
    assert [r.size for r in delivered] == [first["size"], second["size"]]

    # nothing new: nothing posted again
    third = run_job(demo, "log_checkpoint", clock.now(), hooked)
    assert third["signed"] is False and third["webhook"] == {"pushed": 0, "pending": 0}
    assert len(receiver.received) == 2


def test_an_unreachable_receiver_neither_fails_the_job_nor_loses_the_checkpoint(
    demo, settings, clock, receiver
):
    nobody = settings.model_copy(update={"log_webhook_url": f"http://127.0.0.1:{free_port()}/gone"})
    first = run_job(demo, "log_checkpoint", clock.now(), nobody)
    assert first["signed"] is True and first["webhook"] == {"pushed": 0, "pending": 1}
    with Session(demo) as session:
        row = session.exec(select(Checkpoint)).one()
        assert row.webhook_state == "pending" and "ConnectError" in (row.webhook_error or "")
    # the witness moves to a receiver that answers: the waiting checkpoint goes first
    moved = settings.model_copy(update={"log_webhook_url": receiver.url})
    _grow(demo, clock.now())
    second = run_job(demo, "log_checkpoint", clock.now(), moved)
    assert second["webhook"] == {"pushed": 2, "pending": 0}
    assert [b["size"] for b in receiver.received] == [first["size"], second["size"]]
    assert receiver.secrets == [None, None]  # no secret set, no header


def test_no_webhook_set_means_nothing_is_owed(demo, settings, clock):
    first = run_job(demo, "log_checkpoint", clock.now(), settings)
    assert "webhook" not in first
    assert _states(demo) == [(first["size"], None, 0)]


def test_a_webhook_url_that_is_not_http_is_refused_at_startup(settings):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="log_webhook_url"):
        type(settings).model_validate(
            {**settings.model_dump(), "log_webhook_url": "ftp://example.org/x"}
        )
