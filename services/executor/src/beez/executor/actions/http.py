"""Outgoing HTTP for every action that calls out: one client, one error classification.

:class:`OutboundHttp` sends a request through the SSRF guard (:mod:`.ssrf`), follows redirects
itself so every hop is checked again, reads at most ``http_max_response_bytes`` of the answer,
and turns failures into the engine's two kinds:

- 2xx: returned (:class:`HttpResponse`);
- timeout (connect, read, or the whole call with its redirects): TransientError ``timeout``;
- connection refused or reset, TLS failure, broken response: TransientError ``connection``;
- DNS without an answer right now: TransientError ``dns``; a name that does not exist:
  PermanentError ``dns``;
- 408: TransientError ``http_408``; 429: TransientError ``http_429``; 5xx: TransientError
  ``http_5xx``; each with ``retry_after`` when the answer has a ``Retry-After``;
- other 4xx: PermanentError ``http_4xx`` (:class:`HttpPermanentError`, with the status);
- 3xx without ``Location``: PermanentError ``http_3xx``;
- more than ``http_max_redirects`` redirects: PermanentError ``too_many_redirects``;
- a refused address, first hop or any redirect: PermanentError ``ssrf_blocked``;
- a malformed URL, a scheme other than http(s), a bad or reserved header: PermanentError
  ``invalid_request``.

``Retry-After`` is read as seconds or as an HTTP date (relative to the step's ``now``), never
more than ``http_retry_after_cap_s`` (a huge value once overflowed the retry timer), and
stretched by up to ``http_retry_after_jitter`` at random so a provider's clients spread out.
Redirects are followed here, each hop rewritten by :class:`.outgoing.OutgoingRequest` (no
credentials to another origin; 301, 302 and 303 become a GET without a body).
Compressed answers (gzip, deflate) are decoded here, incrementally and never past
``http_max_response_bytes``, so a small compressed body cannot inflate into gigabytes.
Error messages name the method, host and path but never the query string, and mask PII in the
response excerpt they quote.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from beez.executor.actions.base import PermanentError, TransientError
from beez.executor.actions.breaker import CircuitBreakers, counts_against_provider
from beez.executor.actions.decoding import ACCEPT_ENCODING, BoundedDecoder
from beez.executor.actions.outgoing import (
    REDIRECTS,
    OutgoingRequest,
    Show,
    check_headers,
    is_credential_header,
    safe_url,
)
from beez.executor.actions.settings import ActionSettings
from beez.executor.actions.signature import SigningSecret, sign, verify_signature
from beez.executor.actions.ssrf import AddressGuard, GuardedTransport, ResolutionError, Resolver, SSRFBlocked
from beez.kit.logging import mask_text

__all__ = [
    "HttpPermanentError",
    "HttpResponse",
    "HttpTransientError",
    "OutboundHttp",
    "SigningSecret",
    "check_headers",
    "is_credential_header",
    "parse_retry_after",
    "safe_url",
    "sign",
    "verify_signature",
]


class HttpTransientError(TransientError):
    """A retryable HTTP status (408, 429, 5xx), with the status and the start of the body.

    ``body`` is the unmasked start of the answer (for provider-specific reclassification); the
    message quotes a short, masked excerpt.
    """

    def __init__(
        self, message: str, *, status_code: int, body: str, category: str, retry_after: float | None
    ) -> None:
        super().__init__(message, category=category, retry_after=retry_after)
        self.status_code = status_code
        self.body = body


class HttpPermanentError(PermanentError):
    """A non-retryable HTTP status (4xx...), with the status and a body excerpt."""

    def __init__(self, message: str, *, status_code: int, body: str, category: str) -> None:
        super().__init__(message, category=category)
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A successful (2xx) answer, after redirects."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    truncated: bool
    url: httpx.URL
    redirects: int

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers), errors="replace")

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not (or was truncated)."""
        if self.truncated:
            raise ValueError("the response was truncated")
        return json.loads(self.content)

    @property
    def is_json(self) -> bool:
        content_type = str(self.headers.get("content-type", "")).split(";")[0].strip().lower()
        return content_type == "application/json" or content_type.endswith("+json")


_DELTA_SECONDS = re.compile(r"^[0-9]+(\.[0-9]+)?$", re.ASCII)


def _charset(headers: httpx.Headers) -> str:
    match = re.search(r"charset=([\w-]+)", headers.get("content-type", ""), re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def parse_retry_after(value: str | None, now: datetime, *, cap: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds, decimal ones too, or an HTTP date).

    ``cap`` bounds the answer; without it a value like ``10**400`` is ``inf`` seconds. Anything
    unreadable is None (no hint), never an exception.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    seconds: float
    if _DELTA_SECONDS.match(value):  # Shopify sends "2.0": decimal seconds, read as such
        seconds = float(value) if len(value) <= 15 else float("inf")
    elif len(value) > 64:
        return None
    else:
        try:
            when = parsedate_to_datetime(value)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            reference = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
            seconds = max(0.0, (when - reference).total_seconds())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if cap is not None:
        seconds = min(seconds, cap)
    return seconds


class OutboundHttp:
    """The HTTP client of the actions; owns its httpx client unless one is passed in.

    When a client is passed in, requests still go through :meth:`AddressGuard.check_url` at
    every hop, but connections are pinned to the checked address only if that client uses a
    :class:`GuardedTransport` (see :meth:`guarded_client`).
    """

    def __init__(
        self,
        settings: ActionSettings,
        client: httpx.AsyncClient | None = None,
        *,
        resolver: Resolver | None = None,
        breakers: CircuitBreakers | None = None,
    ) -> None:
        self.settings = settings
        self.breakers = breakers or CircuitBreakers(
            failure_threshold=settings.http_breaker_failures, cooldown_s=settings.http_breaker_cooldown_s
        )
        self.guard = AddressGuard(settings.ssrf_allowlist, resolver)
        self._owns_client = client is None
        self.client = client if client is not None else self.guarded_client(self.guard, settings)

    @staticmethod
    def guarded_client(guard: AddressGuard, settings: ActionSettings) -> httpx.AsyncClient:
        """An httpx client whose connections go only to addresses ``guard`` allows."""
        return httpx.AsyncClient(
            transport=GuardedTransport(guard),
            trust_env=False,
            follow_redirects=False,
            timeout=settings.http_timeout_s,
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        now: datetime,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        timeout_s: float | None = None,
        idempotency_key: str | None = None,
        signing: Sequence[SigningSecret] = (),
        auth: httpx.Auth | None = None,
        secret_path: bool = False,
        credential_headers: Collection[str] = (),
    ) -> HttpResponse:
        """Sends one request (following redirects); returns a 2xx answer or raises.

        ``signing``: the secrets that sign it (:func:`sign`); none sends it unsigned.
        ``secret_path`` keeps the URL's path out of error messages (it is a credential).
        ``credential_headers``: more header names that must not follow a redirect to another
        origin (besides those :func:`is_credential_header` knows). The same as :meth:`prepare`
        then :meth:`send`.

        Raises:
            TransientError: see the module's table.
            PermanentError: see the module's table.
        """
        outgoing = self.prepare(
            method,
            url,
            headers=headers,
            content=content,
            idempotency_key=idempotency_key,
            signing=signing,
            auth=auth,
            credential_headers=credential_headers,
        )
        return await self.send(outgoing, now=now, timeout_s=timeout_s, secret_path=secret_path)

    def prepare(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        idempotency_key: str | None = None,
        signing: Sequence[SigningSecret] = (),
        auth: httpx.Auth | None = None,
        credential_headers: Collection[str] = (),
    ) -> OutgoingRequest:
        """The request :meth:`send` sends, with the headers every request gets (User-Agent,
        Accept-Encoding); :meth:`OutgoingRequest.hop_headers` adds the key and signature."""
        headers = dict(headers or {})
        if not any(name.lower() == "user-agent" for name in headers):
            headers["User-Agent"] = self.settings.user_agent
        # Only encodings _read can decode with a bound (never br or zstd, whatever is installed).
        headers = {k: v for k, v in headers.items() if k.lower() != "accept-encoding"}
        headers["Accept-Encoding"] = ACCEPT_ENCODING
        return OutgoingRequest(
            method=method.upper(),
            url=url,
            headers=headers,
            content=content,
            idempotency_key=idempotency_key,
            signing=signing,
            auth=auth,
            secret_names=frozenset(name.lower() for name in credential_headers),
        )

    async def send(
        self,
        outgoing: OutgoingRequest,
        *,
        now: datetime,
        timeout_s: float | None = None,
        secret_path: bool = False,
    ) -> HttpResponse:
        """Sends a prepared request (following redirects); returns a 2xx answer or raises."""
        deadline = timeout_s or self.settings.http_timeout_s
        url = outgoing.url
        show = functools.partial(safe_url, with_path=not secret_path)
        provider = _origin(url)
        if provider is None:
            return await self._guarded(outgoing, now, deadline, show)
        self.breakers.before(provider)
        try:
            response = await self._guarded(outgoing, now, deadline, show)
        except TransientError as exc:
            if counts_against_provider(exc):
                self.breakers.failed(provider)
            else:
                self.breakers.succeeded(provider)
            raise
        except HttpPermanentError:
            self.breakers.succeeded(provider)
            raise
        finally:
            self.breakers.release(provider)
        self.breakers.succeeded(provider)
        return response

    async def _guarded(
        self, outgoing: OutgoingRequest, now: datetime, deadline: float, show: Show
    ) -> HttpResponse:
        method, url = outgoing.method, outgoing.url
        try:
            async with asyncio.timeout(deadline):
                return await self._exchange(outgoing, now, deadline, show)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise TransientError(
                f"{method} {show(url)} timed out after {deadline:g} s", category="timeout"
            ) from exc

    async def _exchange(
        self, outgoing: OutgoingRequest, now: datetime, timeout: float, show: Show
    ) -> HttpResponse:
        try:
            current = httpx.URL(outgoing.url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise PermanentError(f"invalid URL: {exc}", category="invalid_request") from exc
        if current.scheme not in ("http", "https") or not current.host:
            raise PermanentError(f"not an http(s) URL: {show(current)}", category="invalid_request")
        timestamp = int(now.timestamp())
        redirects = 0
        while True:
            method = outgoing.method
            response = await self._send(
                method,
                current,
                outgoing.hop_headers(timestamp),
                outgoing.content,
                timeout,
                outgoing.auth,
                show,
            )
            try:
                location = response.headers.get("location")
                if response.status_code in REDIRECTS and location:
                    if redirects >= self.settings.http_max_redirects:
                        raise PermanentError(
                            f"{method} {show(current)}: more than {self.settings.http_max_redirects} "
                            "redirects",
                            category="too_many_redirects",
                        )
                    current = outgoing.follow(current, location, response.status_code, show)
                    redirects += 1
                    continue
                body, truncated = await self._read(response, show)
            finally:
                await response.aclose()
            return self._classify(method, current, response, body, truncated, redirects, now, show)

    async def _send(
        self,
        method: str,
        url: httpx.URL,
        headers: dict[str, str],
        content: bytes | None,
        timeout: float,
        auth: httpx.Auth | None,
        show: Show,
    ) -> httpx.Response:
        where = f"{method} {show(url)}"
        try:
            await self.guard.check_url(url)
            request = self.client.build_request(
                method, url, headers=headers, content=content, timeout=timeout
            )
            return await self.client.send(request, stream=True, auth=auth, follow_redirects=False)
        except SSRFBlocked as exc:
            raise PermanentError(f"{where}: {exc}", category="ssrf_blocked") from exc
        except ResolutionError as exc:
            if exc.transient:
                raise TransientError(f"{where}: {exc}", category="dns") from exc
            raise PermanentError(f"{where}: {exc}", category="dns") from exc
        except httpx.TimeoutException:
            raise
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
            raise PermanentError(f"{where}: {exc}", category="invalid_request") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{where}: {type(exc).__name__}: {exc}", category="connection") from exc

    async def _read(self, response: httpx.Response, show: Show) -> tuple[bytes, bool]:
        limit = self.settings.http_max_response_bytes
        decoder = BoundedDecoder(response.headers.get("content-encoding", ""), show(response.request.url))
        chunks: list[bytes] = []
        size = 0
        try:
            # Raw bytes, decoded here: httpx's own decoding inflates a whole read at once.
            async for raw in response.aiter_raw():
                chunk, more = decoder.feed(raw, limit - size + 1)
                chunks.append(chunk)
                size += len(chunk)
                if size > limit or more:
                    return b"".join(chunks)[:limit], True
            tail = decoder.flush(limit - size + 1)
            chunks.append(tail)
            size += len(tail)
            if size > limit:
                return b"".join(chunks)[:limit], True
        except httpx.TimeoutException:
            raise
        except httpx.TransportError as exc:
            raise TransientError(
                f"reading the answer of {show(response.request.url)} failed: {type(exc).__name__}",
                category="connection",
            ) from exc
        return b"".join(chunks), False

    def _classify(
        self,
        method: str,
        url: httpx.URL,
        response: httpx.Response,
        body: bytes,
        truncated: bool,
        redirects: int,
        now: datetime,
        show: Show,
    ) -> HttpResponse:
        status = response.status_code
        if 200 <= status < 300:
            return HttpResponse(status, response.headers, body, truncated, url, redirects)
        raw = body[:4096].decode(_charset(response.headers), errors="replace")
        excerpt = mask_text(raw[:300]).strip()
        message = f"{method} {show(url)} answered {status}" + (f": {excerpt}" if excerpt else "")
        if status == 429 or status == 408 or status >= 500:
            category = "http_429" if status == 429 else "http_408" if status == 408 else "http_5xx"
            retry_after = parse_retry_after(
                response.headers.get("retry-after"), now, cap=self.settings.http_retry_after_cap_s
            )
            if retry_after:
                stretch = 1.0 + random.uniform(0.0, self.settings.http_retry_after_jitter)
                retry_after = min(retry_after * stretch, self.settings.http_retry_after_cap_s)
            raise HttpTransientError(
                message, status_code=status, body=raw, category=category, retry_after=retry_after
            )
        category = "http_4xx" if 400 <= status < 500 else "http_3xx"
        raise HttpPermanentError(message, status_code=status, body=raw, category=category)


def _origin(url: str) -> str | None:
    """``scheme://host:port``, the provider a circuit breaker is kept for; None when unparsable."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{parsed.host}:{port}"


def json_body(value: Any) -> bytes:
    """Compact UTF-8 JSON, the bytes that are sent and signed."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
