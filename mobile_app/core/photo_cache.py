"""Photos of the hazards in this user's scope that other people took: the enterprise sees the
inspector's defect photo, the inspector the enterprise's rectification photo for 复查 on site.

After each sync the tablet fetches a preview of every photo its hazards cite
(``GET /blobs/{sha}/thumb``, open hazards first, the most recently changed first); a full
photo only when someone taps it (``GET /blobs/{sha}``, checked against the SHA-256 the chain
cites). Both are kept under ``<blobs>/cache/<variant>/`` for offline use, within a budget
(``budget_bytes``; the ``photo_budget_mb`` setting): past it the least recently viewed are
deleted first. Only fetched files are ever evicted: the photos this tablet took live apart
(``<blobs>/<sha256>``, the outbox's) and stay, uploaded or not, as the copy the sync sends.

What a screen asks for is a ``Photo``: the bytes when the tablet holds them, else why not —
``missing`` (not downloaded yet: offline, or the fetch never ran) or ``failed`` (the server
answered no: not uploaded by its taker yet, out of scope, not a picture; tried again at the
next sync or tap).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlite_utils import Database

from mobile_app.core.store import LocalStore
from mobile_app.core.sync_client import Progress, ServerRefused, SyncClient, SyncFailed
from shared.chain import OPEN_STATES
from shared.clock import Clock, SystemClock, to_iso
from shared.sync_wire import sniff_mime

log = logging.getLogger("hazardchain.tablet.photos")
Variant = Literal["thumb", "full"]
MB = 1024 * 1024
DEFAULT_BUDGET_MB = 256
PREFETCH_LIMIT = 2000  # previews per sync: enough for every open hazard of a district


@dataclass(frozen=True)
class Photo:
    """A photo as a screen shows it. ``status``: ``local`` (taken on this tablet), ``cached``
    (fetched, kept), ``fetched`` (fetched but larger than the budget leaves room for: shown,
    not kept), ``missing`` (not downloaded) or ``failed`` (``error`` says why)."""

    sha256: str
    status: str
    data: bytes | None = None
    error: str = ""

    @property
    def shown(self) -> bool:
        return self.data is not None


@dataclass
class PrefetchReport:
    fetched: int = 0
    failed: int = 0
    left: int = 0  # not fetched: the budget is full of this run's previews, or offline
    bytes: int = 0
    offline: bool = False


class PhotoCache:
    def __init__(
        self,
        store: LocalStore,
        *,
        budget_bytes: int = DEFAULT_BUDGET_MB * MB,
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.budget_bytes = budget_bytes
        self.clock = clock or SystemClock()

    # ---------------------------------------------------------------- files

    def path(self, sha256: str, variant: Variant) -> Path:
        return self.store.blob_dir / "cache" / variant / sha256

    def _own(self, sha256: str) -> bytes | None:
        """A photo this tablet took (the outbox's copy), whatever its upload state."""
        if not self.store.read("SELECT 1 FROM blob WHERE sha256 = ?", [sha256]):
            return None
        try:
            return self.store.blob_path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def _cached(self, sha256: str, variant: Variant) -> bytes | None:
        rows = self.store.read(
            "SELECT 1 FROM photo_cache WHERE sha256 = ? AND variant = ? AND error IS NULL",
            [sha256, variant],
        )
        if not rows:  # a file without its row is a leftover (a cleared user's), never shown
            return None
        try:
            return self.path(sha256, variant).read_bytes()
        except FileNotFoundError:
            return None

    def _error(self, sha256: str, variant: Variant) -> str:
        rows = self.store.read(
            "SELECT error FROM photo_cache WHERE sha256 = ? AND variant = ? AND error IS NOT NULL",
            [sha256, variant],
        )
        return rows[0]["error"] if rows else ""

    # ---------------------------------------------------------------- reading (offline)

    def get(self, sha256: str, variant: Variant) -> Photo:
        """What the tablet holds for this photo, without the network; a shown photo counts
        as viewed (it moves to the back of the eviction queue). A full photo's preview
        stands in for the thumbnail, and the full photo for a missing preview."""
        own = self._own(sha256)
        if own is not None:
            return Photo(sha256, "local", own)
        order: tuple[Variant, ...] = ("thumb", "full") if variant == "thumb" else ("full",)
        for v in order:
            data = self._cached(sha256, v)
            if data is not None:
                self._touch(sha256, v)
                return Photo(sha256, "cached", data)
        error = self._error(sha256, variant)
        return Photo(sha256, "failed" if error else "missing", None, error)

    # ---------------------------------------------------------------- fetching

    def fetch(self, client: SyncClient, sha256: str, variant: Variant) -> Photo:
        """Fetch now (a tap, or a preview the screen lacks); the network being away is a
        ``missing`` photo with ``error="offline"``, not an exception."""
        held = self.get(sha256, variant)
        if held.shown:
            return held
        try:
            return self._download(client, sha256, variant, keep_from=self._next_use())
        except SyncFailed:
            return Photo(sha256, "missing", None, "offline")

    def _download(self, client: SyncClient, sha256: str, variant: Variant, keep_from: int) -> Photo:
        try:
            data = client.fetch_blob(sha256, thumb=variant == "thumb")
        except ServerRefused as exc:
            return self._failed(sha256, variant, exc.code or f"http_{exc.status}")
        if data is None:
            return self._failed(sha256, variant, "not_found")
        if sniff_mime(data[:16]) is None:
            return self._failed(sha256, variant, "not_an_image")
        if variant == "full" and hashlib.sha256(data).hexdigest() != sha256:
            return self._failed(sha256, variant, "hash_mismatch")  # not what the chain cites
        if not self._make_room(len(data), keep_from):  # shown now, not kept
            return Photo(sha256, "fetched", data, "budget")
        target = self.path(sha256, variant)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # a preview can always be fetched again: no fsync
        now = to_iso(self.clock.now())
        self.store.write(
            lambda db: db.execute(
                "INSERT INTO photo_cache (sha256, variant, size, used, fetched_at, error)"
                " VALUES (?, ?, ?, (SELECT coalesce(max(used), 0) + 1 FROM photo_cache), ?, NULL)"
                " ON CONFLICT (sha256, variant) DO UPDATE SET size = excluded.size,"
                " used = excluded.used, fetched_at = excluded.fetched_at, error = NULL",
                [sha256, variant, len(data), now],
            )
        )
        return Photo(sha256, "cached", data)

    def _failed(self, sha256: str, variant: Variant, error: str) -> Photo:
        log.info("photo not fetched", extra={"sha256": sha256, "variant": variant, "error": error})
        self.store.write(
            lambda db: db.execute(
                "INSERT INTO photo_cache (sha256, variant, size, used, error) VALUES (?, ?, 0, 0, ?)"
                " ON CONFLICT (sha256, variant) DO UPDATE SET error = excluded.error",
                [sha256, variant, error],
            )
        )
        self.path(sha256, variant).unlink(missing_ok=True)
        return Photo(sha256, "failed", None, error)

    def wanted(self) -> list[str]:
        """Every photo the hazards on this tablet cite (defect, rectification, verification,
        added), open hazards first, the most recently changed first."""
        rows = self.store.read("SELECT state, updated_at, view FROM hazard ORDER BY id")
        rows.sort(key=lambda r: r["updated_at"] or "", reverse=True)
        rows.sort(key=lambda r: r["state"] not in OPEN_STATES)  # stable: open first
        out: dict[str, None] = {}
        for r in rows:
            for sha in json.loads(r["view"]).get("photos") or []:
                out.setdefault(sha, None)
        return list(out)

    def prefetch(self, client: SyncClient, limit: int = PREFETCH_LIMIT) -> PrefetchReport:
        """After a pull: a preview of each photo the tablet lacks, until the budget is full
        of this run's previews (older views make room; this run's never do) or the network
        goes. Photos refused before are asked for again: their takers may have sent them."""
        report = PrefetchReport()
        held = {
            r["sha256"]
            for r in self.store.read(
                "SELECT sha256 FROM photo_cache WHERE error IS NULL UNION SELECT sha256 FROM blob"
            )
        }
        todo = [s for s in self.wanted() if s not in held][:limit]
        keep_from = self._next_use()
        progress = Progress("photos", records_total=len(todo))
        client.tell(progress)
        for i, sha in enumerate(todo):
            try:
                got = self._download(client, sha, "thumb", keep_from)
            except SyncFailed:
                report.offline = True
                report.left = len(todo) - i
                break
            if got.error == "budget":  # the budget holds this run's previews only
                report.left = len(todo) - i
                break
            if got.shown:
                report.fetched += 1
                report.bytes += len(got.data or b"")
            else:
                report.failed += 1
            progress.records_done += 1
            progress.bytes_done = report.bytes
            client.tell(progress)
        self.sweep()
        log.info("photos prefetched", extra=vars(report))
        return report

    # ---------------------------------------------------------------- the budget

    def usage(self) -> int:
        """Bytes of fetched photos held (the photos this tablet took are not counted)."""
        return self.store.read("SELECT coalesce(sum(size), 0) AS n FROM photo_cache")[0]["n"]

    def _next_use(self) -> int:
        return self.store.read("SELECT coalesce(max(used), 0) + 1 AS n FROM photo_cache")[0]["n"]

    def _touch(self, sha256: str, variant: Variant) -> None:
        self.store.write(
            lambda db: db.execute(
                "UPDATE photo_cache SET used = (SELECT max(used) + 1 FROM photo_cache)"
                " WHERE sha256 = ? AND variant = ?",
                [sha256, variant],
            )
        )

    def _make_room(self, size: int, keep_from: int) -> bool:
        """Evict the least recently viewed fetched files until ``size`` more bytes fit; never
        one used at or after ``keep_from`` (this run's). False when they cannot fit."""
        if size > self.budget_bytes:
            return False
        need = self.usage() + size - self.budget_bytes
        if need <= 0:
            return True
        victims = self.store.read(
            "SELECT sha256, variant, size FROM photo_cache WHERE error IS NULL AND used < ?"
            " ORDER BY used, sha256",
            [keep_from],
        )
        chosen: list[dict] = []
        for v in victims:
            if need <= 0:
                break
            chosen.append(v)
            need -= v["size"]
        if need > 0:
            return False
        self._evict(chosen)
        return True

    def evict_to_budget(self) -> int:
        """Bring the cache within a (lowered) budget; returns how many files went."""
        over = self.usage() - self.budget_bytes
        if over <= 0:
            return 0
        chosen = []
        for v in self.store.read(
            "SELECT sha256, variant, size FROM photo_cache WHERE error IS NULL ORDER BY used, sha256"
        ):
            if over <= 0:
                break
            chosen.append(v)
            over -= v["size"]
        self._evict(chosen)
        return len(chosen)

    def _evict(self, rows: list[dict]) -> None:
        def forget(db: Database) -> None:
            for v in rows:
                db.execute(
                    "DELETE FROM photo_cache WHERE sha256 = ? AND variant = ?",
                    [v["sha256"], v["variant"]],
                )

        self.store.write(forget)  # the rows first: a file without its row is never shown
        for v in rows:
            self.path(v["sha256"], v["variant"]).unlink(missing_ok=True)
        if rows:
            log.info("photos evicted", extra={"files": len(rows), "budget": self.budget_bytes})

    def sweep(self) -> int:
        """Delete cache files no row names (another user's, cleared at login; a crash)."""
        named = {
            (r["variant"], r["sha256"])
            for r in self.store.read("SELECT sha256, variant FROM photo_cache WHERE error IS NULL")
        }
        gone = 0
        for variant in ("thumb", "full"):
            folder = self.store.blob_dir / "cache" / variant
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                if path.suffix == ".tmp" or (variant, path.name) not in named:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        gone += 1
        return gone
