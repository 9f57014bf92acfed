"""What the screens need from the device's data layer, and nothing more.

Screens call these methods only through ``App.call_local`` / ``App.call_network`` (worker
threads), never directly on the main thread. The implementation is a thin adapter over
``mobile_app/core`` (store, outbox, drafts, session, sync client): ``device_backend.py``.

Records handed to screens are plain dicts (JSON-able), so a screen never holds a database row
or a live object across threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mobile_app.core.sync_client import Progress, SyncResult
from shared.checklist import Template


class NeedsConfirmation(Exception):
    """An action that would lose data; the UI asks, then repeats it with ``force=True``."""

    def __init__(self, count: int, message: str) -> None:
        super().__init__(message)
        self.count = count


class LoginFailed(Exception):
    """Wrong user or password, or offline unlock without a cached session for that user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ActionRefused(Exception):
    """A domain rule said no (locally, before queueing); ``message`` is in the user's language,
    ``code`` the rule's code (e.g. ``photo_required``) and ``fields`` what it names."""

    def __init__(self, message: str, code: str = "", fields: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.fields = fields or {}


# what the progress bar shows (records and bytes of the current phase): the core's own
SyncProgress = Progress


@dataclass
class SyncReport(SyncResult):
    """One sync run as the screens see it: the core's counts, errors as the screen's codes
    (``offline:…``, ``auth_expired``, ``server error …``), and when it ended."""

    finished_at: str = ""
    photos_fetched: int = 0  # previews of others' photos fetched after the pull


ProgressCallback = Callable[[SyncProgress], None]


class Backend(Protocol):
    """The device data layer as the UI sees it."""

    device_id: str

    # -- session --------------------------------------------------------------------------
    def server_url(self) -> str: ...
    def set_server_url(self, url: str) -> None: ...
    def login(self, username: str, password: str) -> dict[str, Any]:
        """Online first; with no network, unlock a session cached by an earlier online login."""

    def current_user(self) -> dict[str, Any] | None: ...
    def cached_username(self) -> str | None:
        """Who logged in last on this tablet (pre-filled on the login screen)."""

    def logout(self, force: bool = False) -> None:
        """Raises NeedsConfirmation while unsynced records exist and ``force`` is False."""

    def setting(self, key: str, default: Any = None) -> Any: ...
    def set_setting(self, key: str, value: Any) -> None: ...

    # -- reads (local, work offline) -------------------------------------------------------
    def home(self) -> dict[str, Any]: ...
    def sites(self, query: str = "") -> list[dict[str, Any]]: ...
    def site(self, site_id: str) -> dict[str, Any]: ...
    def hazards(self, **filters: Any) -> list[dict[str, Any]]: ...
    def hazard(self, hazard_id: str) -> dict[str, Any]: ...
    def templates(self, industry: str | None = None) -> list[dict[str, Any]]: ...
    def template(self, template_id: str, version: int) -> Template: ...
    def blob(self, sha256: str) -> bytes | None: ...
    def photo(self, sha256: str, variant: str = "thumb") -> dict[str, Any]:
        """A hazard's photo as held here: ``status`` local/cached/missing/failed, ``data``."""

    def photo_storage(self) -> dict[str, int]:
        """Bytes of others' photos kept for offline use, and the budget for them."""

    def set_photo_budget(self, mb: int) -> dict[str, int]: ...

    # -- inspections -----------------------------------------------------------------------
    def open_draft(self, site_id: str, template_id: str, version: int, profile: str | None): ...
    def drafts(self) -> list[dict[str, Any]]: ...
    def draft(self, draft_id: str) -> dict[str, Any]: ...
    def save_answer(self, draft_id: str, item_id: str, **changes: Any) -> dict[str, Any]: ...
    def save_draft_fields(self, draft_id: str, **changes: Any) -> None: ...
    def findings(self, draft_id: str) -> list[dict[str, Any]]: ...
    def completion(self, draft_id: str) -> dict[str, Any]: ...
    def mark_unanswered(self, draft_id: str, mark: str, reason: str) -> int: ...
    def submit_draft(self, draft_id: str) -> dict[str, Any]: ...

    # -- hazard actions ----------------------------------------------------------------------
    def add_blob(self, data: bytes) -> str: ...
    def append_event(self, hazard_id: str, event_type: str, payload: dict[str, Any]) -> None: ...
    def report_hazard(
        self, site_id: str, title: str, severity: str, description: str, photos: list[str]
    ) -> str:
        """A hazard seen outside a checklist; returns its id (queued, shown pending)."""

    def open_site_code(self, payload: str) -> dict[str, Any]:
        """A scanned or typed site QR code: ``site_id`` and the suggested ``template_id`` and
        ``profile``; raises ``ActionRefused`` for a code that is not ours or a site not held."""

    # -- sync --------------------------------------------------------------------------------
    def fetch_photo(self, sha256: str, variant: str = "thumb") -> dict[str, Any]:
        """Fetch a photo now (network lane); offline is ``missing``, not an exception."""

    def probe(self) -> bool: ...
    def sync(self, progress: ProgressCallback | None = None) -> SyncReport: ...
    def sync_state(self) -> dict[str, Any]: ...
