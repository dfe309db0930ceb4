"""Connections: what the RPCs do with them, and what the engine asks of them (decision 0040).

The RPC side checks input (INVALID_ARGUMENT naming each bad field), scopes everything by the
caller's organization and never hands credentials back. The engine side
(:class:`~beez.executor.engine.integrations.Integrations`) binds a step to a connection:

* the step's ``connection`` (an id or a name) must be one of the organization's connections,
  of a provider the action can use; otherwise the step fails (``connection``);
* a step that names none, of an action with a platform default (email, WhatsApp, SMS), uses
  the organization's connection of that provider when it has exactly one; with none it uses
  the platform's settings; with several it fails, asking the step to name one;
* a bound step takes a token of ``integration:<connection id>`` (the provider's documented
  default or the connection's override, times the factor a 429 left; see
  :class:`~.store.AIMD`) in the executor's rate buckets, shared by every replica.

The organization's connections (without secrets) are cached per process for ``cache_s``, and so
is each connection's encrypted credentials blob (decrypted for each attempt, never kept in clear):
a step costs no lookup of its own besides its rate bucket (decision 0047's benchmark). A change
through this process clears its organization (and a rotated or deleted connection) at once; other
replicas see it within ``cache_s``, as they see a changed rate.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from opentelemetry import metrics

from beez.executor.actions.base import ConnectionAccess
from beez.executor.actions.http import OutboundHttp
from beez.executor.actions.redaction import Redactor
from beez.executor.actions.settings import ActionSettings
from beez.executor.connections.callbacks import SCHEMES, Signed, is_signed_by
from beez.executor.connections.oauth import refresh_grant
from beez.executor.connections.probe import Probe, TestResult
from beez.executor.connections.providers import (
    ACTION_PROVIDERS,
    PLATFORM_DEFAULT_PROVIDERS,
    PROVIDERS,
    Provider,
    ProviderSpec,
)
from beez.executor.connections.service_account import jwt_bearer_grant
from beez.executor.connections.store import ConnectionRow, ConnectionStore, TokenGrant
from beez.executor.engine.integrations import Binding, BindingError
from beez.kit.cache import BoundedCache
from beez.kit.grpc.errors import FailedPrecondition, FieldViolation, InvalidArgument
from beez.kit.ratelimit import Limit, RateLimiter

__all__ = ["Connections", "RateView"]

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
MAX_CREDENTIAL_CHARS = 8192
REFRESH_SKEW = timedelta(seconds=120)
"""An access token is refreshed when it expires within this: before a step could use it late."""
QUOTA = "integration_per_connection"


class RateView:
    """A connection's rate: its default, its override, and what is in force now."""

    def __init__(self, default: Limit, own: Limit | None, factor: float) -> None:
        self.default = default
        self.own = own
        self.factor = factor

    @property
    def configured(self) -> Limit:
        return self.own or self.default

    @property
    def effective(self) -> Limit:
        base = self.configured
        return Limit(rate=base.rate * self.factor, burst=max(1.0, math.floor(base.burst * self.factor)))


def _rate(per_s: float, burst: float, prefix: str = "rate_limit") -> tuple[float | None, float | None]:
    """An override from a request: both 0 for none; else rate > 0 and burst >= 1 (default 2x)."""
    if per_s == 0 and burst == 0:
        return None, None
    violations = []
    if not 0 < per_s <= 100_000:
        violations.append(FieldViolation(f"{prefix}.per_second", "must be above 0 and at most 100000"))
    if burst and not 1 <= burst <= 1_000_000:
        violations.append(
            FieldViolation(f"{prefix}.burst", "must be between 1 and 1000000 (0: twice the rate)")
        )
    if violations:
        raise InvalidArgument("invalid rate limit", violations)
    return per_s, burst or max(1.0, 2 * per_s)


def _checked_credentials(spec: ProviderSpec, credentials: Mapping[str, str]) -> dict[str, str]:
    violations = [
        FieldViolation(f"credentials.{name}", "is required")
        for name in spec.required
        if not str(credentials.get(name, "")).strip()
    ]
    allowed = set(spec.required) | set(spec.optional)
    for name, value in credentials.items():
        if name not in allowed:
            violations.append(
                FieldViolation(
                    f"credentials.{name}",
                    f"is not a {spec.provider} credential ({', '.join(sorted(allowed))})",
                )
            )
        elif len(value) > MAX_CREDENTIAL_CHARS:
            violations.append(
                FieldViolation(f"credentials.{name}", f"longer than {MAX_CREDENTIAL_CHARS} characters")
            )
    if violations:
        raise InvalidArgument("invalid credentials", violations)
    return {name: value for name, value in credentials.items() if value}


def provider_of(value: str) -> ProviderSpec:
    try:
        return PROVIDERS[Provider(value)]
    except ValueError:
        raise InvalidArgument(
            "unknown provider",
            [FieldViolation("provider", f"must be one of {', '.join(p.value for p in Provider)}")],
        ) from None


class Connections:
    """Every organization's connections; see the module docstring."""

    def __init__(
        self,
        store: ConnectionStore,
        settings: ActionSettings,
        http: OutboundHttp,
        limiter: RateLimiter | None = None,
        *,
        cache_s: float = 5.0,
        meter: metrics.Meter | None = None,
        lookups: ConnectionStore | None = None,
    ) -> None:
        """``lookups``: the store the engine's lookups read through, on a pool of its own: they
        run while the step's transaction holds a connection of the main pool, and waiting there
        for a second one could exhaust it under load (as for the send limits, decision 0031)."""
        self.store = store
        self._lookups = lookups or store
        self.settings = settings
        self.http = http
        self.limiter = limiter
        self.probe = Probe(http, settings.smtp_timeout_s)
        self.cache_s = cache_s
        self._cache: BoundedCache[str, tuple[float, list[ConnectionRow]]] = BoundedCache(
            max_entries=10_000, max_bytes=16 * 1024 * 1024, sizeof=lambda entry: 256 + 512 * len(entry[1])
        )
        self._sealed: BoundedCache[str, tuple[float, str, bytes]] = BoundedCache(
            max_entries=10_000, max_bytes=16 * 1024 * 1024, sizeof=lambda entry: 128 + len(entry[2])
        )
        self._deferred = (meter or metrics.get_meter("beez.executor")).create_counter(
            "beez.executor.integrations.deferred",
            unit="{step}",
            description="Steps sent to wait by a connection's rate limit, per provider.",
        )

    # --- the RPCs ---------------------------------------------------------------------------

    def base_url(self, provider: Provider, credentials: Mapping[str, str] | None = None) -> str:
        """Where the provider's API (or token endpoint) is, from the settings."""
        if provider is Provider.WHATSAPP:
            return self.settings.whatsapp_base_url
        if provider is Provider.TWILIO:
            return self.settings.sms_base_url
        return self.settings.provider_base_urls.get(provider.value) or PROVIDERS[provider].base_url

    def rate(self, row: ConnectionRow, now: datetime) -> RateView:
        own = (
            Limit(rate=row.rate_per_s, burst=row.rate_burst or max(1.0, 2 * row.rate_per_s))
            if row.rate_per_s
            else None
        )
        factor = self.store.aimd.factor(row.rate_factor, row.rate_lowered_at, now)
        return RateView(PROVIDERS[Provider(row.provider)].limit, own, factor)

    async def create(
        self,
        org_id: str,
        user_id: str,
        provider: str,
        name: str,
        credentials: Mapping[str, str],
        rate: tuple[float, float],
        now: datetime,
    ) -> ConnectionRow:
        violations = (
            [] if NAME.match(name) else [FieldViolation("name", "1-64 letters, digits, spaces, _ . -")]
        )
        spec = provider_of(provider)
        if violations:
            raise InvalidArgument("invalid connection", violations)
        checked = _checked_credentials(spec, credentials)
        row = await self.store.create(org_id, user_id, spec.provider.value, name, checked, _rate(*rate), now)
        self._cache.pop(org_id)
        return row

    async def of_org(self, org_id: str, provider: str = "") -> list[ConnectionRow]:
        if provider:
            provider_of(provider)
        return await self.store.of_org(org_id, provider)

    async def get(self, org_id: str, connection_id: str) -> ConnectionRow:
        return await self.store.get(org_id, connection_id)

    async def rotate(
        self, org_id: str, connection_id: str, credentials: Mapping[str, str], now: datetime
    ) -> ConnectionRow:
        row = await self.store.get(org_id, connection_id)
        checked = _checked_credentials(PROVIDERS[Provider(row.provider)], credentials)
        row = await self.store.rotate(org_id, connection_id, checked, now)
        self._cache.pop(org_id)
        self._sealed.pop(connection_id)
        return row

    async def set_rate(self, org_id: str, connection_id: str, per_s: float, burst: float) -> ConnectionRow:
        row = await self.store.set_rate(org_id, connection_id, _rate(per_s, burst))
        self._cache.pop(org_id)
        return row

    async def delete(self, org_id: str, connection_id: str) -> None:
        await self.store.delete(org_id, connection_id)
        self._cache.pop(org_id)
        self._sealed.pop(connection_id)

    async def test(self, org_id: str, connection_id: str, now: datetime) -> TestResult:
        """The provider's harmless call (:mod:`.probe`) with the connection's credentials."""
        row = await self.store.get(org_id, connection_id)
        provider = Provider(row.provider)
        credentials = await self.store.credentials(org_id, connection_id)
        redactor = Redactor(credentials.values())
        if PROVIDERS[provider].oauth2:
            try:
                _, expires_at = await self._token(org_id, row.id, provider, now, force=True)
            except Exception as exc:
                return TestResult(
                    False, f"{provider}: token refresh failed: {exc}", getattr(exc, "status_code", 0)
                )
            return TestResult(
                True, f"{provider}: access token refreshed, valid until {expires_at.isoformat()}"
            )
        result = await self.probe.call(provider, self.base_url(provider, credentials), credentials, now)
        return replace(result, detail=redactor.text(result.detail))

    async def verify_callback(
        self, org_id: str, connection_id: str, scheme: int, signed: Signed, given: str
    ) -> bool:
        """Whether the organization's connection signed a callback (:mod:`.callbacks`).

        Raises:
            NotFound: no such connection in the organization.
            InvalidArgument: an unknown scheme, or a connection of a provider the scheme is not for.
            FailedPrecondition: the connection has no credential to check the scheme with.
        """
        known = SCHEMES.get(scheme)
        if known is None:
            raise InvalidArgument(
                "unknown scheme", [FieldViolation("scheme", "must be TWILIO, WHATSAPP or WHATSAPP_HANDSHAKE")]
            )
        row = await self.store.get(org_id, connection_id)
        if row.provider != known.provider.value:
            raise InvalidArgument(
                "wrong provider",
                [
                    FieldViolation(
                        "id", f"is a {row.provider} connection; the scheme checks {known.provider} ones"
                    )
                ],
            )
        credentials = await self.store.credentials(org_id, connection_id)
        if not credentials.get(known.credential):
            raise FailedPrecondition(
                f"the connection has no {known.credential}: rotate it with one to take its callbacks"
            )
        return is_signed_by(scheme, credentials, signed, given)

    async def _token(
        self, org_id: str, connection_id: str, provider: Provider, now: datetime, *, force: bool = False
    ) -> tuple[str, datetime]:
        spec = PROVIDERS[provider]

        async def refresh(credentials: dict[str, str]) -> TokenGrant:
            if spec.service_account:
                return await jwt_bearer_grant(self.http, self.settings.fcm_token_url, credentials, now)
            return await refresh_grant(
                self.http, spec, self.base_url(provider, credentials), credentials, now
            )

        return await self.store.access_token(
            org_id, connection_id, now, refresh, skew=REFRESH_SKEW, force=force
        )

    # --- the engine (Integrations) ----------------------------------------------------------

    async def _rows(self, org_id: str) -> list[ConnectionRow]:
        cached = self._cache.get(org_id)
        if cached is not None and time.monotonic() - cached[0] < self.cache_s:
            return cached[1]
        rows = await self._lookups.of_org(org_id)
        self._cache.put(org_id, (time.monotonic(), rows))
        return rows

    async def _credentials(self, org_id: str, connection_id: str) -> dict[str, str]:
        """A connection's credentials for an attempt: its encrypted blob cached like the rows."""
        cached = self._sealed.get(connection_id)
        if cached is not None and cached[1] == org_id and time.monotonic() - cached[0] < self.cache_s:
            return self.store.open(cached[2])
        token = await self._lookups.sealed(org_id, connection_id)
        self._sealed.put(connection_id, (time.monotonic(), org_id, token))
        return self.store.open(token)

    async def bind(self, org_id: str, action_type: str, named: str) -> Binding | None:
        usable = ACTION_PROVIDERS.get(action_type, frozenset())
        if named:
            rows = await self._rows(org_id)
            row = next((r for r in rows if r.id == named), None) or next(
                (r for r in rows if r.name == named), None
            )
            if row is None:
                raise BindingError(f"connection {named!r}: the organization has no such connection")
            if Provider(row.provider) not in usable:
                raise BindingError(
                    f"connection {named!r} is a {row.provider} connection; {action_type} uses "
                    + (" or ".join(sorted(p.value for p in usable)) or "none")
                )
            return Binding(row.id, row.provider)
        default = PLATFORM_DEFAULT_PROVIDERS.get(action_type)
        if default is None:
            return None
        matching = [r for r in await self._rows(org_id) if r.provider == default.value]
        if len(matching) > 1:
            raise BindingError(
                f"the organization has {len(matching)} {default} connections: name one in `connection`"
            )
        return Binding(matching[0].id, matching[0].provider) if matching else None

    async def wait(self, org_id: str, binding: Binding, now: datetime) -> float | None:
        if self.limiter is None:
            return None
        row = next((r for r in await self._rows(org_id) if r.id == binding.id), None)
        if row is None:
            return None  # deleted meanwhile: the attempt will say so
        decision = await self.limiter.acquire(f"integration:{binding.id}", self.rate(row, now).effective)
        if decision.allowed:
            return None
        self._deferred.add(1, {"provider": binding.provider, "quota": QUOTA})
        return decision.retry_after

    async def access(self, org_id: str, binding: Binding, now: datetime) -> ConnectionAccess:
        provider = Provider(binding.provider)
        rows = await self._rows(org_id)
        row = next((r for r in rows if r.id == binding.id), None)
        credentials = await self._credentials(org_id, binding.id)  # NotFound: deleted meanwhile
        token = None
        if PROVIDERS[provider].oauth2:

            async def token() -> str:
                return (await self._token(org_id, binding.id, provider, now))[0]

        return ConnectionAccess(
            id=binding.id,
            provider=provider.value,
            name=row.name if row is not None else binding.id,
            credentials=credentials,
            base_url=credentials.get("instance_url") or self.base_url(provider, credentials),
            token=token,
        )

    async def throttled(self, org_id: str, binding: Binding, now: datetime) -> None:
        await self.store.throttled(binding.id, now)
        self._cache.pop(org_id)  # this replica sees the lower rate at once, the others within cache_s
