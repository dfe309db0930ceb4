"""The signatures providers put on the callbacks they send us, computed once for every checker.

The gateway checks callbacks to the platform's own provider accounts with the secrets it is given;
the executor checks callbacks to an organization's own accounts with that connection's secrets,
which never leave it (decision 0041). Both compute the same values here, and both compare them in
constant time with :func:`matches`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["matches", "twilio_signature", "whatsapp_signature"]


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's ``X-Twilio-Signature`` of a POST to ``url`` with ``params``: base64 HMAC-SHA1,
    keyed with the auth token, of the URL followed by every parameter sorted by name, name and
    value concatenated."""
    signed = url + "".join(f"{name}{value}" for name, value in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def whatsapp_signature(app_secret: str, body: bytes) -> str:
    """The Cloud API's ``X-Hub-Signature-256`` of a webhook body: ``sha256=`` and the hex
    HMAC-SHA256 of the raw body, keyed with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def matches(expected: str, given: str) -> bool:
    """Whether ``given`` is ``expected``, compared in constant time (an empty expected never matches)."""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())
