"""SQL filters that keep a query inside a caller's scope (404 outside, never a hint)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, or_

from server.auth.scope import Scope


def scope_filter(scope: Scope, district_col: Any, site_col: Any) -> Any:
    """A WHERE clause for rows carrying a district and a site column."""
    if scope.everything:
        return True
    clauses = []
    if scope.district_ids:
        clauses.append(district_col.in_(scope.district_ids))
    if scope.site_ids:
        clauses.append(site_col.in_(scope.site_ids))
    return or_(*clauses) if clauses else false()
