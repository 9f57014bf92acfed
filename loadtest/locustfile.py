"""N simulated tablets doing a district's day against one HazardChain server (``make loadtest``,
``bench/loadtest.py``; headless, loopback only, bounded by ``--run-time``).

Each locust user is one tablet built from the tablet's own core (``mobile_app/core``: its
local SQLite store, outbox, drafts and sync client), so the requests are exactly the ones a
tablet sends — login with its device key, resumable photo uploads, pushes of the outbox in
batches, pulls of the change feed, the task and inspection lists — only their HTTP goes
through locust's session, which times each one by endpoint (ids folded into ``{id}``).

The day, per tablet (of ten, seven are inspectors, two officers, one the officer who verifies):
- inspector: a visit is an inspection of the demo mall (one or two failed items with photos,
  the rest marked 未检查 with a reason, both signatures), a sync; then a note and a photo on
  a hazard it found, a sync;
- officer: reports a hazard with a photo and assigns it, a sync; notes it, submits the
  rectification with an evidence photo, a sync;
- verifying officer: verifies the rectifications waiting for review that fall to it (the
  hazards are shared out by id, so no two tablets judge the same one), a sync.

Every tablet refreshes its session once (the refresh proof signed with its device key) and
syncs at the start and between visits. An op the server refuses, a sync that could not finish
and a request answered with an error all count as failures: the run must end with none.

Settings (environment): ``LOADTEST_WAIT`` seconds between visits ("0.5,2"),
``LOADTEST_PHOTO_BYTES`` (about 60000: a JPEG of noise that size), ``LOADTEST_DIR`` for the
tablets' stores (a temporary folder).
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.clients import HttpSession

from mobile_app.core.drafts import Drafts
from mobile_app.core.outbox import Outbox
from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import SyncClient, SyncResult
from server.demo import did
from shared.checklist import Template
from shared.findings import finding_hazard_id

PASSWORD = os.environ.get("LOADTEST_PASSWORD", "demo-password")
MALL = did("site", "万达广场乌海店")
TEMPLATE, VERSION, PROFILE = "crowded_venue", 1, "mall"
REASON = "时间所限，本次未检查，下次补查"
ID = re.compile(r"/([0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
# tablet n's role is ROLES[n % 10]: seven inspectors, two officers and a verifying officer in
# ten, spread so that a handful of tablets already has each
ROLES = ("inspector", "officer", "inspector", "verifier", "inspector")
ROLES = (*ROLES, "inspector", "officer", "inspector", "inspector", "inspector")
USERNAMES = {"inspector": "inspector", "officer": "officer", "verifier": "officer3"}
_numbers = itertools.count()
_root: Path | None = None


def endpoint(method: str, url: str) -> str:
    """``PATCH /blobs/{id}``: one line of the report per endpoint, not per photo."""
    path = urlsplit(url).path.removeprefix("/api/v1")
    return f"{method} {ID.sub('/{id}', path)}"


def _expected(method: str, url: str, r: Any) -> bool:
    """Answers the tablet's protocols ask for on purpose: a ``HEAD`` of a photo the server does
    not hold yet (404) is the upload's first step; an inclusion proof for an event logged after
    the checkpoint (422 on ``size``) tells the witness to prove it on the next sync."""
    if method == "HEAD" and r.status_code == 404:
        return True
    if method == "GET" and "/log/inclusion" in url and r.status_code == 422:
        try:
            return "size" in (r.json().get("fields") or {})
        except ValueError:
            return False
    return False


class TabletHttp(HttpSession):
    """Locust's timed session, as the tablet's ``requests`` session (``_expected`` answers are
    not failures); a request that got no answer is a failure, and raises as on the tablet."""

    def request(self, method: str, url: str, name: str | None = None, **kwargs: Any):  # type: ignore[override]
        kwargs.pop("catch_response", None)
        with super().request(
            method, url, name=name or endpoint(method, url), catch_response=True, **kwargs
        ) as r:
            if r.status_code == 0:  # no answer: locust keeps the exception
                r.failure(f"{type(r.error).__name__}: {r.error}")
            elif r.status_code < 400 or _expected(method, url, r):
                r.success()
            else:
                r.failure(f"HTTP {r.status_code}: {r.text[:200]}")
        if r.status_code == 0 and isinstance(r.error, Exception):
            raise r.error  # to the sync client, which retries as on a tablet
        return r


def _wait() -> tuple[float, float]:
    low, _, high = os.environ.get("LOADTEST_WAIT", "0.5,2").partition(",")
    return float(low), float(high or low)


def photo(rng: random.Random) -> bytes:
    """A JPEG of noise near ``LOADTEST_PHOTO_BYTES`` (noise does not compress: the size holds),
    unique per call like a camera's."""
    from PIL import Image

    side = max(16, int((int(os.environ.get("LOADTEST_PHOTO_BYTES", "60000")) / 1.6) ** 0.5))
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


@events.test_start.add_listener
def _stores(environment, **_kw) -> None:
    global _root
    base = os.environ.get("LOADTEST_DIR")
    _root = Path(base) if base else Path(tempfile.mkdtemp(prefix="hazardchain-loadtest-"))
    _root.mkdir(parents=True, exist_ok=True)


@events.test_stop.add_listener
def _drop_stores(environment, **_kw) -> None:
    if _root is not None and not os.environ.get("LOADTEST_DIR"):
        shutil.rmtree(_root, ignore_errors=True)


class Tablet(HttpUser):
    """One tablet of the district (its role from its number: see the module's docstring)."""

    wait_time = between(*_wait())

    def on_start(self) -> None:
        self.number = next(_numbers)
        self.rng = random.Random(self.number)
        self.role = ROLES[self.number % len(ROLES)]
        self.username = USERNAMES[self.role]
        assert _root is not None
        self.store = LocalStore(_root / f"tablet-{self.number}-{os.getpid()}.db")
        self.http = TabletHttp(
            base_url=self.host, request_event=self.environment.events.request, user=self
        )
        self.tablet = SyncClient(
            self.store, self.host, http=self.http, timeout=(10.0, 120.0), max_attempts=3
        )
        self.outbox = Outbox(self.store)
        self.drafts = Drafts(self.store)
        self.tablet.login(self.username, PASSWORD)
        self.sync("first sync")
        self.tablet._refresh()  # once a day, with the device key's proof

    def on_stop(self) -> None:
        self.http.close()
        self.store.close()

    # ---------------------------------------------------------------- helpers

    def sync(self, what: str) -> SyncResult:
        """One sync round, reported as its own line (``SYNC``); refused ops or a round cut
        short are failures."""
        started = time.perf_counter()
        result = self.tablet.sync()
        problem = None
        if result.errors:
            problem = f"sync failed: {result.errors}"
        elif result.rejected:
            rows = self.outbox.rejections()
            problem = f"{result.rejected} op(s) refused: {[r['code'] for r in rows][:5]}"
        self.environment.events.request.fire(
            request_type="SYNC",
            name=what,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=result.bytes_received,
            exception=RuntimeError(problem) if problem else None,
            context={},
        )
        return result

    def template(self) -> Template:
        row = self.store.read("SELECT data FROM template WHERE id = ?", [f"{TEMPLATE}:{VERSION}"])
        return Template.model_validate(json.loads(row[0]["data"])["content"])

    # ---------------------------------------------------------------- the day

    @task
    def visit(self) -> None:
        {"inspector": self.inspect, "officer": self.report, "verifier": self.verify}[self.role]()

    def inspect(self) -> None:
        template = self.template()
        draft_id = self.drafts.open(MALL, TEMPLATE, VERSION, PROFILE)
        yes_no = [
            i
            for i in template.items()
            if i.answer == "yes_no" and not i.photo_required and i.applies_to(PROFILE)
        ]
        failed = self.rng.sample(yes_no, self.rng.choice((1, 2)))
        for item in failed:
            fail = "no" if item.pass_when == "yes" else "yes"
            sha = self.outbox.add_photo(photo(self.rng))["sha256"]
            self.drafts.save_answer(draft_id, item.id, value=fail, photos=[sha], note="现场拍照")
        passed = next(i for i in yes_no if i not in failed)
        self.drafts.save_answer(draft_id, passed.id, value=passed.pass_when, note="现场核实")
        self.drafts.mark_unanswered(draft_id, template, "unchecked", REASON)
        sig = {w: self.outbox.add_photo(photo(self.rng))["sha256"] for w in ("i", "r")}
        self.drafts.save_fields(
            draft_id,
            signatures={"inspector": sig["i"], "representative": sig["r"]},
            representative_name="王店长",
        )
        self.drafts.submit(draft_id, template, {})
        self.sync("inspection")
        hazard_id = finding_hazard_id(draft_id, failed[0].id)
        self.outbox.append_event(hazard_id, "note", {"text": "店长称今日整改"})
        self.outbox.add_photos(hazard_id, [photo(self.rng)], caption="补拍")
        self.sync("note and photo")

    def report(self) -> None:
        evidence = self.outbox.add_photo(photo(self.rng))["sha256"]
        hazard_id = self.outbox.report_hazard(
            site_id=MALL,
            title=f"负载测试：安全出口堵塞 {self.number}-{self.rng.randrange(10**6)}",
            severity="general",
            description="货架挡住安全出口",
            photos=[evidence],
        )
        self.outbox.append_event(
            hazard_id,
            "assigned",
            {"responsible_unit": "万达广场乌海店", "responsible_person": "陈安全员"},
        )
        self.sync("report and assign")
        self.outbox.append_event(hazard_id, "note", {"text": "已电话通知企业"})
        after = self.outbox.add_photo(photo(self.rng))["sha256"]
        self.outbox.append_event(
            hazard_id,
            "rectification_submitted",
            {"description": "货架已移走，通道畅通", "evidence": [after]},
        )
        self.sync("rectification")

    def verify(self) -> None:
        tablets = self.environment.runner.target_user_count or 1
        verifiers = [n for n in range(tablets) if ROLES[n % len(ROLES)] == "verifier"]
        share = verifiers.index(self.number) if self.number in verifiers else 0
        me = self.store.meta("user_id")
        for row in self.store.read("SELECT id, view FROM hazard WHERE state = 'in_review'"):
            view = json.loads(row["view"])
            if int(row["id"][:8], 16) % len(verifiers) != share or view.get("last_rectifier") == me:
                continue
            if view.get("severity") != "general" or view.get("site_id") != MALL:
                continue
            self.outbox.append_event(row["id"], "verified", {"comment": "现场复查合格"})
        self.sync("verification")
