"""The circuit breaker per provider, against a real local HTTP server that goes down."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from beez.executor.actions import TransientError
from beez.executor.actions.breaker import BreakerState, CircuitBreakers
from beez.executor.actions.http import OutboundHttp
from tests.executor.actions.conftest import NOW, StandIn, settings_for


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def http(stand_in: StandIn, reader: InMemoryMetricReader, clock: Clock) -> AsyncIterator[OutboundHttp]:
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    breakers = CircuitBreakers(failure_threshold=3, cooldown_s=30, clock=clock, meter=meter)
    client = OutboundHttp(settings_for(stand_in), breakers=breakers)
    yield client
    await client.aclose()


def gauge(reader: InMemoryMetricReader) -> dict[str, int]:
    data = reader.get_metrics_data()
    assert data is not None
    states: dict[str, int] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name != "beez.executor.provider.circuit_state":
                    continue
                for point in metric.data.data_points:
                    assert isinstance(point, NumberDataPoint) and point.attributes is not None
                    states[str(point.attributes["provider"])] = int(point.value)
    return states


async def call(http: OutboundHttp, url: str) -> TransientError | None:
    try:
        await http.request("POST", url, now=NOW, content=b"{}")
    except TransientError as exc:
        return exc
    return None


async def test_a_failing_provider_opens_fails_fast_then_a_probe_closes_it(
    stand_in: StandIn, http: OutboundHttp, reader: InMemoryMetricReader, clock: Clock
) -> None:
    down = lambda: web.Response(status=503, text="down")  # noqa: E731
    stand_in.script("POST", "/api", down, down, down, lambda: web.Response(text="ok"))
    provider = f"http://127.0.0.1:{stand_in.port}"

    for _ in range(3):
        failure = await call(http, stand_in.url("/api"))
        assert failure is not None and failure.category == "http_5xx"
    assert http.breakers.state(provider) is BreakerState.OPEN
    assert gauge(reader) == {provider: 1}

    for _ in range(5):  # open: nothing reaches the provider, and the step is rescheduled
        failure = await call(http, stand_in.url("/api"))
        assert failure is not None and failure.category == "circuit_open"
        assert failure.retry_after == 30
    assert len(stand_in.seen) == 3

    clock.now += 30
    assert await call(http, stand_in.url("/api")) is None  # the half-open probe succeeds
    assert len(stand_in.seen) == 4
    assert http.breakers.state(provider) is BreakerState.CLOSED
    assert gauge(reader) == {provider: 0}


async def test_a_failed_probe_opens_the_circuit_again_and_other_providers_are_unaffected(
    stand_in: StandIn, other_stand_in: StandIn, http: OutboundHttp, clock: Clock
) -> None:
    stand_in.script("POST", "/api", lambda: web.Response(status=502))
    other_stand_in.script("POST", "/api", lambda: web.Response(text="ok"))
    for _ in range(3):
        await call(http, stand_in.url("/api"))
    clock.now += 31
    probe = await call(http, stand_in.url("/api"))
    assert probe is not None and probe.category == "http_5xx"
    again = await call(http, stand_in.url("/api"))
    assert again is not None and again.category == "circuit_open"
    assert len(stand_in.seen) == 4
    assert await call(http, other_stand_in.url("/api")) is None


async def test_rate_limits_and_client_errors_do_not_open_the_circuit(
    stand_in: StandIn, http: OutboundHttp
) -> None:
    stand_in.script("POST", "/api", lambda: web.Response(status=429, headers={"Retry-After": "1"}))
    for _ in range(6):
        failure = await call(http, stand_in.url("/api"))
        assert failure is not None and failure.category == "http_429"
    assert len(stand_in.seen) == 6
