"""What an execution can wait for, and the signals that end the waits, defined once.

An execution that waits stores a ``wait_kind`` and the token of the job that may wake it. Three
kinds are registered with the trigger service, which matches events against them and answers
with a SIGNAL job: ``event`` (wait_for_event), ``until`` (wait_until) and ``goal``. The job's
``signal_kind`` says which (:data:`SIGNALS`); the branch a waiting step then takes is
:data:`beez.workflow.branches.ARRIVED` (``event`` / ``met``), and ``timeout`` takes the other one.
"""

from __future__ import annotations

from enum import StrEnum

from beez.api.messages.v1.jobs_pb2 import JobSignal
from beez.api.messages.v1.lifecycle_pb2 import WaitKind as RegistrationKind


class WaitKind(StrEnum):
    """What a waiting execution waits for (the executor's ``wait_kind`` column)."""

    DELAY = "delay"
    """A step's ``delay``, before it runs."""
    QUIET_HOURS = "quiet_hours"
    RETRY = "retry"
    """The backoff before the next attempt of a failed step."""
    RATE_LIMIT = "rate_limit"
    """A send over its organization's or channel's limit, before its attempt (not an attempt)."""
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

SIGNALS: dict[str, JobSignal] = {
    WaitKind.EVENT: JobSignal.JOB_SIGNAL_EVENT,
    WaitKind.UNTIL: JobSignal.JOB_SIGNAL_MET,
    GOAL: JobSignal.JOB_SIGNAL_GOAL,
}
"""The ``Job.signal_kind`` each registered wait sends when it fires (decision 0014)."""

REGISTRATION_KINDS: dict[str, RegistrationKind] = {
    WaitKind.EVENT: RegistrationKind.WAIT_KIND_EVENT,
    WaitKind.UNTIL: RegistrationKind.WAIT_KIND_UNTIL,
    GOAL: RegistrationKind.WAIT_KIND_GOAL,
}
"""The kind a registration carries on the bus, by name."""

REGISTRATION_NAMES: dict[int, str] = {kind: name for name, kind in REGISTRATION_KINDS.items()}
"""The name of each registration kind carried on the bus."""
