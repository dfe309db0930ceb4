"""OAuth2 refresh-token grants (RFC 6749 §6) for HubSpot, Salesforce and Google connections.

``POST <base URL><token path>`` with a form body ``grant_type=refresh_token``, ``client_id``,
``client_secret`` and ``refresh_token``; the answer carries ``access_token`` and (HubSpot,
Google) ``expires_in``. Salesforce answers without ``expires_in`` (the session lifetime is an
org setting) and with ``instance_url``, the host its API calls go to: the token is taken to
last :data:`DEFAULT_LIFETIME_S`, and ``instance_url`` is kept in the connection's credentials.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode

from beez.executor.actions.base import PermanentError
from beez.executor.actions.http import OutboundHttp
from beez.executor.connections.providers import ProviderSpec
from beez.executor.connections.store import TokenGrant

__all__ = ["DEFAULT_LIFETIME_S", "refresh_grant"]

DEFAULT_LIFETIME_S = 900
"""How long an access token is used when the answer does not say (Salesforce)."""


async def refresh_grant(
    http: OutboundHttp, spec: ProviderSpec, base_url: str, credentials: dict[str, str], now: datetime
) -> TokenGrant:
    """Exchanges the connection's refresh token for an access token; raises the HTTP errors of
    :class:`OutboundHttp` (a refused refresh token is a 400/401: permanent)."""
    form = {
        "grant_type": "refresh_token",
        "client_id": credentials["client_id"],
        "client_secret": credentials["client_secret"],
        "refresh_token": credentials["refresh_token"],
    }
    response = await http.request(
        "POST",
        base_url.rstrip("/") + spec.token_path,
        now=now,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        content=urlencode(form).encode(),
    )
    try:
        answer = response.json()
        token = str(answer["access_token"])
    except (ValueError, KeyError, TypeError):
        raise PermanentError(
            f"{spec.provider} token endpoint answered without an access_token",
            category="oauth_invalid_answer",
        ) from None
    try:
        seconds = max(0, int(float(answer.get("expires_in") or 0)))
    except (TypeError, ValueError):
        seconds = 0
    extra = {"instance_url": str(answer["instance_url"])} if answer.get("instance_url") else None
    refresh = answer.get("refresh_token")
    return TokenGrant(
        access_token=token,
        expires_at=now + timedelta(seconds=seconds or DEFAULT_LIFETIME_S),
        refresh_token=str(refresh) if refresh else None,
        extra=extra,
    )
