"""Access tokens of a Google service account: the JWT bearer grant (RFC 7523) FCM connections use.

An FCM connection stores the service account's JSON key (``service_account_json``: its
``client_email``, ``private_key`` and ``private_key_id``, and ``project_id``). A token is got by
``POST <fcm_token_url>`` with a form body ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
and ``assertion=<JWT>``, the JWT signed RS256 with the key and claiming ``iss`` (the account's
email), ``scope`` (:data:`FCM_SCOPE`), ``aud`` (the token URL), ``iat`` and ``exp`` (one hour
later, Google's maximum) (developers.google.com/identity/protocols/oauth2/service-account).
Google answers ``{"access_token", "expires_in", "token_type": "Bearer"}``.

The token is kept and refreshed like the OAuth2 ones (:meth:`.store.ConnectionStore.access_token`:
once per connection, under the row's lock), so a burst of pushes signs one JWT.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from beez.executor.actions.base import PermanentError
from beez.executor.actions.http import OutboundHttp
from beez.executor.connections.store import TokenGrant

__all__ = ["FCM_SCOPE", "JWT_BEARER", "ServiceAccount", "jwt_bearer_grant", "service_account"]

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ServiceAccount:
    """The parts of a service account JSON key a token grant needs."""

    def __init__(
        self, client_email: str, private_key: rsa.RSAPrivateKey, key_id: str, project_id: str
    ) -> None:
        self.client_email = client_email
        self.private_key = private_key
        self.key_id = key_id
        self.project_id = project_id

    def assertion(self, audience: str, scope: str, now: datetime) -> str:
        """The signed JWT (RS256) of a token request at ``now``."""
        header: dict[str, Any] = {"alg": "RS256", "typ": "JWT"}
        if self.key_id:
            header["kid"] = self.key_id
        issued = int(now.timestamp())
        claims = {
            "iss": self.client_email,
            "scope": scope,
            "aud": audience,
            "iat": issued,
            "exp": issued + ASSERTION_LIFETIME_S,
        }
        signed = ".".join(_b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
        signature = self.private_key.sign(signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signed}.{_b64(signature)}"


def service_account(credentials: dict[str, str]) -> ServiceAccount:
    """The connection's service account; a key that cannot be used is a permanent error (the
    message never quotes the key)."""
    try:
        key = json.loads(credentials.get("service_account_json", ""))
    except ValueError:
        raise PermanentError(
            "fcm: service_account_json is not JSON", category="invalid_credentials"
        ) from None
    if not isinstance(key, dict) or not key.get("client_email") or not key.get("private_key"):
        raise PermanentError(
            "fcm: service_account_json needs client_email and private_key", category="invalid_credentials"
        )
    try:
        private = serialization.load_pem_private_key(str(key["private_key"]).encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise PermanentError(
            "fcm: the service account's private_key is not a PEM private key", category="invalid_credentials"
        ) from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise PermanentError("fcm: the service account's key is not RSA", category="invalid_credentials")
    project = str(credentials.get("project_id") or key.get("project_id") or "")
    return ServiceAccount(str(key["client_email"]), private, str(key.get("private_key_id") or ""), project)


async def jwt_bearer_grant(
    http: OutboundHttp, token_url: str, credentials: dict[str, str], now: datetime
) -> TokenGrant:
    """Exchanges a fresh signed assertion for an access token; raises the HTTP errors of
    :class:`OutboundHttp` (Google refuses a bad or revoked key with 400 ``invalid_grant``:
    permanent)."""
    account = service_account(credentials)
    form = {"grant_type": JWT_BEARER, "assertion": account.assertion(token_url, FCM_SCOPE, now)}
    response = await http.request(
        "POST",
        token_url,
        now=now,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        content=urlencode(form).encode(),
    )
    try:
        answer = response.json()
        token = str(answer["access_token"])
        seconds = max(0, int(float(answer.get("expires_in") or 0)))
    except (ValueError, KeyError, TypeError):
        raise PermanentError(
            "fcm: the token endpoint answered without an access_token", category="oauth_invalid_answer"
        ) from None
    return TokenGrant(access_token=token, expires_at=now + timedelta(seconds=seconds or ASSERTION_LIFETIME_S))
