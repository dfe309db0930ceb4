"""Webhook signatures: what the executor sends as ``X-Beez-Signature``, and what a receiver checks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

__all__ = ["SigningSecret", "sign", "verify_signature"]

SigningSecret = tuple[str, str]
"""A webhook signing secret: its key id (``kid``) and the secret."""


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secrets: Sequence[SigningSecret], timestamp: int, body: bytes) -> str:
    """The ``X-Beez-Signature`` value: ``t=<unix>``, then ``kid=<key id>,v1=<hex HMAC-SHA256 of
    "<t>.<body>">`` for each secret (the current one first; during a rotation the older ones
    too, so receivers that still hold only the old secret keep verifying)."""
    parts = [f"t={timestamp}"]
    for key_id, secret in secrets:
        parts += [f"kid={key_id}", f"v1={_digest(secret, timestamp, body)}"]
    return ",".join(parts)


def verify_signature(
    secrets: Mapping[str, str], header: str, body: bytes, *, now: int, tolerance_s: int = 300
) -> bool:
    """What a receiver does: check the timestamp is recent, and that the ``v1`` of a ``kid``
    whose secret it holds (``secrets``: key id to secret) is the HMAC it recomputes."""
    timestamp: int | None = None
    key_id: str | None = None
    valid = False
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and timestamp is None:
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif name == "kid":
            key_id = value
        elif name == "v1" and key_id is not None and timestamp is not None:
            secret = secrets.get(key_id)
            if secret is not None and hmac.compare_digest(_digest(secret, timestamp, body), value):
                valid = True
            key_id = None
    return valid and timestamp is not None and abs(now - timestamp) <= tolerance_s
