"""What an action would send, without sending it: the safe mode of ``POST .../actions/test``.

An action that calls out prepares its request with the same code its ``run`` sends
(:meth:`.http.OutboundHttp.prepare`, ``SendEmail.prepare``), and :class:`Preview` shows it: the
method, URL, headers and body of an HTTP call (the first hop: the key and signature added as they
would be at ``now``), or the SMTP envelope and the whole MIME message of an email. Credentials are
``[redacted]``: the ``Authorization`` an ``httpx`` auth would add, every header
:func:`.outgoing.is_credential_header` names, a URL whose path is a credential (Slack), and every
credential value of the action settings wherever it appears.

An action that only computes platform commands, events and variables (a local catalog family,
``beez.executor.engine.attempts.is_local``) is previewed by running it: it has no effect outside
its result. Any other action without ``preview`` has no safe mode and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import httpx

from beez.executor.actions.base import ActionContext, ActionResult
from beez.executor.actions.outgoing import OutgoingRequest, is_credential_header, safe_url

__all__ = ["REDACTED", "Preview", "Previewing", "http_preview"]

REDACTED = "[redacted]"


@dataclass
class Preview:
    """The exact request of an action, secrets redacted."""

    kind: str
    """``http`` or ``smtp``."""
    method: str = ""
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    """For ``smtp``: ``host``, ``port``, ``mail_from``, ``rcpt_to``."""


@runtime_checkable
class Previewing(Protocol):
    """An action that can show the request it would send."""

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult:
        """The request :meth:`run` would send for ``ctx``, built by the same code (or the skip
        result it would report: no consent, no address)."""
        ...


def _shown(name: str, value: str, secret_names: frozenset[str]) -> str:
    """A header's value, or its scheme and ``[redacted]`` when it carries a credential."""
    lowered = name.lower()
    if "idempotency" in lowered:  # I-Twilio-Idempotency-Token names a token but holds the step's key
        return value
    if not (is_credential_header(name) or lowered in secret_names):
        return value
    scheme, space, _ = value.partition(" ")
    if space and scheme.isalpha():  # "Bearer <token>", "Basic <credentials>": keep the scheme
        return f"{scheme} {REDACTED}"
    return REDACTED


def http_preview(outgoing: OutgoingRequest, now: datetime, *, secret_path: bool = False) -> Preview:
    """The first hop of ``outgoing`` as it would go out at ``now``."""
    headers = outgoing.hop_headers(int(now.timestamp()))
    if isinstance(outgoing.auth, httpx.BasicAuth):
        headers["Authorization"] = "Basic "
    elif outgoing.auth is not None:
        headers["Authorization"] = ""
    shown = {name: _shown(name, value, outgoing.secret_names) for name, value in headers.items()}
    body = (outgoing.content or b"").decode("utf-8", errors="replace")
    url = outgoing.url
    if secret_path:  # the path is the credential (a Slack webhook)
        url = safe_url(url, with_path=False).replace("/...", f"/{REDACTED}")
    return Preview(kind="http", method=outgoing.method, url=url, headers=shown, body=body)
