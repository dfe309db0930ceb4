"""An outgoing request's headers and how a redirect rewrites them.

The HTTP client (:mod:`.http`) follows redirects itself; this module decides what each hop
carries: the caller's checked headers, the idempotency key, a fresh signature, and, once the
origin changes, none of the credentials (``Authorization``, cookies, API-key and token headers,
headers the caller marks as credentials, and the Beez signature). 301, 302 and 303 turn into a
GET without a body (HEAD stays HEAD); 307 and 308 keep the method and the body.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx

from beez.executor.actions.base import PermanentError
from beez.executor.actions.signature import SigningSecret, sign

__all__ = [
    "IDEMPOTENCY_HEADER",
    "REDIRECTS",
    "SIGNATURE_HEADER",
    "OutgoingRequest",
    "Show",
    "check_headers",
    "is_credential_header",
    "safe_url",
]

SIGNATURE_HEADER = "X-Beez-Signature"
IDEMPOTENCY_HEADER = "X-Beez-Idempotency-Key"

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        SIGNATURE_HEADER.lower(),
    }
)
_CREDENTIAL_WORDS = re.compile(
    r"auth|token|secret|passw|api-?key|signature|session|credential", re.IGNORECASE
)
_BODY_HEADERS = ("content-type", "content-length", "content-encoding", "transfer-encoding")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-authorization",
        SIGNATURE_HEADER.lower(),
        IDEMPOTENCY_HEADER.lower(),
    }
)


Show = Callable[[httpx.URL | str], str]


def safe_url(url: httpx.URL | str, *, with_path: bool = True) -> str:
    """``scheme://host[:port]/path`` without credentials, query or fragment, for logs and errors.

    ``with_path=False`` also hides the path, for URLs whose path is the secret (Slack webhooks).
    """
    try:
        parsed = httpx.URL(url)
    except Exception:
        return "<invalid url>"
    port = f":{parsed.port}" if parsed.port else ""
    host = parsed.host if ":" not in parsed.host else f"[{parsed.host}]"
    return f"{parsed.scheme}://{host}{port}{parsed.path if with_path else '/...'}"


def is_credential_header(name: str) -> bool:
    """Whether a header carries a credential (and so must not follow a redirect elsewhere):
    the well-known ones, and any whose name speaks of a key, token, secret or session."""
    lowered = name.lower()
    return lowered in _CREDENTIAL_HEADERS or bool(_CREDENTIAL_WORDS.search(lowered))


def check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """User-given headers, validated; reserved ones (Host, framing, Beez's own) are refused."""
    clean: dict[str, str] = {}
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise PermanentError(f"invalid header name {name!r}", category="invalid_request")
        if any(c in value for c in "\r\n\0"):
            raise PermanentError(f"header {name} has a line break in its value", category="invalid_request")
        if name.lower() in _RESERVED_HEADERS:
            raise PermanentError(f"header {name} is set by the engine", category="invalid_request")
        clean[name] = value
    return clean


@dataclass(slots=True)
class OutgoingRequest:
    """One outgoing request as it travels its redirects; each hop may rewrite it."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None
    idempotency_key: str | None
    signing: Sequence[SigningSecret]
    auth: httpx.Auth | None
    secret_names: frozenset[str]

    def hop_headers(self, timestamp: int) -> dict[str, str]:
        """The headers of the next hop: the idempotency key and a fresh signature added."""
        headers = dict(self.headers)
        if self.idempotency_key:
            headers[IDEMPOTENCY_HEADER] = self.idempotency_key
        if self.signing:
            headers[SIGNATURE_HEADER] = sign(self.signing, timestamp, self.content or b"")
        return headers

    def follow(self, current: httpx.URL, location: str, status: int, show: Show) -> httpx.URL:
        """Rewrites the request for a redirect from ``current``; returns the next URL.

        Another origin gets no credentials; 301, 302 and 303 turn into a GET without a body.
        """
        try:
            target = current.join(location)
        except (httpx.InvalidURL, ValueError) as exc:
            raise PermanentError(
                f"{show(current)} redirected to an invalid URL", category="invalid_request"
            ) from exc
        if target.scheme not in ("http", "https"):
            raise PermanentError(
                f"{show(current)} redirected to a {target.scheme!r} URL", category="ssrf_blocked"
            )
        if (target.scheme, target.host, target.port) != (current.scheme, current.host, current.port):
            self.headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() not in self.secret_names and not is_credential_header(k)
            }
            self.auth = None
            self.signing = ()
        if status in (301, 302, 303) and self.method != "HEAD":
            self.method = "GET"
            self.content = None
            self.headers = {k: v for k, v in self.headers.items() if k.lower() not in _BODY_HEADERS}
        return target
