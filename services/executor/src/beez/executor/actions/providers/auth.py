"""Credentials as the providers of this package document them in headers."""

from __future__ import annotations

import base64

from beez.executor.actions.base import ConnectionAccess, PermanentError
from beez.executor.connections.providers import resolve_base_url

__all__ = ["basic", "site_base_url"]


def basic(user: str, password: str) -> str:
    """An HTTP Basic ``Authorization`` value (RFC 7617)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def site_base_url(base_url: str, connection: ConnectionAccess) -> str:
    """``base_url`` with the connection's own part filled in (Jira's site, Mailchimp's data
    center); a connection whose credentials cannot fill it fails the step."""
    try:
        return resolve_base_url(base_url, connection.credentials).rstrip("/")
    except ValueError as exc:
        raise PermanentError(str(exc), category="connection") from exc
