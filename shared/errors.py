"""Errors a user can read: a stable code plus Chinese and English text.

A code's HTTP status is decided once, in ``HTTP_STATUS``; the server answers every refusal
with it and the app shows ``message(lang)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Refusal:
    """Why an action is not allowed; a value, so domain checks can return it without raising."""

    code: str
    zh: str
    en: str
    fields: dict[str, str] = field(default_factory=dict)

    def message(self, lang: str = "zh") -> str:
        return self.en if lang.startswith("en") else self.zh


def _codes(status: int, *codes: str) -> dict[str, int]:
    return dict.fromkeys(codes, status)


# Every refusal code and the one HTTP status it is answered with, so a caller can rely on the
# status and a service only names what went wrong (tests/server/test_refusal_status.py checks
# that every code written in server/ and shared/ is here).
HTTP_STATUS: Mapping[str, int] = {
    # the request itself cannot be read (headers, encoding, body)
    **_codes(400, "malformed_request", "client_disconnected", "server_too_old"),
    # who is asking is unknown, or their session has ended
    **_codes(
        401,
        "not_authenticated",
        "bad_credentials",
        "device_key_required",
        "invalid_refresh_token",
        "proof_replayed",
        "stale_proof",
    ),
    # known, but this caller (role, assignment, device) may not do it
    **_codes(
        403,
        "forbidden",
        "role_not_allowed",
        "not_addressee",
        "not_responsible",
        "checklist_not_yours",
        "not_your_task",
        "device_revoked",
    ),
    # absent or outside the caller's scope (the two look the same)
    **_codes(404, "not_found"),
    **_codes(405, "method_not_allowed"),
    # well formed, but the record's current state (or another record) stands in the way
    **_codes(
        409,
        "conflict",
        "already_exists",
        "duplicate",
        "id_reuse",
        "hazard_id_conflict",
        "username_taken",
        "device_taken",
        "invalid_state",
        "upload_busy",
        "offset_mismatch",
        # the chain's state rules (shared/events.py)
        "already_flagged",
        "already_reported",
        "already_spot_checked",
        "closer_is_verifier",
        "extension_pending",
        "major_needs_regulator",
        "no_extension_request",
        "no_instruction",
        "no_owner",
        "not_overdue",
        "not_reported",
        "not_self_closed",
        "not_self_found",
        "plan_incomplete",
        "verifier_is_rectifier",
        # backups and database copies (server/backups/)
        "backup_exists",
        "backup_damaged",
        "backup_mismatch",
        "bad_manifest",
        "no_manifest",
        "copy_incomplete",
        "database_in_use",
        "pg_tools_missing",
        "restore_incomplete",
        "source_not_at_head",
        "target_not_empty",
    ),
    # the device's sync cursor is too old: download everything again
    **_codes(410, "reset_required"),
    **_codes(413, "too_large"),
    **_codes(415, "unsupported_type", "unsupported_encoding"),
    # invalid input: ``fields`` names each problem
    **_codes(
        422,
        "invalid_input",
        "invalid_cursor",
        "invalid_sort",
        "invalid_assignee",
        "invalid_answer",
        "invalid_profile",
        "unknown_template",
        "unknown_action",
        "unsupported_op_version",
        "site_not_found",
        "hash_mismatch",
        "photo_pending",
        "photo_required",
        "evidence_unchecked",
        "checklist_mismatch",
        "industry_mismatch",
        "inspection_incomplete",
        "import_invalid",
        "day_not_over",
        "qr_empty",
        "qr_foreign",
        # the chain's payload rules (shared/events.py)
        "before_photo_required",
        "deadline_in_past",
        "evidence_required",
        "extension_not_later",
        "invalid_escalation",
        "invalid_field",
        "invalid_gps",
        "invalid_photos",
        "invalid_severity",
        "invalid_supervision",
        "invalid_text",
        "invalid_time",
        "missing_field",
        "plan_empty",
        "same_unit",
        "too_long",
        "too_many_photos",
        "unknown_event_type",
    ),
    **_codes(426, "upgrade_required"),
    **_codes(429, "too_many_attempts"),
    **_codes(500, "internal_error"),
    # the server's transparency-log key is not usable: an operator must fix it
    **_codes(503, "log_key_missing", "log_key_invalid"),
}


def http_status(refusal: Refusal) -> int:
    """The status a refusal is answered with. A code missing from the table (a test forbids
    it) still gets a 4xx: bad input if it names fields, else a conflict with the state."""
    return HTTP_STATUS.get(refusal.code) or (422 if refusal.fields else 409)


class DomainError(Exception):
    """A refused action, raised from services; its status comes from ``HTTP_STATUS``."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(f"{refusal.code}: {refusal.en}")
        self.refusal = refusal

    @property
    def status(self) -> int:
        return http_status(self.refusal)

    @classmethod
    def of(cls, code: str, zh: str, en: str, fields: dict[str, str] | None = None) -> DomainError:
        return cls(Refusal(code, zh, en, fields or {}))


def not_found(what_zh: str = "记录", what_en: str = "record") -> DomainError:
    """Out of scope and absent look the same, so a caller learns nothing about others' data."""
    return DomainError.of("not_found", f"{what_zh}不存在", f"{what_en} not found")
