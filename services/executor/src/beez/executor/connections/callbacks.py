"""Checking a provider's signature on a callback to one of an organization's own accounts.

Twilio signs status callbacks with the account's auth token, and Meta signs WhatsApp webhooks
with the app's secret: for an organization that sends through its own account (a connection,
decision 0040), only that connection's credentials can check them. The gateway takes the
callback and asks here (``ConnectionService.VerifyCallbackSignature``), so the secret never leaves
the executor. Each scheme names the provider whose connection it applies to and the credential
that keys it; the values themselves are :mod:`beez.kit.signatures`', which the gateway uses for
the platform's own accounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from beez.api.executor.v1 import connections_pb2 as pb
from beez.executor.connections.providers import Provider
from beez.kit.signatures import matches, twilio_signature, whatsapp_signature

__all__ = ["SCHEMES", "CallbackScheme", "Signed", "expected_signature", "is_signed_by"]


@dataclass(frozen=True)
class CallbackScheme:
    """Which connections a scheme checks, and with which of their credentials."""

    provider: Provider
    credential: str


SCHEMES: dict[int, CallbackScheme] = {
    pb.CALLBACK_SCHEME_TWILIO: CallbackScheme(Provider.TWILIO, "auth_token"),
    pb.CALLBACK_SCHEME_WHATSAPP: CallbackScheme(Provider.WHATSAPP, "app_secret"),
    pb.CALLBACK_SCHEME_WHATSAPP_HANDSHAKE: CallbackScheme(Provider.WHATSAPP, "verify_token"),
}


@dataclass(frozen=True)
class Signed:
    """What the provider signed: the URL and form (Twilio) or the raw body (WhatsApp)."""

    url: str = ""
    params: Sequence[tuple[str, str]] = ()
    body: bytes = b""


def expected_signature(scheme: int, secret: str, signed: Signed) -> str:
    """The signature the provider puts on ``signed`` when keyed with ``secret``."""
    if scheme == pb.CALLBACK_SCHEME_TWILIO:
        return twilio_signature(secret, signed.url, signed.params)
    if scheme == pb.CALLBACK_SCHEME_WHATSAPP:
        return whatsapp_signature(secret, signed.body)
    return secret  # the handshake: the verify token itself


def is_signed_by(scheme: int, credentials: Mapping[str, str], signed: Signed, given: str) -> bool:
    """Whether ``given`` is the signature of ``signed`` with the connection's credential."""
    secret = credentials.get(SCHEMES[scheme].credential, "")
    return matches(expected_signature(scheme, secret, signed), given) if secret else False
