"""TestAutomation's dry run: would a sample event start the automation, and what would it do.

Pure logic over ``beez.workflow``; it reads nothing and writes nothing, sends nothing and
publishes nothing. It walks the workflow the way the executor does (``beez.workflow.navigation``),
deciding every branch, loop turn, recipient and contact change with the same functions the
executor's engine and actions call (``beez.workflow.branches``, ``.loops``, ``.recipients``,
``.effects``), and reports each step it would visit, in order:

- ``would_start``: the sample's type is the event the trigger listens to (an empty type is taken
  to be that event), the trigger filters match its data, and the entry conditions hold. The
  settings (runOnce, maxExecutions, reentry, concurrency) depend on history and are not checked.
  The steps are walked either way, so templates can be previewed on any sample.
- the contact is the sample's snapshot, as the executor takes it (its id defaults to the event's
  ``contact_id``).
- communication steps: their config rendered (``detail.config``: subject, body, text...), the
  recipient (``detail.to``: ``to``, else the contact's address, as the provider gets it), and
  ``would_send``; or ``skipped`` with ``detail.reason`` when the contact has no consent for the
  channel (whatever ``to`` says) or no address. Slack needs no consent.
- other actions: ``would_run`` with the rendered config; nothing is called. Their effects on
  the contact snapshot (tags, lists, score, fields, assignment) and variables (``set_variable``,
  the ids task and conversation steps create) are applied to the dry-run context, so later
  conditions and templates see them. Task, calendar, activity and conversation steps show the
  command they would send (``detail.command``), with the ids the executor would derive for the
  same position (decision 0043; the dry run's execution id is ``dry-run``); so do the CRM verbs
  of decision 0042 (the request-reply ones set ``dry-run:<name>`` variables for the answer).
- ``wait``: ``wait``; a step's own ``delay`` shows as ``detail.delay``. Time does not pass.
- ``condition``/``switch``: evaluated on the context; ``branch`` with ``detail.branch``.
- ``wait_for_event``: takes the branch ``wait_outcomes`` names for it (keyed by step id or
  position), else ``timeout``: in a dry run no event arrives, which is what the timeout means.
  ``wait_until``: ``met`` at once when its conditions already hold (as in a real run), else the
  named branch, else ``timeout``. Outcome ``wait`` with ``detail.branch``.
- ``random_split``: the stable choice keyed by ``<automation id>:<step id>:<contact id>``, the
  key the executor uses, so the dry run shows the branch this contact would really take.
- ``loop``: ``loop`` with ``detail.iterations``, then its body once per iteration, with
  ``vars.item`` and ``vars.loop_index`` set as the executor sets them. A run visits
  at most :data:`MAX_VISITS` steps; past that a ``truncated`` step ends the report.
- ``cancel_pending_actions``: ``would_run`` (a dry run has no other executions to cancel).
- a step with a ``failed`` branch that would fail: ``error``, then ``vars.error`` is set and the
  branch runs, as in the engine. ``retry_failed_action`` there: ``retry`` and the failed step
  again while re-runs are left (the same failure, in a dry run), then ``skipped``.
- ``calculate_value`` and ``send_error_alert``: their effects (:mod:`beez.workflow.effects_control`);
  the alert's platform command shows as ``detail.command``.
- ``stop``: ``stop``, and the walk ends. A goal written as ``{conditions}`` that holds before a
  step ends the walk with a ``goal`` step, as it ends a real run.
- a step that would fail the execution (a template that does not render, conditions that do not
  parse or compile, a malformed address, a config an action refuses) gives ``error`` with
  ``detail.error`` and ``detail.category``, as the executor records them, and ends the walk.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beez.api.messages.v1.events_pb2 import Contact, Event
from beez.api.workflow.v1.workflow_pb2 import Action, Workflow
from beez.kit.logging import mask_text
from beez.workflow import catalog
from beez.workflow.branches import (
    WAIT_BRANCHES,
    compile_step_conditions,
    condition_branch,
    failed_step,
    goal_reached,
    recovers,
    retry_refusal,
    split_branch,
    step_conditions_path,
    switch_branch,
    wait_timeout_due,
)
from beez.workflow.conditions import compile_conditions
from beez.workflow.context import build_context
from beez.workflow.effects import StepError, StepScope, apply_contact_changes, scoped_effects
from beez.workflow.effects_comms import forwarded_email
from beez.workflow.effects_control import CONTEXT_EFFECTS, failure_vars, step_effect
from beez.workflow.effects_crm import crm_types
from beez.workflow.errors import ConditionBudgetError, ConditionError, Issue, TemplateError
from beez.workflow.intervals import wait_due, zone
from beez.workflow.lead_score import context_effect_of
from beez.workflow.loops import loop_turn
from beez.workflow.model import struct_to_dict
from beez.workflow.navigation import (
    Position,
    action_at,
    enter_branch,
    first,
    next_after,
    positions,
)
from beez.workflow.recipients import InvalidRecipient, contact_id, delivery
from beez.workflow.templates import render, render_config
from beez.workflow.triggering import TriggerMatcher, started_workflow

__all__ = [
    "MAX_VISITS",
    "WAIT_BRANCHES",
    "DryRun",
    "TestStepResult",
    "dry_run",
    "trigger_event",
    "wait_outcome_issues",
]

_CRM_TYPES = frozenset(crm_types())
"""The CRM verbs of decision 0042, whose command the dry run shows too."""

MAX_VISITS = 1000
"""The most steps one dry run visits (loops repeat their bodies)."""


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
    """Whether the sample would start the automation, why, the steps it would take, and the
    contact snapshot and variables the run would end with."""

    would_start: bool
    reason: str
    steps: list[TestStepResult]
    contact: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)


def trigger_event(workflow: Workflow) -> str:
    """The event type the workflow's trigger listens to: ``trigger.event`` or the catalog default."""
    if workflow.trigger.event:
        return workflow.trigger.event
    entry = catalog.trigger_type(workflow.trigger.type)
    return entry.event or "" if entry is not None else ""


def wait_outcome_issues(workflow: Workflow, wait_outcomes: Mapping[str, str]) -> list[Issue]:
    """Problems of ``wait_outcomes``: keys naming no wait step, and branches such a step lacks
    (in the workflow an execution runs: for ``cart_abandoned``, with the checkout wait first)."""
    waits: dict[str, Action] = {}
    for pos, action in positions(started_workflow(workflow)):
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
    misses = TriggerMatcher(workflow.trigger).misses(struct_to_dict(event.data))
    if misses:
        return False, f"the trigger does not match the event data: {misses[0].field}: {misses[0].description}"
    try:
        held = (
            compile_conditions(workflow.conditions).evaluate(ctx, now) if len(workflow.conditions) else True
        )
    except ConditionBudgetError as exc:  # too costly for this contact's or event's data
        return False, f"the entry conditions were not evaluated: {exc}"
    except ConditionError as exc:  # a stored version the current rules no longer accept
        return False, f"the entry conditions do not compile: {exc}"
    if not held:
        return False, "the entry conditions do not hold"
    return True, "the trigger filters and entry conditions hold"


class _Failed(Exception):
    """A step that would fail the execution: the error and category the executor records."""

    def __init__(self, error: str, category: str) -> None:
        super().__init__(error)
        self.error, self.category = error, category


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
        self.loops: dict[Position, dict[str, Any]] = {}
        self.retries: dict[Position, int] = {}

    @property
    def contact(self) -> dict[str, Any]:
        contact: dict[str, Any] = self.ctx["contact"]
        return contact

    def run(self) -> None:
        pos = first(self.workflow)
        visits = 0
        while pos is not None:
            if goal_reached(self.workflow, self.ctx, self.now):
                self.steps.append(TestStepResult("", "", pos, "goal", {"reason": "goal reached"}))
                return
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
        try:
            if catalog.is_control(action.type):
                return self.control(action, pos, config)
            self.act(action, pos, config)
        except _Failed as exc:
            self.record(action, pos, "error", {"error": exc.error, "category": exc.category})
            if recovers(action):  # the step's failed branch runs, as in the engine
                failure = failure_vars(action.id, action.type, exc.error, exc.category)
                self.ctx["vars"] = {**self.ctx["vars"], **failure}
                return self.branch(pos, catalog.FAILED_BRANCH)
            return None
        except ValueError as exc:  # bad conditions, intervals, weights: the workflow is wrong
            self.record(action, pos, "error", {"error": str(exc), "category": "configuration"})
            return None
        return next_after(self.workflow, pos)

    def control(self, action: Action, pos: Position, config: dict[str, Any]) -> Position | None:
        """A control step: the branch it takes, the loop turn, the wait, or the end."""
        kind = action.type
        if kind == "loop":
            return self.loop(action, pos, config)
        if kind == "stop":
            reason = str(config.get("reason", ""))
            with suppress(TemplateError):  # a preview nicety: the executor logs it as written
                reason = render(reason, self.ctx)
            self.record(action, pos, "stop", {"reason": reason})
            return None
        if kind == "wait":
            wait_due(
                config,
                self.now,
                zone(str(self.contact.get("timezone") or ""), self.workflow.settings.timezone),
            )
            self.record(action, pos, "wait", dict(config))
            return next_after(self.workflow, pos)
        if kind == "condition":
            held = compile_step_conditions(config, step_conditions_path(pos)).evaluate(self.ctx, self.now)
            name = condition_branch(held)
            self.record(action, pos, "branch", {"branch": name, "result": held})
            return self.branch(pos, name)
        if kind == "switch":
            chosen = switch_branch(action, self.ctx, self.now, pos)
            self.record(action, pos, "branch", {"branch": chosen})
            return self.branch(pos, chosen)
        if kind == "random_split":
            who = self.ctx["event"].get("contact_id") or self.contact.get("id") or ""
            chosen = split_branch(action, self.automation_id, who)
            self.record(action, pos, "branch", {"branch": chosen})
            return self.branch(pos, chosen)
        if kind in WAIT_BRANCHES:
            chosen = self.wait_branch(action, pos, config)
            self.record(action, pos, "wait", {"branch": chosen, **config})
            return self.branch(pos, chosen)
        if kind == "cancel_pending_actions":  # the contact's other executions: none in a dry run
            self.record(action, pos, "would_run", {"config": dict(config)})
            return next_after(self.workflow, pos)
        if kind == "retry_failed_action":
            return self.retry(action, pos, config)
        raise ValueError(f"the engine cannot run {kind!r}")

    def retry(self, action: Action, pos: Position, config: Mapping[str, Any]) -> Position | None:
        """retry_failed_action: back to the failed step while re-runs are left, else on."""
        target = failed_step(pos)
        if target is None:
            raise ValueError("retry_failed_action only runs directly in a step's failed branch")
        done = self.retries.get(pos, 0)
        refusal = retry_refusal(config, done)
        if refusal is not None:
            self.record(action, pos, "skipped", {"reason": refusal})
            return next_after(self.workflow, pos)
        self.retries[pos] = done + 1
        self.record(action, pos, "retry", {"retry": done + 1, "step": action_at(self.workflow, target).id})
        return target

    def loop(self, action: Action, pos: Position, config: Mapping[str, Any]) -> Position | None:
        """One visit of a loop step: enters the next iteration's body, or moves past the loop."""
        turn = loop_turn(
            self.loops.get(pos),
            config,
            self.ctx,
            self.ctx["vars"],
            has_body=enter_branch(self.workflow, pos, "body", 0) is not None,
        )
        if turn.iterations is not None:
            self.record(action, pos, "loop", {"iterations": turn.iterations})
        self.ctx["vars"] = turn.vars
        if turn.state is None:
            self.loops.pop(pos, None)
            return next_after(self.workflow, pos)
        self.loops[pos] = turn.state
        return enter_branch(self.workflow, pos, "body", turn.iteration)

    def wait_branch(self, action: Action, pos: Position, config: Mapping[str, Any]) -> str:
        """``met`` when a wait_until's conditions hold already; else the named outcome, else timeout."""
        if action.type == "wait_until":
            compiled = compile_step_conditions(config, step_conditions_path(pos))
            if compiled.evaluate(self.ctx, self.now):
                return "met"
        wait_timeout_due(config, self.now)
        chosen = self.outcomes.get(action.id) if action.id else None
        return chosen or self.outcomes.get(pos) or "timeout"

    def act(self, action: Action, pos: Position, config: Mapping[str, Any]) -> None:
        """An action that does something: rendered, never run; its effect on the context applied."""
        try:
            rendered = render_config(config, self.ctx)
            detail: dict[str, Any] = {"config": rendered}
            outcome = "would_run"
            if catalog.is_communication(action.type):
                outcome = self.send(action.type, rendered, detail)
            if outcome != "skipped":
                self.apply(action.type, rendered, pos, detail)
        except TemplateError as exc:  # errors are masked as the executor masks an action's
            raise _Failed(mask_text(f"template: {exc}"), "template") from exc
        except InvalidRecipient as exc:
            raise _Failed(mask_text(exc.describe(mask_text)), exc.category) from exc
        except StepError as exc:
            raise _Failed(mask_text(str(exc)), exc.category) from exc
        self.record(action, pos, outcome, detail)

    def send(self, type_: str, rendered: Mapping[str, Any], detail: dict[str, Any]) -> str:
        """Consent first, whatever ``to`` says; then ``to``, else the contact's address."""
        if type_ == "forward_email_to_team":
            forwarded_email(self.ctx["event"])  # the engine refuses any other trigger the same way
        found = delivery(type_, rendered, self.contact)
        if found.skip is not None:
            detail["reason"] = found.skip.reason
            return "skipped"
        if found.channel is not None:
            detail["to"] = found.to
        return "would_send"

    def apply(self, type_: str, config: Mapping[str, Any], pos: Position, detail: dict[str, Any]) -> None:
        """The action's effect on the dry run's contact snapshot and variables; the platform
        command a task, calendar, activity, conversation or CRM step (decision 0042) sends, in
        ``detail.command`` (``verb``, ``fields`` in proto3 JSON form), as the executor sends it."""
        scope = StepScope(
            f"exec:{self.ctx['execution']['id']}:step:{pos}", self.now, self.ctx["event"], self.ctx["vars"]
        )
        effect = step_effect(type_, config, self.ctx, self.now, scope) or context_effect_of(
            type_, config, self.ctx, self.now
        )
        if effect is None:
            return
        if effect.command and type_ in CONTEXT_EFFECTS:
            detail["command"] = {"verb": effect.command, **effect.values}
        if effect.needs_contact and not contact_id(self.contact, self.ctx["event"]):
            raise StepError("this step needs a contact, and the execution has none", category="no_contact")
        if effect.command and (type_ in scoped_effects() or type_ in _CRM_TYPES):
            detail["command"] = {"verb": effect.command, "fields": effect.values}
        if effect.contact_changes:
            self.ctx["contact"] = apply_contact_changes(self.contact, effect.contact_changes)
        if effect.vars:
            self.ctx["vars"] = {**self.ctx["vars"], **effect.vars}


def dry_run(
    automation_id: str,
    workflow: Workflow,
    event: Event,
    wait_outcomes: Mapping[str, str],
    now: datetime,
    variables: Mapping[str, Any] | None = None,
) -> DryRun:
    """Runs ``workflow`` on the sample ``event`` without side effects; see the module docstring.

    ``wait_outcomes`` must have passed :func:`wait_outcome_issues`. ``variables``: what ``vars``
    holds from the start, standing in for what the dry run cannot do (a template's sample gives
    the answer a ``call_api`` step would save, so its messages preview with real values).
    """
    sample = Event()
    sample.CopyFrom(event)
    if not sample.type:
        sample.type = trigger_event(workflow)
    contact = Contact()
    if sample.HasField("contact"):
        contact.CopyFrom(sample.contact)
    contact.id = contact.id or sample.contact_id  # the executor's snapshot: the event's contact
    ctx = build_context(
        sample,
        contact,
        vars=variables,
        execution={"id": "dry-run", "automation_id": automation_id, "dry_run": True},
    )
    would_start, reason = _start_check(workflow, sample, ctx, now)
    walk = _Walk(automation_id, started_workflow(workflow), ctx, wait_outcomes, now)
    walk.run()
    return DryRun(would_start, reason, walk.steps, walk.contact, walk.ctx["vars"])
