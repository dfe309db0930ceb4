"""GraphQL answers (Buffer, monday.com): errors arrive with HTTP 200 in an ``errors`` list.

Each error has a ``message`` and ``extensions.code``; a code a provider documents as a throttle
or a fault of its own is transient (with the provider's retry hint in seconds), any other is
permanent with the provider's message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from beez.executor.actions.base import PermanentError, TransientError
from beez.executor.actions.http import HttpTransientError
from beez.executor.actions.providers.base import answer_json
from beez.kit.logging import mask_text

__all__ = ["graphql_errors", "hint_from_throttled_body", "raise_for_errors"]

_AUTH_CODES = frozenset({"UNAUTHORIZED", "UNAUTHENTICATED", "FORBIDDEN", "USERUNAUTHORIZEDEXCEPTION"})


def graphql_errors(body: Any) -> list[Mapping[str, Any]]:
    """The ``errors`` of a GraphQL answer (none when it has none or is not JSON)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _code(error: Mapping[str, Any]) -> str:
    extensions = error.get("extensions")
    code = extensions.get("code") if isinstance(extensions, dict) else None
    return str(code or error.get("error_code") or "")


def _retry_hint(error: Mapping[str, Any], keys: Collection[str]) -> float | None:
    extensions = error.get("extensions")
    if not isinstance(extensions, dict):
        return None
    for key in keys:
        value = extensions.get(key)
        if isinstance(value, int | float) and value >= 0:
            return float(value)
    return None


def raise_for_errors(
    label: str,
    body: Any,
    *,
    transient_codes: Collection[str],
    retry_keys: Collection[str] = (),
    cap_s: float,
) -> None:
    """Raises for the first error of a GraphQL answer: TransientError for ``transient_codes``
    (``retry_after`` from the first of ``retry_keys`` in its extensions, at most ``cap_s``),
    PermanentError with the provider's message otherwise."""
    errors = graphql_errors(body)
    if not errors:
        return
    error = errors[0]
    code = _code(error)
    message = f"{label}: {mask_text(str(error.get('message') or code or 'error'))[:500]}"
    if code:
        message += f" ({code})"
    if code in transient_codes:
        hint = _retry_hint(error, retry_keys)
        raise TransientError(
            message, category="http_429", retry_after=min(hint, cap_s) if hint is not None else None
        )
    category = "provider_auth" if code.upper() in _AUTH_CODES else "provider_validation"
    raise PermanentError(message, category=category)


def hint_from_throttled_body(exc: TransientError, keys: Collection[str], cap_s: float) -> None:
    """Sets ``exc.retry_after`` from the wait a GraphQL provider puts in its throttled answer's
    ``errors[0].extensions`` (under one of ``keys``), capped, when no ``Retry-After`` gave one."""
    cause = exc.__cause__
    if exc.retry_after is not None or not isinstance(cause, HttpTransientError):
        return
    errors = graphql_errors(answer_json(cause.body))
    hint = _retry_hint(errors[0], keys) if errors else None
    if hint is not None:
        exc.retry_after = min(hint, cap_s)
