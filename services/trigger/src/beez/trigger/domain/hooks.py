"""Inbound webhooks, the pure parts: tokens, signatures, the contact id path and the event id.

- **Token.** ``<organization>.<43 url-safe random characters>`` (256 bits). The gateway reads the
  organization from it (it must call the trigger as some organization) and the trigger looks the
  hook up by ``(organization, SHA-256 of the whole token)``: only the hash is stored, so a copy of
  the table opens no hook. The organization in the URL is no secret; the random part is.
- **Signature.** ``X-Beez-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>`` is
  HMAC-SHA256 of ``"<t>.<raw body>"`` under the hook's secret: the format the executor signs its
  own outgoing webhooks with (decision 0019), minus ``kid``. Several ``v1`` are allowed (any one
  matching passes). Compared in constant time; ``t`` must be within a tolerance of now, so a
  captured request cannot be replayed later (and within the window, the idempotency key or the
  event id dedupe).
- **Contact id path.** Dotted keys into the posted JSON (``data.customer.id``); a segment of
  digits also indexes a list. Checked when the hook is created; at delivery a missing or
  non-scalar value means an event without contact, not an error.
- **Event id.** With an ``Idempotency-Key`` (or ``X-Request-Id``), the event id is derived from
  the hook id and the key, so a provider retrying a delivery publishes the same event, which
  ingestion then drops as a duplicate. Without one, every POST is a new event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

DEFAULT_EVENT_TYPE = "webhook.received"
"""The event type of a hook created without one (the ``api_webhook_received`` trigger's)."""

SIGNATURE_HEADER = "X-Beez-Signature"
IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Request-Id")
"""Headers whose value makes a delivery idempotent, the first present winning."""

MAX_PATH_LENGTH = 200
MAX_PATH_DEPTH = 16
MAX_KEY_LENGTH = 200
MAX_CONTACT_ID_LENGTH = 200

_ORG = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_RANDOM = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SEGMENT = re.compile(r"^[A-Za-z0-9_$@-]{1,100}$")
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


class SignatureError(ValueError):
    """A delivery whose signature is missing or wrong; the message says why, never the secret."""


class PayloadError(ValueError):
    """A body that is neither JSON nor a form."""


def new_token(org_id: str) -> str:
    """A fresh token of ``org_id``'s hook: the organization, a dot, 256 random bits."""
    return f"{org_id}.{secrets.token_urlsafe(32)}"


def token_org(token: str) -> str | None:
    """The organization a well-formed token names, or None for anything else."""
    org, dot, random = token.rpartition(".")
    if not dot or not _ORG.match(org) or not _RANDOM.match(random):
        return None
    return org


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex. The random part has 256 bits, so no salt."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_prefix(token: str) -> str:
    """The organization and the first 4 random characters, to tell tokens apart in a list."""
    org, _, random = token.rpartition(".")
    return f"{org}.{random[:4]}"


def new_secret() -> str:
    """A fresh signing secret (256 bits)."""
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` value for ``body`` sent at ``timestamp`` (what a sender computes)."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The whole ``X-Beez-Signature`` value for ``body`` sent at ``timestamp``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify_signature(header: str, secret: str, body: bytes, now: datetime, tolerance_s: float) -> None:
    """Returns when ``header`` signs ``body`` with ``secret`` recently enough; raises
    :class:`SignatureError` otherwise. Every candidate is compared in constant time."""
    if not header.strip():
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif name == "v1" and _HEX.match(value):
            candidates.append(value.lower())
    if timestamp is None or not candidates:
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: expected t=<unix seconds>,v1=<hex>")
    if abs(now.timestamp() - timestamp) > tolerance_s:
        raise SignatureError(f"signature timestamp is more than {int(tolerance_s)} s away from now")
    expected = sign(secret, timestamp, body)
    matched = False
    for candidate in candidates:
        matched |= hmac.compare_digest(candidate, expected)
    if not matched:
        raise SignatureError("signature does not match the body")


def contact_path_problem(path: str) -> str | None:
    """Why ``path`` is not a usable contact id path, or None (empty: no path, fine)."""
    if not path:
        return None
    if len(path) > MAX_PATH_LENGTH:
        return f"must be at most {MAX_PATH_LENGTH} characters"
    segments = path.split(".")
    if len(segments) > MAX_PATH_DEPTH:
        return f"must have at most {MAX_PATH_DEPTH} segments"
    for segment in segments:
        if not _SEGMENT.match(segment):
            return (
                "must be dot-separated keys of letters, digits, '_', '-', '$' or '@' "
                f"(such as data.customer.id); {segment!r} is not one"
            )
    return None


def contact_id_at(payload: Any, path: str) -> str:
    """The contact id at ``path`` in ``payload``: a string, or an integer written out; else ``""``."""
    if not path:
        return ""
    value = payload
    for segment in path.split("."):
        if isinstance(value, dict):
            value = value.get(segment)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        text = str(int(value))
    elif isinstance(value, str):
        text = value.strip()
    else:
        return ""
    if len(text) > MAX_CONTACT_ID_LENGTH or not _PRINTABLE.match(text):
        return ""
    return text


def parse_payload(body: bytes, content_type: str) -> Any:
    """The posted body as a JSON value: JSON, or a form (``application/x-www-form-urlencoded``,
    as a string map, a repeated key keeping its last value). An empty body is ``{}``."""
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8") from None
    if media == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(f"the body is not JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise PayloadError("the body is nested too deeply") from None


def idempotency_problem(key: str) -> str | None:
    """Why ``key`` cannot be an idempotency key, or None."""
    if len(key) > MAX_KEY_LENGTH or not _PRINTABLE.match(key):
        return f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters without spaces"
    return None


def delivery_event_id(hook_id: str, key: str) -> str:
    """The event id of a delivery of ``hook_id`` carrying idempotency ``key``: the same pair, the
    same id, whichever replica takes the retry, and across a rotation of the hook's token."""
    digest = hashlib.sha256(f"{hook_id}\n{key}".encode()).hexdigest()[:40]
    return f"hook_{digest}"
