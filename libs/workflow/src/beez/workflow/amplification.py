"""How much one execution of a workflow can do at worst: its steps and its messages, and the caps.

An execution is capped at ``max_steps`` steps and ``max_messages`` messages (decision 0023);
the executor counts both on the execution row and fails an execution that would go past either.
Validation refuses, up front, a workflow that could never stay within them:

- a sequence of steps costs the sum of its steps; a step costs one, plus, for a step that
  branches (condition, switch, random_split, the waits), its most expensive branch, since one
  visit takes one branch;
- a ``loop`` of at most ``n`` iterations (``times``, or ``max_items`` for ``over``, default
  :data:`~beez.workflow.catalog.LOOP_DEFAULT_MAX_ITEMS`) costs ``1 + n * (body + 1)`` steps:
  the engine visits the loop step once on entry and once after each iteration; its messages are
  ``n * body``. Nested loops multiply: three loops of 1,000 around a send are 10⁹ messages;
- a message is a step of a communication type (:func:`is_message`): email, WhatsApp and SMS to
  the contact, and Slack to the team.

The violation names the innermost loop that goes past a cap on its own (the smallest part to
change), or ``actions`` when only the whole workflow does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from beez.api.workflow.v1.workflow_pb2 import Action, Workflow
from beez.workflow import catalog
from beez.workflow.errors import Issue, join_path
from beez.workflow.model import struct_to_dict

__all__ = [
    "DEFAULT_MAX_MESSAGES",
    "DEFAULT_MAX_STEPS",
    "Cost",
    "ExecutionLimits",
    "amplification_issues",
    "is_message",
    "loop_bound",
    "worst_case",
]

DEFAULT_MAX_STEPS = 10_000
"""Steps one execution may run unless its organization's limits say otherwise."""

DEFAULT_MAX_MESSAGES = 1_000
"""Messages one execution may send unless its organization's limits say otherwise."""


@dataclass(frozen=True, slots=True)
class ExecutionLimits:
    """The caps one execution runs under."""

    max_steps: int = DEFAULT_MAX_STEPS
    max_messages: int = DEFAULT_MAX_MESSAGES


@dataclass(frozen=True, slots=True)
class Cost:
    """The most steps and messages a part of a workflow can take in one execution."""

    steps: int = 0
    messages: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.steps + other.steps, self.messages + other.messages)


def is_message(action_type: str) -> bool:
    """Whether a step of ``action_type`` sends a message, counted against ``max_messages``."""
    return catalog.is_communication(action_type)


def reruns(action: Action) -> int:
    """How many times a ``retry_failed_action`` in the step's failed branch may run it again."""
    for branch in action.branches:
        if branch.name == catalog.FAILED_BRANCH:
            for step in branch.actions:
                if step.type == "retry_failed_action":
                    times = struct_to_dict(step.config).get("times", 1)
                    return max(0, int(times)) if isinstance(times, int | float) else 1
    return 0


def loop_bound(config: Mapping[str, Any]) -> int:
    """The most iterations a ``loop`` with this config can run (what the engine would cut it to)."""
    if "over" in config:
        limit = config.get("max_items", catalog.LOOP_DEFAULT_MAX_ITEMS)
        count = int(limit) if isinstance(limit, int | float) else catalog.LOOP_DEFAULT_MAX_ITEMS
    else:
        times = config.get("times", 0)
        count = int(times) if isinstance(times, int | float) else 0
    return max(0, min(count, catalog.LOOP_MAX_TIMES))


class _Walk:
    """Computes costs bottom-up, noting the innermost loops that go past a cap."""

    def __init__(self, limits: ExecutionLimits) -> None:
        self.limits = limits
        self.issues: list[Issue] = []

    def sequence(self, actions: Sequence[Action], path: str) -> tuple[Cost, bool]:
        """The cost of ``actions`` and whether a loop inside already went past a cap."""
        total, reported = Cost(), False
        for index, action in enumerate(actions):
            cost, inner = self.step(action, join_path(path, index))
            total, reported = total + cost, reported or inner
        return total, reported

    def step(self, action: Action, path: str) -> tuple[Cost, bool]:
        own = Cost(1, 1 if is_message(action.type) else 0)
        branches = [
            self.sequence(branch.actions, join_path(f"{path}.branches[{index}]", "actions"))
            for index, branch in enumerate(action.branches)
        ]
        reported = any(inner for _, inner in branches)
        if action.type != "loop":
            most = Cost(
                max((cost.steps for cost, _ in branches), default=0),
                max((cost.messages for cost, _ in branches), default=0),
            )
            runs = 1 + reruns(action)  # retry_failed_action visits the step and its branch again
            return Cost(runs * (own + most).steps, runs * (own + most).messages), reported
        body = sum((cost for cost, _ in branches), Cost())
        n = loop_bound(struct_to_dict(action.config))
        cost = Cost(1 + n * (body.steps + 1), n * body.messages)
        if not reported:
            reported = self.check(cost, path, f"(the loop runs up to {n} times)")
        return cost, reported

    def check(self, cost: Cost, path: str, why: str) -> bool:
        """Notes each cap ``cost`` goes past at ``path``; whether it went past any."""
        over = False
        if cost.messages > self.limits.max_messages:
            self.issues.append(
                Issue(
                    path,
                    f"can send up to {cost.messages:,} messages in one execution {why}; "
                    f"at most {self.limits.max_messages:,} are allowed",
                )
            )
            over = True
        if cost.steps > self.limits.max_steps:
            self.issues.append(
                Issue(
                    path,
                    f"can run up to {cost.steps:,} steps in one execution {why}; "
                    f"at most {self.limits.max_steps:,} are allowed",
                )
            )
            over = True
        return over


def worst_case(workflow: Workflow) -> Cost:
    """The most steps and messages one execution of ``workflow`` can take."""
    cost, _ = _Walk(ExecutionLimits()).sequence(workflow.actions, "actions")
    return cost


def amplification_issues(workflow: Workflow, limits: ExecutionLimits) -> list[Issue]:
    """Why ``workflow`` cannot stay within ``limits`` in every execution; empty when it can."""
    walk = _Walk(limits)
    cost, reported = walk.sequence(workflow.actions, "actions")
    if not reported:
        walk.check(cost, "actions", "(all steps together)")
    return walk.issues
