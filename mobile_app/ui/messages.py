"""Errors in plain words: what happened, and that the data is safe, never a stack trace."""

from __future__ import annotations

from typing import Any

from mobile_app.core.backend import ActionRefused, LoginFailed, NeedsConfirmation


def plain_error(app: Any, exc: BaseException) -> str:
    t = app.t
    if isinstance(exc, LoginFailed):
        return {
            "bad_credentials": t("Wrong user name or password."),
            "offline_first_login": t(
                "No network. The first login on this tablet needs the server; later logins work offline."
            ),
            "other_user_data": t(
                "Another user's records on this tablet are not synced yet. Sync them first."
            ),
            "device_revoked": t(
                "An administrator withdrew this tablet. Records on it are kept; ask them to restore it."
            ),
            "upgrade_required": t(
                "The server needs a newer app. Update it; nothing on this tablet is lost."
            ),
        }.get(exc.code, t("The server could not log you in: ") + str(exc))
    if isinstance(exc, ActionRefused):
        return str(exc)
    if isinstance(exc, NeedsConfirmation):
        return str(exc)
    name = type(exc).__name__
    if name in ("Offline", "ConnectionError", "Timeout"):
        return t("No network. Your work is saved on this tablet and will be sent later.")
    return t("Something went wrong: ") + str(exc)


def sync_error(app: Any, error: str) -> str:
    t = app.t
    if error.startswith("offline:"):
        return t("No network. Your work is saved on this tablet and will be sent later.")
    if error == "auth_expired:device_key":
        return t(
            "Log in once more to bind this tablet's security key. Nothing on this tablet is lost."
        )
    if error == "auth_expired":
        return t("Your login has expired. Log out and in again; nothing on this tablet is lost.")
    if error.startswith("device_revoked:"):
        return t(
            "An administrator withdrew this tablet. Records on it are kept; ask them to restore it."
        )
    if error.startswith("upgrade_required:"):
        return t("The server needs a newer app. Update it; nothing on this tablet is lost.")
    if error.startswith("server error"):
        return t("The server had a problem. Nothing was lost; sync will try again.")
    return t("Sync stopped: ") + error
