"""Size limits at the edge, derived from the NATS server's ``max_payload`` (decision 0026).

A START job carries the workflow version it runs and the triggering event
(``ExecutionStart``), and ``AutomationChanged`` carries the workflow. A message over the
server's ``max_payload`` can never be published, so the edge refuses what could produce one:

* a workflow (serialized, step ids assigned) of at most 5/8 of ``max_payload``,
* an event (serialized, normalized) of at most 1/4 of ``max_payload``,
* leaving 1/8 (128 KiB at the default 1 MiB) for the job's envelope (ids, priority, timestamps,
  contact id: well under 1 KiB) and the headers (trace, message id, organization: under 1 KiB).

So a workflow and an event that were each accepted always fit in one START job. Each service
may set a lower limit of its own; the derived one is the ceiling.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

DEFAULT_MAX_PAYLOAD = 1024 * 1024
"""nats-server's default ``max_payload``; used until the service has connected."""

WORKFLOW_SHARE = (5, 8)
EVENT_SHARE = (1, 4)


class _HasMaxPayload(Protocol):
    @property
    def max_payload(self) -> int: ...


def workflow_limit(max_payload: int) -> int:
    """The largest serialized workflow whose messages always fit ``max_payload``."""
    return max_payload * WORKFLOW_SHARE[0] // WORKFLOW_SHARE[1]


def event_limit(max_payload: int) -> int:
    """The largest serialized event whose START always fits ``max_payload`` with any workflow."""
    return max_payload * EVENT_SHARE[0] // EVENT_SHARE[1]


def edge_limit(
    configured: int, derive: Callable[[int], int], connection: Callable[[], _HasMaxPayload | None]
) -> Callable[[], int]:
    """A limit read at each check: the lower of ``configured`` and the one derived from the server.

    ``connection`` returns the service's NATS client, or None before it has connected (then the
    default ``max_payload`` is assumed).
    """

    def limit() -> int:
        nc = connection()
        max_payload = nc.max_payload if nc is not None and nc.max_payload else DEFAULT_MAX_PAYLOAD
        return min(configured, derive(max_payload))

    return limit
