"""What an execution can wait for, and the signals that end the waits, defined once.

An execution that waits stores a ``wait_kind`` and the token of the job that may wake it. Three
kinds are registered with the trigger service, which matches events against them and answers
with a SIGNAL job: ``event`` (wait_for_event), ``until`` (wait_until) and ``goal``. The signal a
registered wait sends is also the branch its step takes (``event`` / ``met``), and ``timeout``
takes the other one.
"""

from __future__ import annotations

from enum import StrEnum

from beez.api.messages.v1.lifecycle_pb2 import WaitKind as RegistrationKind


class WaitKind(StrEnum):
    """What a waiting execution waits for (the executor's ``wait_kind`` column)."""

    DELAY = "delay"
    """A step's ``delay``, before it runs."""
    QUIET_HOURS = "quiet_hours"
    RETRY = "retry"
    """The backoff before the next attempt of a failed step."""
    WAIT = "wait"
    """A ``wait`` step."""
    EVENT = "event"
    UNTIL = "until"
    RESUME = "resume"
    """A fresh job after one job ran its share of steps, or after the sweeper found it orphaned."""
    RETRY_EXECUTION = "retry_execution"
    """RetryExecution of a failed execution."""


GOAL = "goal"
"""The registration of an automation's goal (not a wait of the execution's position)."""

TIMEOUT = "timeout"
"""The signal and the branch of a registered wait whose time ran out."""

SIGNALS: dict[str, str] = {WaitKind.EVENT: "event", WaitKind.UNTIL: "met", GOAL: "goal"}
"""The ``Job.signal`` each registered wait sends when it fires: for ``event`` and ``until``
also the branch the waiting step takes."""

REGISTRATION_KINDS: dict[str, RegistrationKind] = {
    WaitKind.EVENT: RegistrationKind.WAIT_KIND_EVENT,
    WaitKind.UNTIL: RegistrationKind.WAIT_KIND_UNTIL,
    GOAL: RegistrationKind.WAIT_KIND_GOAL,
}
"""The kind a registration carries on the bus, by name."""

REGISTRATION_NAMES: dict[int, str] = {kind: name for name, kind in REGISTRATION_KINDS.items()}
"""The name of each registration kind carried on the bus."""
