"""A circuit breaker per provider (scheme, host and port), so a provider that is down is not
hammered.

- closed (0): calls go through; ``failure_threshold`` transient failures in a row open it.
- open (1): calls fail at once with TransientError ``circuit_open``, whose ``retry_after`` is
  the rest of the cool-down, so the step waits on a timer: not sent, not dead-lettered, and not
  counted as an attempt of its retry policy (the engine's settle).
- half-open (2): after ``cooldown_s`` one probe goes through; its success closes the circuit,
  a transient failure opens it again for another cool-down. Other calls fail fast meanwhile.

What counts as a provider failure: timeouts, connection and DNS failures, and 5xx answers. A
429 or 408 is the provider answering (it is up, and asks us to slow down through Retry-After);
a 4xx or a 2xx resets the count. The state is kept per executor process (decision 0025) and
shows as the gauge ``beez.executor.provider.circuit_state`` (0/1/2) with the provider's origin.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import IntEnum

from opentelemetry import metrics

from beez.executor.actions.base import TransientError

__all__ = ["CIRCUIT_OPEN", "BreakerState", "CircuitBreakers", "counts_against_provider"]

CIRCUIT_OPEN = "circuit_open"
"""The category of a call failed fast by an open circuit: the provider was not called."""

_NOT_PROVIDER_FAILURES = frozenset({"http_429", "http_408"})


class BreakerState(IntEnum):
    """The gauge's values."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


def counts_against_provider(error: TransientError) -> bool:
    """Whether a transient failure says the provider is down (see the module's docstring)."""
    return error.category not in _NOT_PROVIDER_FAILURES


@dataclass(slots=True)
class _Circuit:
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    probing: bool = False


class CircuitBreakers:
    """One circuit per provider origin; ``failure_threshold`` 0 turns breaking off."""

    def __init__(
        self,
        *,
        failure_threshold: int,
        cooldown_s: float,
        clock: Callable[[], float] = time.monotonic,
        meter: metrics.Meter | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._circuits: dict[str, _Circuit] = {}
        (meter or metrics.get_meter("beez.executor.actions")).create_observable_gauge(
            "beez.executor.provider.circuit_state",
            callbacks=[self._observe],
            description="Circuit breaker state per provider: 0 closed, 1 open, 2 half-open.",
        )

    def state(self, provider: str) -> BreakerState:
        circuit = self._circuits.get(provider)
        return circuit.state if circuit is not None else BreakerState.CLOSED

    def before(self, provider: str) -> None:
        """Lets a call to ``provider`` go, or raises TransientError ``circuit_open``."""
        circuit = self._circuits.get(provider)
        if circuit is None or circuit.state is BreakerState.CLOSED:
            return
        waited = self._clock() - circuit.opened_at
        if circuit.state is BreakerState.OPEN and waited >= self.cooldown_s:
            circuit.state = BreakerState.HALF_OPEN
            circuit.probing = False
        if circuit.state is BreakerState.HALF_OPEN and not circuit.probing:
            circuit.probing = True
            return
        raise TransientError(
            f"{provider} is failing; calls to it are paused (circuit open)",
            category=CIRCUIT_OPEN,
            retry_after=max(1.0, self.cooldown_s - waited),
        )

    def succeeded(self, provider: str) -> None:
        """The provider answered (2xx, or an answer that is not its own failure)."""
        circuit = self._circuits.get(provider)
        if circuit is not None:
            circuit.state = BreakerState.CLOSED
            circuit.failures = 0
            circuit.probing = False

    def failed(self, provider: str) -> None:
        """A transient failure that counts against the provider."""
        if self.failure_threshold <= 0:
            return
        circuit = self._circuits.setdefault(provider, _Circuit())
        circuit.failures += 1
        if circuit.state is BreakerState.HALF_OPEN or circuit.failures >= self.failure_threshold:
            circuit.state = BreakerState.OPEN
            circuit.opened_at = self._clock()
            circuit.probing = False

    def release(self, provider: str) -> None:
        """A call ended without a verdict on the provider (or with one): a half-open circuit may
        send its next probe."""
        circuit = self._circuits.get(provider)
        if circuit is not None:
            circuit.probing = False

    def _observe(self, _: metrics.CallbackOptions) -> Iterable[metrics.Observation]:
        return [
            metrics.Observation(int(circuit.state), {"provider": provider})
            for provider, circuit in self._circuits.items()
        ]
