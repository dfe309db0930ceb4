"""Keyset pagination for list RPCs: the page request, and opaque page tokens.

Every list RPC has ``int32 page_size`` and ``string page_token`` in its request and
``string next_page_token`` in its response. A size of 0 asks for the service's default, sizes
above its maximum are capped, and a negative one is INVALID_ARGUMENT on ``page_size``.

A token is base64url JSON (no padding) of the sort key of the last row served, its cursor, and
optionally a scope: a digest of the filters it was made for. A token this API did not make, or
one reused with other filters, is INVALID_ARGUMENT on ``page_token`` rather than a silently
wrong page. Cursor values are strings, or timezone-aware datetimes carried as ISO 8601.
Violations name the proto fields (``page_size``, ``page_token``) in every service.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from beez.kit.grpc.errors import FieldViolation, InvalidArgument

C = TypeVar("C")
T = TypeVar("T")

PAGE_SIZE = "page_size"
PAGE_TOKEN = "page_token"

DEFAULT_PAGE_SIZE = 50
"""The rows a list serves when its request names no size (the seed's default)."""
MAX_PAGE_SIZE = 200
"""The most rows one page serves; larger sizes are capped."""

CursorValue = str | datetime
MomentKey = tuple[datetime, str]
"""The usual cursor: a row's timestamp and its id, the id breaking ties."""


class BadPageToken(ValueError):
    """A page token this API did not make, or made for other filters; the message says which."""


@dataclass(frozen=True, slots=True)
class PageRequest(Generic[C]):
    """How many rows to serve, and the cursor of the last row already served (None: the first page)."""

    size: int
    after: C | None


def scope_of(*filters: Any) -> str:
    """A short digest of a list's filters (JSON-serializable values), to bind a token to them."""
    key = json.dumps(filters, separators=(",", ":"), default=str)
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def encode_token(cursor: Sequence[CursorValue], scope: str = "") -> str:
    """The token of the page after ``cursor``; ``scope`` from :func:`scope_of` binds it to filters."""
    values = [value.isoformat() if isinstance(value, datetime) else value for value in cursor]
    payload: dict[str, Any] = {"c": values}
    if scope:
        payload["s"] = scope
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _values(token: str, scope: str, arity: int) -> list[str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        data = None
    values = data.get("c") if isinstance(data, dict) else None
    if not (isinstance(values, list) and len(values) == arity and all(isinstance(v, str) for v in values)):
        raise BadPageToken("is not a page token this API returned")
    if data.get("s", "") != scope:
        raise BadPageToken("was returned for other filters; repeat the same filters")
    return values


def decode_key(token: str, scope: str = "") -> str:
    """The one-string cursor in ``token`` (an id); :class:`BadPageToken` if it holds none."""
    return _values(token, scope, 1)[0]


def decode_moment_key(token: str, scope: str = "") -> MomentKey:
    """The ``(timezone-aware datetime, id)`` cursor in ``token``; :class:`BadPageToken` if it holds none."""
    stamp, key = _values(token, scope, 2)
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise BadPageToken("is not a page token this API returned")
    return moment, key


@dataclass(frozen=True, slots=True)
class PageLimits:
    """A list's page sizes: served when none is asked, and the most served."""

    default: int = DEFAULT_PAGE_SIZE
    maximum: int = MAX_PAGE_SIZE


def read_page(
    page_size: int,
    page_token: str,
    *,
    decode: Callable[[str], C],
    default: int = DEFAULT_PAGE_SIZE,
    maximum: int = MAX_PAGE_SIZE,
) -> PageRequest[C]:
    """The page a request asks for; INVALID_ARGUMENT naming every bad paging field.

    ``decode`` is :func:`decode_key` or :func:`decode_moment_key` (with the list's scope bound).
    """
    violations = []
    if page_size < 0:
        violations.append(FieldViolation(PAGE_SIZE, "must not be negative"))
    after = None
    if page_token:
        try:
            after = decode(page_token)
        except BadPageToken as exc:
            violations.append(FieldViolation(PAGE_TOKEN, str(exc)))
    if violations:
        raise InvalidArgument("invalid paging", violations)
    return PageRequest(min(page_size or default, maximum), after)


def cut_page(
    rows: Sequence[T], size: int, cursor: Callable[[T], Sequence[CursorValue]], scope: str = ""
) -> tuple[list[T], str]:
    """The first ``size`` of ``rows`` (fetched with a limit of ``size + 1``) and the next page's token.

    The token is empty when ``rows`` held no more than ``size``: this was the last page.
    """
    page = list(rows[:size])
    if len(rows) <= size or not page:
        return page, ""
    return page, encode_token(cursor(page[-1]), scope)
