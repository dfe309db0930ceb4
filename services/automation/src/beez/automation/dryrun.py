"""TestAutomation's dry run: would a sample event start the automation, and what would it do.

Pure logic over ``beez.workflow``; it reads nothing and writes nothing, sends nothing and
publishes nothing. It walks the workflow the way the executor does (``beez.workflow.navigation``)
and reports each step it would visit, in order:

- ``would_start``: the sample's type is the event the trigger listens to (an empty type is taken
  to be that event), the trigger filters match its data, and the entry conditions hold. The
  settings (runOnce, maxExecutions, reentry, concurrency) depend on history and are not checked.
  The steps are walked either way, so templates can be previewed on any sample.
- communication steps: their config rendered (``detail.config``: subject, body, text...), the
  recipient (``detail.to``: ``to``, else the contact's address), and ``would_send``, or
  ``skipped`` with ``detail.reason`` when the contact has no consent for the channel (whatever
  ``to`` says, as the executor decides) or there is no address. Slack needs no consent.
- other actions: ``would_run`` with the rendered config; nothing is called. Effects on the
  contact snapshot (tags, lists, score, fields) and ``set_variable`` are applied to the dry-run
  context, so later conditions and templates see them, as they would in a real run.
- ``wait``: ``wait``; a step's own ``delay`` shows as ``detail.delay``. Time does not pass.
- ``condition``/``switch``: evaluated on the context; ``branch`` with ``detail.branch``.
- ``wait_for_event``: takes the branch ``wait_outcomes`` names for it (keyed by step id or
  position), else ``timeout``: in a dry run no event arrives, which is what the timeout means.
  ``wait_until``: the named branch, else ``met`` when its conditions already hold on the
  sample, else ``timeout``. Outcome ``wait`` with ``detail.branch``.
- ``random_split``: the stable choice of ``random_split_choice`` keyed by
  ``<automation id>:<step id>:<contact id>``, the key the executor uses, so the dry run shows
  the branch this contact would really take.
- ``loop``: ``loop`` with ``detail.iterations``, then its body once per iteration, with
  ``vars.item`` and ``vars.loop_index`` set as the executor sets them. A run visits
  at most :data:`MAX_VISITS` steps; past that a ``truncated`` step ends the report.
- ``stop``: ``stop``, and the walk ends. A template that fails to render gives ``error``
  with ``detail.error`` and ends the walk, as it would fail the execution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beez.api.messages.v1.events_pb2 import Event
from beez.api.workflow.v1.workflow_pb2 import Action, Workflow
from beez.workflow import catalog
from beez.workflow.conditions import compile_conditions
from beez.workflow.context import build_context
from beez.workflow.errors import ConditionError, Issue, TemplateError
from beez.workflow.filters import filters_match
from beez.workflow.model import conditions_from_json, struct_to_dict
from beez.workflow.navigation import (
    Position,
    action_at,
    enter_branch,
    first,
    loop_items,
    next_after,
    positions,
    random_split_choice,
)
from beez.workflow.templates import render, render_config

__all__ = ["MAX_VISITS", "DryRun", "TestStepResult", "dry_run", "trigger_event", "wait_outcome_issues"]

MAX_VISITS = 1000
"""The most steps one dry run visits (loops repeat their bodies)."""

WAIT_BRANCHES: dict[str, tuple[str, ...]] = {
    "wait_for_event": ("event", "timeout"),
    "wait_until": ("met", "timeout"),
}

_RECIPIENT = {"email": "email", "sms": "phone", "whatsapp": "phone"}
_ADDRESS = {"email": "email address", "phone": "phone number"}
_LOOP_VARS = ("item", "loop_index")


@dataclass(frozen=True)
class TestStepResult:
    """One step the dry run visited."""

    step_id: str
    type: str
    path: Position
    outcome: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DryRun:
    """Whether the sample would start the automation, why, and the steps it would take."""

    would_start: bool
    reason: str
    steps: list[TestStepResult]


def trigger_event(workflow: Workflow) -> str:
    """The event type the workflow's trigger listens to: ``trigger.event`` or the catalog default."""
    if workflow.trigger.event:
        return workflow.trigger.event
    entry = catalog.trigger_type(workflow.trigger.type)
    return entry.event or "" if entry is not None else ""


def wait_outcome_issues(workflow: Workflow, wait_outcomes: Mapping[str, str]) -> list[Issue]:
    """Problems of ``wait_outcomes``: keys naming no wait step, and branches such a step lacks."""
    waits: dict[str, Action] = {}
    for pos, action in positions(workflow):
        if action.type in WAIT_BRANCHES:
            waits[pos] = action
            if action.id:
                waits[action.id] = action
    issues = []
    for key, branch in sorted(wait_outcomes.items()):
        path = f"wait_outcomes[{key}]"
        wait = waits.get(key)
        if wait is None:
            issues.append(
                Issue(path, "names no wait_for_event or wait_until step (use a step id or position)")
            )
        elif branch not in WAIT_BRANCHES[wait.type]:
            issues.append(Issue(path, f"must be one of {', '.join(WAIT_BRANCHES[wait.type])}"))
    return issues


def _start_check(workflow: Workflow, event: Event, ctx: Mapping[str, Any], now: datetime) -> tuple[bool, str]:
    listens_to = trigger_event(workflow)
    if event.type != listens_to:
        return False, f"the automation listens to {listens_to}, not {event.type}"
    if not filters_match(struct_to_dict(workflow.trigger.filters), struct_to_dict(event.data)):
        return False, "the trigger filters do not match the event data"
    try:
        held = (
            compile_conditions(workflow.conditions).evaluate(ctx, now) if len(workflow.conditions) else True
        )
    except ConditionError as exc:  # a stored version the current rules no longer accept
        return False, f"the entry conditions do not compile: {exc}"
    if not held:
        return False, "the entry conditions do not hold"
    return True, "the trigger filters and entry conditions hold"


@dataclass
class _Loop:
    """A loop being run: its items (fixed on entry), the iteration, the variables it hides."""

    items: list[Any]
    saved: dict[str, Any]
    index: int = -1


class _Walk:
    """The state of one dry run: the context it mutates and the steps it records."""

    def __init__(
        self,
        automation_id: str,
        workflow: Workflow,
        ctx: dict[str, Any],
        outcomes: Mapping[str, str],
        now: datetime,
    ) -> None:
        self.automation_id = automation_id
        self.workflow = workflow
        self.ctx = ctx
        self.outcomes = outcomes
        self.now = now
        self.steps: list[TestStepResult] = []
        self.loops: dict[Position, _Loop] = {}

    @property
    def contact(self) -> dict[str, Any]:
        contact: dict[str, Any] = self.ctx["contact"]
        return contact

    def run(self) -> None:
        pos = first(self.workflow)
        visits = 0
        while pos is not None:
            if visits >= MAX_VISITS:
                self.steps.append(
                    TestStepResult("", "", pos, "truncated", {"reason": f"stopped after {MAX_VISITS} steps"})
                )
                return
            visits += 1
            pos = self.step(pos)

    def record(self, action: Action, pos: Position, outcome: str, detail: dict[str, Any]) -> None:
        if action.HasField("delay"):
            detail = {"delay": {"value": action.delay.value, "unit": action.delay.unit}, **detail}
        self.steps.append(TestStepResult(action.id, action.type, pos, outcome, detail))

    def branch(self, pos: Position, name: str | None) -> Position | None:
        """Where the flow goes when the step at ``pos`` takes branch ``name`` (None: no branch)."""
        entered = enter_branch(self.workflow, pos, name) if name is not None else None
        return entered if entered is not None else next_after(self.workflow, pos)

    def step(self, pos: Position) -> Position | None:
        """Visits the step at ``pos``; returns the next position, None when the run ends."""
        action = action_at(self.workflow, pos)
        config = struct_to_dict(action.config)
        kind = action.type
        try:
            if kind == "loop":
                return self.loop(action, pos, config)
            if kind == "stop":
                self.record(action, pos, "stop", {"reason": render(str(config.get("reason", "")), self.ctx)})
                return None
            if kind == "wait":
                self.record(action, pos, "wait", dict(config))
                return next_after(self.workflow, pos)
            if kind == "condition":
                held = self.holds(config.get("conditions"), pos)
                name = "yes" if held else "no"
                self.record(action, pos, "branch", {"branch": name, "result": held})
                return self.branch(pos, name)
            if kind == "switch":
                chosen = self.switch(action)
                self.record(action, pos, "branch", {"branch": chosen})
                return self.branch(pos, chosen)
            if kind == "random_split":
                contact_id = self.ctx["event"].get("contact_id") or self.contact.get("id") or ""
                key = f"{self.automation_id}:{action.id}:{contact_id}"
                chosen = random_split_choice(action.branches, key)
                self.record(action, pos, "branch", {"branch": chosen})
                return self.branch(pos, chosen)
            if kind in WAIT_BRANCHES:
                chosen = self.wait_branch(action, pos, config)
                self.record(action, pos, "wait", {"branch": chosen, **config})
                return self.branch(pos, chosen)
            self.act(action, pos, config)
        except TemplateError as exc:
            self.record(action, pos, "error", {"error": f"template: {exc}"})
            return None
        except ConditionError as exc:  # a stored version the current rules no longer accept
            self.record(action, pos, "error", {"error": f"conditions: {exc}"})
            return None
        return next_after(self.workflow, pos)

    def loop(self, action: Action, pos: Position, config: Mapping[str, Any]) -> Position | None:
        """Enters the next iteration's body (``vars.item``, ``vars.loop_index`` set), or moves past."""
        variables: dict[str, Any] = self.ctx["vars"]
        state = self.loops.get(pos)
        if state is None:  # entering the loop, not coming back from its body
            items = loop_items(config, self.ctx)
            self.record(action, pos, "loop", {"iterations": len(items)})
            saved = {name: variables[name] for name in _LOOP_VARS if name in variables}
            state = self.loops[pos] = _Loop(items, saved)
        state.index += 1
        entered = (
            enter_branch(self.workflow, pos, "body", state.index) if state.index < len(state.items) else None
        )
        if entered is not None:
            variables.update(item=state.items[state.index], loop_index=state.index)
            return entered
        del self.loops[pos]
        for name in _LOOP_VARS:
            variables.pop(name, None)
        variables.update(state.saved)
        return next_after(self.workflow, pos)

    def holds(self, conditions: Any, pos: Position) -> bool:
        parsed, issues = conditions_from_json(conditions or [], f"{pos}.config.conditions")
        if issues:
            return False
        try:
            return compile_conditions(parsed).evaluate(self.ctx, self.now)
        except ConditionError:
            return False

    def switch(self, action: Action) -> str | None:
        fallback = None
        for candidate in action.branches:
            if candidate.name == "default":
                fallback = candidate.name
            elif compile_conditions(candidate.conditions).evaluate(self.ctx, self.now):
                return candidate.name
        return fallback

    def wait_branch(self, action: Action, pos: Position, config: Mapping[str, Any]) -> str:
        chosen = self.outcomes.get(action.id) if action.id else None
        chosen = chosen or self.outcomes.get(pos)
        if chosen:
            return chosen
        if action.type == "wait_until" and self.holds(config.get("conditions"), pos):
            return "met"
        return "timeout"

    def act(self, action: Action, pos: Position, config: Mapping[str, Any]) -> None:
        """An action that does something: rendered, never run; its effect on the context applied."""
        rendered = render_config(config, self.ctx)
        detail: dict[str, Any] = {"config": rendered}
        if catalog.is_communication(action.type):
            outcome = self.send(action.type, rendered, detail)
        else:
            outcome = "would_run"
            self.apply(action.type, rendered)
        self.record(action, pos, outcome, detail)

    def send(self, type_: str, rendered: Mapping[str, Any], detail: dict[str, Any]) -> str:
        """Consent first, whatever ``to`` says; then ``to``, else the contact's address."""
        channel = catalog.channel(type_)
        if channel is None:  # Slack goes to the team, not to the contact
            return "would_send"
        if self.contact.get("consent", {}).get(channel) is not True:
            detail["reason"] = f"no {channel} consent"
            return "skipped"
        detail["to"] = rendered.get("to") or self.contact.get(_RECIPIENT[channel]) or ""
        if not detail["to"]:
            detail["reason"] = f"contact has no {_ADDRESS[_RECIPIENT[channel]]}"
            return "skipped"
        return "would_send"

    def apply(self, type_: str, config: Mapping[str, Any]) -> None:
        """The action's effect on the dry run's contact snapshot and variables."""
        contact = self.contact
        if type_ in ("add_tag", "remove_tag"):
            tags = [tag for tag in contact.get("tags", []) if tag != config["tag"]]
            contact["tags"] = [*tags, config["tag"]] if type_ == "add_tag" else tags
        elif type_ in ("add_to_list", "remove_from_list"):
            lists = [item for item in contact.get("lists", []) if item != config["list"]]
            contact["lists"] = [*lists, config["list"]] if type_ == "add_to_list" else lists
        elif type_ == "update_score":
            base = 0 if "value" in config else int(contact.get("score") or 0)
            contact["score"] = base + int(config.get("value", config.get("delta", 0)))
        elif type_ == "update_field":  # a custom field, however the author spelled it
            name = str(config["field"]).removeprefix("contact.").removeprefix("fields.")
            contact["fields"] = {**(contact.get("fields") or {}), name: config["value"]}
        elif type_ == "set_variable":
            self.ctx["vars"][config["name"]] = config["value"]


def dry_run(
    automation_id: str,
    workflow: Workflow,
    event: Event,
    wait_outcomes: Mapping[str, str],
    now: datetime,
) -> DryRun:
    """Runs ``workflow`` on the sample ``event`` without side effects; see the module docstring.

    ``wait_outcomes`` must have passed :func:`wait_outcome_issues`.
    """
    sample = Event()
    sample.CopyFrom(event)
    if not sample.type:
        sample.type = trigger_event(workflow)
    ctx = build_context(
        sample,
        None,
        execution={"id": "dry-run", "automation_id": automation_id, "dry_run": True},
    )
    would_start, reason = _start_check(workflow, sample, ctx, now)
    walk = _Walk(automation_id, workflow, ctx, wait_outcomes, now)
    walk.run()
    return DryRun(would_start, reason, walk.steps)
