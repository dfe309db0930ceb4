"""What a catalog entry is: a trigger type, an action or control type, a condition operator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from beez.workflow.catalog.pieces import FILTERS, SCALAR, config_schema

LOOP_MAX_TIMES = 1000
"""The most iterations a ``loop`` may run (``times``, or ``max_items`` for ``over``)."""

LOOP_DEFAULT_MAX_ITEMS = 100
"""How many items a ``loop {over}`` visits when it gives no ``max_items``."""

LOOP_MAX_ITEMS = LOOP_MAX_TIMES

TRIGGER_CATEGORIES: tuple[str, ...] = ("time", "event", "condition")
"""The kinds of trigger: on a schedule or a date (time), on an event (event), when a condition
about a contact becomes true (condition). Each kind has its constructor below
(:func:`event_trigger`; time and condition kinds add theirs the same way)."""

ACTION_CATEGORIES: tuple[str, ...] = (
    "communication",
    "crm",
    "tasks",
    "integration",
    "analytics",
    "control",
    "ai",
)
"""How the builder groups action types: the seed's groups (Communication, CRM, Task & Activity,
Integrations, Analytics & Reporting, Automation Control, AI), in its order. A category is only
for display: how the engine runs a type is :attr:`ActionType.runner` (decision 0047)."""

LOCAL_BY_DEFAULT: frozenset[str] = frozenset({"crm", "tasks"})
"""The categories whose types only compute commands, events and variables unless they say
otherwise (``ActionType.local``)."""

ENGINE, LOCAL, EXTERNAL = "engine", "local", "external"
RUNNERS: tuple[str, ...] = (ENGINE, LOCAL, EXTERNAL)
"""How the engine runs a type: ``engine`` (the engine itself, in the step's transaction: flow
control and changes to executions), ``local`` (a registered action that only computes commands,
events and variables, run in the step's transaction) or ``external`` (a registered action that
calls out, between two commits under its idempotency key)."""

FAILED_BRANCH = "failed"
"""The branch a step that does something (not an ``engine`` type) may carry: it runs when the
step fails for good, instead of the execution failing (decision 0047)."""


@dataclass(frozen=True, slots=True)
class TriggerType:
    """A trigger type: what event it listens to and what ``config``/``filters`` it takes.

    ``category`` is one of :data:`TRIGGER_CATEGORIES`. ``event`` is the event type an event
    trigger listens to by default (None: ``trigger.event`` must name one); time and condition
    triggers listen to no event.
    ``check`` reports what the schema cannot (a regular expression RE2 refuses...) as
    ``(path under config, problem)``.
    """

    type: str
    name: str
    description: str
    event: str | None
    category: str = "event"
    """time, event or condition: how the builder groups it."""
    config_schema: dict[str, Any] = field(default_factory=lambda: config_schema("config", {}, retry=False))
    filters_schema: dict[str, Any] = field(default_factory=lambda: dict(FILTERS))
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    event_driven: bool = False
    """A time type that an event sets off (its fire is that event's, deferred)."""

    @property
    def requires_event(self) -> bool:
        """Whether ``trigger.event`` must be given: an event trigger without a default event, or a
        time type an event sets off (``event_driven``: delay, time window, business hours)."""
        return self.event is None and (self.category == "event" or self.event_driven)


@dataclass(frozen=True, slots=True)
class ActionType:
    """An action or control type and the ``config`` and branches it takes.

    ``branches`` are the fixed branch names; ``named_branches`` types (switch, random_split)
    take branches named by the author instead. ``channel`` is the contact channel of a
    communication action (None for others and for Slack, which goes to the team).
    """

    type: str
    name: str
    description: str
    category: str
    """One of :data:`ACTION_CATEGORIES`: how the builder groups it, nothing more."""
    config_schema: dict[str, Any]
    branches: tuple[str, ...] = ()
    named_branches: bool = False
    channel: str | None = None
    engine: bool = False
    """Run by the engine itself (flow control, changes to executions): no registered action."""
    local: bool | None = None
    """A registered action that only computes commands, events and variables; None: the
    category's default (:data:`LOCAL_BY_DEFAULT`)."""
    message: bool | None = None
    """Sends a message (counted against ``max_messages``; the dry run checks its recipient);
    None: whether the category is communication."""

    @property
    def runner(self) -> str:
        """How the engine runs it: one of :data:`RUNNERS`."""
        if self.engine:
            return ENGINE
        local = self.category in LOCAL_BY_DEFAULT if self.local is None else self.local
        return LOCAL if local else EXTERNAL

    @property
    def is_control(self) -> bool:
        """Whether the engine runs the type itself (it steers the flow or changes executions)
        rather than a registered action doing something; independent of its display category."""
        return self.engine

    @property
    def is_message(self) -> bool:
        """Whether a step of this type sends a message to a contact or the team."""
        return self.category == "communication" if self.message is None else self.message

    @property
    def takes_branches(self) -> bool:
        """Whether steps of this type may carry branches of their own (a ``failed`` branch, which
        every non-engine type may carry, is not counted here)."""
        return bool(self.branches) or self.named_branches

    @property
    def recoverable(self) -> bool:
        """Whether a step of this type may carry a :data:`FAILED_BRANCH`."""
        return not self.engine


@dataclass(frozen=True, slots=True)
class Operator:
    """A condition operator: what it means and which values it accepts.

    ``value_types`` uses: string, number, boolean, null, list (of scalars), strings (a list of
    strings), range (``[lo, hi]`` of numbers or of timestamps), timestamp (RFC 3339 or
    ``YYYY-MM-DD``), interval (``{value, unit}``), regex, none (no value).
    """

    name: str
    description: str
    value_types: tuple[str, ...]
    field_required: bool = True


def trigger_filters(fields: dict[str, str] | None = None) -> dict[str, Any]:
    """A ``filters`` schema: equality matches on the event's data, documenting ``fields`` (a data
    field and what it holds) as the type's own; any other data field may be matched as well."""
    schema = dict(FILTERS)
    if fields:
        schema["properties"] = {name: {**SCALAR, "description": text} for name, text in fields.items()}
    return schema


def event_trigger(
    type_: str,
    name: str,
    description: str,
    event: str | None,
    *,
    filters: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
    required: tuple[str, ...] = (),
) -> TriggerType:
    """An event trigger listening to ``event``: ``filters`` documents the data fields its filters
    usually name; ``config`` holds the properties of its type-specific settings (matched by
    :mod:`beez.workflow.triggering`), ``required`` those that must be given."""
    return TriggerType(
        type=type_,
        name=name,
        description=description,
        event=event,
        category="event",
        config_schema=config_schema(type_, config or {}, required, retry=False),
        filters_schema=trigger_filters(filters),
    )
