"""``hazardchain serve --workers 2 --no-scheduler`` beside ``hazardchain scheduler``, built by
the CLI as docs/operations.md tells an operator: a tablet logs in on one worker, then uses the
token and refreshes its session on the other (nothing the workers must agree on lives in a
worker's memory), syncs a hazard with a photo; the workers run no jobs, and the scheduler's own
process runs them against the same database, which the workers' /readyz then reports."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
import requests
from cli_server import HAZARDCHAIN, CliServer, drop_database, empty_database

from mobile_app.core.outbox import Outbox
from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import SyncClient
from server.demo import demo_png, did

MALL = did("site", "万达广场乌海店")
PASSWORD = "demo-password"
HEAD_TIMEOUT = 3  # seconds for a request head (the default is 10)


class WorkersServer(CliServer):
    serve_args = ("--workers", "2", "--no-scheduler")

    def workers(self) -> list[psutil.Process]:
        assert self.proc is not None
        kids = psutil.Process(self.proc.pid).children()
        return [p for p in kids if any("spawn_main" in part for part in p.cmdline())]

    def serving(self) -> set[int]:
        """The workers holding an open connection on the port (this test makes the only ones:
        which worker answers a connection is the kernel's choice, this is how a test sees it)."""
        return {
            w.pid
            for w in self.workers()
            for c in w.net_connections(kind="tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port
        }

    def until_every_worker_answers(self, wait: float = 180.0) -> None:
        """``serve`` answers once one worker is up; on a loaded machine the other may still be
        importing the app for a while, and the kernel then gives it no connection."""
        deadline, answered = time.monotonic() + wait, set()
        while len(answered) < len(self.workers()) or len(answered) < 2:
            assert time.monotonic() < deadline, f"only {answered} answered:\n{self.log_tail()}"
            self.quiet(wait=30)
            with requests.Session() as http:
                assert http.get(self.url + "/healthz", timeout=30).status_code == 200
                answered |= self.serving()

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def quiet(self, wait: float = 10.0) -> None:
        """Until no connection is open (a closed one lingers until its worker reads the EOF)."""
        deadline = time.monotonic() + wait
        while self.serving():
            assert time.monotonic() < deadline, f"a connection stayed open:\n{self.log_tail()}"
            time.sleep(0.05)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def workers_server(request) -> Iterator[WorkersServer]:
    """One per database for the module (the scheduler test runs last: none beat before it)."""
    backend = request.param
    pg = request.getfixturevalue("pg_uri") if backend == "postgresql" else None
    workdir = Path(tempfile.mkdtemp(prefix=f"hazardchain-workers-{backend}-"))
    url = empty_database(backend, workdir, pg)
    server = WorkersServer(url, workdir)
    # a keep-alive connection outlives the test's pauses on a loaded machine: the tablet's
    # requests stay on the worker the test chose for them
    server.env["HAZARDCHAIN_KEEP_ALIVE_SECONDS"] = "120"
    server.env["HAZARDCHAIN_HEADER_TIMEOUT_SECONDS"] = str(HEAD_TIMEOUT)
    server.start()
    server.until_every_worker_answers()
    yield server
    assert server.stop() == 0, server.log.read_text()
    drop_database(url, pg)
    shutil.rmtree(workdir, ignore_errors=True)


def _session_on_another_worker(server: WorkersServer, than: int) -> tuple[requests.Session, int]:
    """A requests session whose one pooled connection is held by a worker other than ``than``."""
    for _ in range(100):
        server.quiet()
        http = requests.Session()
        assert http.get(server.url + "/healthz", timeout=10).status_code == 200
        (pid,) = server.serving()
        if pid != than:
            return http, pid
        http.close()
    pytest.fail(f"the kernel gave every new connection to one worker:\n{server.log_tail()}")


def test_a_tablet_logs_in_on_one_worker_and_refreshes_on_another(workers_server, tmp_path):
    server = workers_server
    assert len(server.workers()) == 2
    store = LocalStore(tmp_path / "tablet.db")
    login_http = requests.Session()
    client = SyncClient(store, server.url, http=login_http, backoff_base=0.01, backoff_cap=0.05)
    client.login("inspector", PASSWORD)
    (login_worker,) = server.serving()  # the login's keep-alive connection
    login_http.close()

    client.http, other = _session_on_another_worker(server, than=login_worker)
    first = client.sync()  # the access token signed by the other worker is good here
    assert first.ok, first.errors
    assert store.read("SELECT count(*) AS n FROM template")[0]["n"] > 0

    refresh_token = store.meta("refresh_token")
    store.set_meta("access_token", "expired")  # as after 15 minutes: 401, refresh, carry on
    outbox = Outbox(store)
    photo = outbox.add_photo(demo_png("several-workers", (200, 40, 40)))["sha256"]
    hazard_id = outbox.report_hazard(
        site_id=MALL, title="两个工作进程：消防通道堆放杂物", severity="general", photos=[photo]
    )
    result = client.sync()
    assert result.ok and result.pushed == 1 and result.rejected == 0, result.errors
    assert result.uploaded_files == 1
    assert store.meta("refresh_token") != refresh_token  # rotated, on the other worker
    assert server.serving() == {other}  # the whole sync, refresh included, went through it
    client.http.close()

    # /metrics on the worker that did not take the push counts it all the same
    scrape, pid = _session_on_another_worker(server, than=other)
    with scrape:
        text = scrape.get(server.url + "/metrics", timeout=30).text
    assert (
        pid == login_worker and _sample(text, 'hazardchain_sync_ops_total{result="applied"}') >= 1
    )

    with server.login("officer") as officer:  # whichever worker answers
        hazard = officer.get(f"/hazards/{hazard_id}")
    assert hazard.status_code == 200, hazard.text
    assert hazard.json()["photos"] == [photo] and hazard.json()["chain_ok"]


def test_every_worker_cuts_off_a_slow_request_head_by_the_settings(workers_server):
    """The guarded protocol reaches the workers with this installation's limits (uvicorn hands
    each worker its config by pickling, which a class made at run time cannot survive)."""
    server = workers_server
    server.quiet()
    cut: set[int] = set()
    for _ in range(40):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            deadline = time.monotonic() + 5
            while not server.serving() and time.monotonic() < deadline:
                time.sleep(0.02)
            (worker,) = server.serving()
            started = time.monotonic()
            assert s.recv(1024) == b""  # closed by the server, with no answer
            assert time.monotonic() - started < HEAD_TIMEOUT + 3
        cut.add(worker)
        server.quiet()
        if len(cut) == 2:
            return
    pytest.fail(f"only worker(s) {cut} took the slow connections:\n{server.log_tail()}")


def test_a_kept_alive_connection_idles_past_the_head_deadline(workers_server):
    """Between a tablet's requests its connection waits for no head: only the keep-alive ends
    it (the head deadline closed such connections under load just as tablets sent on them)."""
    server = workers_server
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

    def answer(s: socket.socket) -> bytes:
        got = b""
        while b'"ok"}' not in got:
            chunk = s.recv(4096)
            assert chunk, f"closed by the server after {got!r}"
            got += chunk
        return got

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        for _ in range(2):
            s.sendall(request)
            assert answer(s).startswith(b"HTTP/1.1 200")
            time.sleep(HEAD_TIMEOUT + 2)
        s.sendall(request)
        assert answer(s).startswith(b"HTTP/1.1 200")


def _sample(metrics: str, name: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _ready(server: WorkersServer) -> httpx.Response:
    return httpx.get(server.url + "/readyz", timeout=10)


def test_the_scheduler_runs_in_its_own_process_beside_the_workers(workers_server):
    server = workers_server
    # the workers run no jobs: no scheduler has ever beaten
    not_yet = _ready(server)
    assert not_yet.status_code == 503 and not not_yet.json()["checks"]["scheduler"]["ok"]

    log = server.workdir / "scheduler.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(HAZARDCHAIN), "scheduler"],
            env=server.env,
            cwd=server.workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while _ready(server).status_code != 200:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"{_ready(server).text}\n{log.read_text()}"
            time.sleep(0.2)
        ran = lambda: {  # noqa: E731
            job for job in ("flag_overdue", "escalate", "daily_summary")
            if f'job ran  job="{job}"' in log.read_text()
        }  # fmt: skip
        while ran() != {"flag_overdue", "escalate", "daily_summary"}:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log.read_text()
    # escalations the scheduler's process wrote are what every worker serves
    with server.login("admin") as admin:
        page = admin.get("/hazards", params={"limit": 200}).json()["items"]
        events = [admin.get(f"/hazards/{h['id']}").json()["events"] for h in page]
    escalated = [e for chain in events for e in chain if e["type"] == "escalated"]
    assert escalated
    assert "job ran" not in server.log.read_text()  # and none ran in the workers
