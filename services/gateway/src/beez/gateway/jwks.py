"""Where the gateway gets the public keys that sign tokens: a JWKS URL or a JWKS file.

:class:`RemoteJwks` fetches the identity provider's key set with aiohttp (never blocking the
event loop), keeps it for ``cache_s``, and fetches again when a token names a key id it does not
know, because that is how a provider rotates keys. Refetches for unknown ids are limited to one
per ``refresh_cooldown_s``, so tokens with made-up key ids cannot turn the gateway into a
request flood against the provider; concurrent requests share one fetch. When a refetch fails
the keys already held stay in use.

Only asymmetric signing keys (RS256, ES256) are taken from a key set: a symmetric ``oct`` key
published in a JWKS must not enable HS256, which needs its own explicit setting.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from jwt import PyJWK, PyJWKSet
from jwt.exceptions import PyJWKSetError

from beez.kit.logging import get_logger

log = get_logger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256"})
RETRY_AFTER_FAILURE_S = 1.0
"""With no keys held, a failed fetch is not retried sooner than this: requests get 503 at once."""


class KeySetUnavailableError(Exception):
    """No key set could be had (and none is held); tokens cannot be checked right now."""


class KeySource(Protocol):
    """The keys a token may be signed with."""

    async def signing_key(self, kid: str | None) -> PyJWK | None:
        """The key with id ``kid`` (the only key, when ``kid`` is None and there is one), or None."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def signing_keys(document: Any) -> tuple[PyJWK, ...]:
    """The RS256/ES256 signing keys of a JWKS document; ``ValueError`` if it has none."""
    if not isinstance(document, dict):
        raise ValueError("a JWKS must be a JSON object with a 'keys' list")
    try:
        keys = PyJWKSet.from_dict(document).keys
    except PyJWKSetError as exc:
        raise ValueError(f"unusable JWKS: {exc}") from None
    usable = tuple(
        k for k in keys if k.algorithm_name in ASYMMETRIC_ALGORITHMS and k.public_key_use in (None, "sig")
    )
    if not usable:
        raise ValueError("the JWKS has no RS256 or ES256 signing key")
    return usable


def pick(keys: Iterable[PyJWK], kid: str | None) -> PyJWK | None:
    """The key named ``kid``; without a kid, the only key when there is exactly one."""
    keys = tuple(keys)
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((k for k in keys if k.key_id == kid), None)


class JwksFile:
    """A key set read once from a file (mounted from a Secret or ConfigMap)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            document = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the JWKS file {self.path}: {exc}") from None
        self.keys = signing_keys(document)

    async def signing_key(self, kid: str | None) -> PyJWK | None:
        return pick(self.keys, kid)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


class RemoteJwks:
    """A key set fetched from a URL, cached, and refetched on an unknown key id."""

    def __init__(
        self,
        url: str,
        *,
        cache_s: float = 300.0,
        refresh_cooldown_s: float = 10.0,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.cache_s = cache_s
        self.refresh_cooldown_s = refresh_cooldown_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._clock = clock
        self._keys: tuple[PyJWK, ...] = ()
        self._fetched_at: float | None = None
        self._last_unknown_refresh: float | None = None
        self._failed_at: float | None = None
        self._generation = 0
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Fetches the keys once ahead of the first request; a failure is logged, not fatal."""
        try:
            await self._refresh_keeping_stale(self._generation)
        except KeySetUnavailableError as exc:
            log.warning("JWKS not available at start; retrying on the first request", error=str(exc))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def signing_key(self, kid: str | None) -> PyJWK | None:
        if self._fetched_at is None or self._clock() - self._fetched_at >= self.cache_s:
            await self._refresh_keeping_stale(self._generation)
        key = pick(self._keys, kid)
        if key is not None or kid is None:
            return key
        now = self._clock()
        last = self._last_unknown_refresh
        if last is not None and now - last < self.refresh_cooldown_s:
            return None
        self._last_unknown_refresh = now
        await self._refresh_keeping_stale(self._generation)
        return pick(self._keys, kid)

    async def _refresh_keeping_stale(self, seen: int) -> None:
        failed = self._failed_at
        if not self._keys and failed is not None and self._clock() - failed < RETRY_AFTER_FAILURE_S:
            raise KeySetUnavailableError("the JWKS could not be fetched a moment ago")
        try:
            await self._refresh(seen)
        except KeySetUnavailableError as exc:
            self._failed_at = self._clock()
            if not self._keys:
                raise
            log.warning("JWKS refresh failed; keeping the keys held", error=str(exc))
            self._fetched_at = self._clock()

    async def _refresh(self, seen: int) -> None:
        """Fetches the key set, unless another caller fetched it while this one waited."""
        async with self._lock:
            if self._generation != seen:
                return
            keys = await self._fetch()
            self._keys = keys
            self._fetched_at = self._clock()
            self._generation += 1
            log.info("JWKS fetched", keys=[k.key_id for k in keys])

    async def _fetch(self) -> tuple[PyJWK, ...]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with self._session.get(self.url, headers={"Accept": "application/json"}) as response:
                if response.status != 200:
                    raise KeySetUnavailableError(f"JWKS URL answered HTTP {response.status}")
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise KeySetUnavailableError(f"cannot fetch the JWKS: {type(exc).__name__}") from None
        try:
            return signing_keys(document)
        except ValueError as exc:
            raise KeySetUnavailableError(str(exc)) from None
