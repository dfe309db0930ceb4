""" "Test connection" for the providers of issue #14's second integrations set: one harmless,
documented read each, against the provider's base URL setting (or the connection's site).

- Jira: ``GET /rest/api/3/myself`` (the API token's user), HTTP Basic auth.
- Buffer: the GraphQL query ``{ account { id } }``.
- Mailchimp: ``GET /ping`` (the health check), HTTP Basic auth.
- Intercom: ``GET /me`` (the token's admin).
- Pipedrive: ``GET /api/v1/users/me`` with ``x-api-token``.
- Close: ``GET /api/v1/me/``, HTTP Basic auth.
- Asana: ``GET /users/me``.
- monday.com: the GraphQL query ``{ me { id } }``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from beez.executor.actions.http import OutboundHttp, json_body
from beez.executor.actions.providers.auth import basic
from beez.executor.actions.providers.graphql import graphql_errors
from beez.executor.connections.providers import Provider, resolve_base_url

__all__ = ["PROBES", "probe"]


@dataclass(frozen=True)
class _Read:
    method: str
    path: str
    headers: Callable[[Mapping[str, str]], dict[str, str]]
    query: str = ""
    """A GraphQL query (sent as ``{"query": ...}``): errors in a 200 answer fail the test."""


def _bearer(field: str) -> Callable[[Mapping[str, str]], dict[str, str]]:
    return lambda c: {"Authorization": f"Bearer {c[field]}"}


PROBES: dict[Provider, _Read] = {
    Provider.JIRA: _Read(
        "GET", "/rest/api/3/myself", lambda c: {"Authorization": basic(c["email"], c["api_token"])}
    ),
    Provider.BUFFER: _Read("POST", "", _bearer("api_key"), "{ account { id } }"),
    Provider.MAILCHIMP: _Read("GET", "/ping", lambda c: {"Authorization": basic("beez", c["api_key"])}),
    Provider.INTERCOM: _Read(
        "GET", "/me", lambda c: {**_bearer("access_token")(c), "Intercom-Version": "2.11"}
    ),
    Provider.PIPEDRIVE: _Read("GET", "/api/v1/users/me", lambda c: {"x-api-token": c["api_token"]}),
    Provider.CLOSE: _Read("GET", "/api/v1/me/", lambda c: {"Authorization": basic(c["api_key"], "")}),
    Provider.ASANA: _Read("GET", "/users/me", _bearer("access_token")),
    Provider.MONDAY: _Read("POST", "", lambda c: {"Authorization": c["api_token"]}, "{ me { id } }"),
}


async def probe(
    http: OutboundHttp, provider: Provider, base_url: str, credentials: Mapping[str, str], now: datetime
) -> tuple[bool, str, int] | None:
    """(ok, detail, status) of the provider's test read, or None for a provider not listed here.
    HTTP failures raise as :meth:`OutboundHttp.request` does (the caller reports them)."""
    read = PROBES.get(provider)
    if read is None:
        return None
    try:
        base = resolve_base_url(base_url, credentials).rstrip("/")
    except ValueError as exc:
        return False, str(exc), 0
    headers = {"Accept": "application/json", **read.headers(credentials)}
    content = None
    if read.query:
        headers["Content-Type"] = "application/json"
        content = json_body({"query": read.query})
    response = await http.request(
        read.method,
        f"{base}{read.path}",
        now=now,
        headers=headers,
        content=content,
        credential_headers=("x-api-token",),
    )
    if read.query:
        errors = graphql_errors(response.json())
        if errors:
            return False, f"{provider}: {errors[0].get('message', 'error')}", response.status_code
    return True, f"{provider} answered {read.method} {read.path or '/'}", response.status_code
