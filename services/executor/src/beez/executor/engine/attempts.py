"""Action steps: the attempt protocol (architecture.md, "Exactly once in effect").

Per action step:

a. :meth:`ActionSteps.begin`, in one transaction: insert the attempt row ``running`` with key
   ``exec:<id>:step:<position>:attempt:<n>`` (a ``running`` row left by a crash is reused, same
   key and attempt); the caller commits it;
b. :meth:`ActionSteps.perform`: render the config and call the action with that key, outside
   any transaction;
c. :meth:`ActionSteps.settle`, in one transaction with the execution locked again: record the
   attempt's outcome (masked), and, if the execution is still at that step, apply its variables
   and contact changes, write its commands, events and lifecycle events to the outbox, and move
   on: the next position, or a retry timer, or the failure with its dead letter.

Actions without external effects (``catalog.is_local``: they only return commands, events and
variables) run (a), (b) and (c) in one transaction.

A step that fails for good (a permanent error, or its retry policy spent) fails the execution,
unless it carries a ``failed`` branch: then ``vars.error`` describes the failure and the branch
runs (:func:`.state.recover`, decision 0047).

* Retries follow ``beez.workflow.retry`` (default: at once, then 60, 300, 900 s later), a
  ``Retry-After`` longer than the next wait wins; a wait of 0 is a timer due at once.
* A step whose action is still in flight when the execution is cancelled or reaches its goal
  records its outcome in the log, but its variables, contact changes and commands are dropped.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beez.api.messages.v1 import commands_pb2, events_pb2, lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import messages
from beez.executor.actions.base import Action, ActionContext, ActionResult, PermanentError, TransientError
from beez.executor.actions.breaker import CIRCUIT_OPEN
from beez.executor.actions.crm import command_verb
from beez.executor.actions.requests import REQUEST_VERBS
from beez.executor.engine import state
from beez.executor.engine.integrations import Binding, Integrations
from beez.executor.engine.steplog import elapsed_ms, may_run, step_event, step_key, step_row
from beez.executor.engine.store import Unit
from beez.executor.engine.workflows import step_context
from beez.kit.bus.topology import Topology
from beez.kit.grpc.errors import NotFound
from beez.kit.logging import get_logger, mask_value
from beez.workflow import catalog
from beez.workflow.amplification import is_message
from beez.workflow.branches import recovers
from beez.workflow.effects import apply_contact_changes, scoped_effects
from beez.workflow.errors import TemplateError
from beez.workflow.model import plain, struct_to_dict
from beez.workflow.retry import MAX_BACKOFF_SECONDS, retry_policy
from beez.workflow.status import ExecutionStatus, StepStatus
from beez.workflow.templates import render_config
from beez.workflow.waits import WaitKind

log = get_logger(__name__)


@dataclass
class Call:
    """An action attempt committed as ``running``, to be performed outside the transaction."""

    execution_id: str
    org_id: str
    automation_id: str
    position: str
    step_id: str
    type: str
    attempt: int
    key: str
    raw_config: dict[str, Any]
    ctx: dict[str, Any]
    now: datetime
    local: bool
    connection: Binding | None = None
    """The organization's connection the attempt uses (None: the platform's settings)."""


@dataclass
class Outcome:
    """What an attempt came to: a result, or a failure."""

    result: ActionResult | None = None
    error: str = ""
    category: str = ""
    permanent: bool = False
    retry_after: float | None = None


def failure(
    *, error: str, category: str, transient: bool = False, retry_after: float | None = None
) -> Outcome:
    return Outcome(
        error=mask_value(error) or "failed",  # provider errors may quote addresses and numbers
        category=category,
        permanent=not transient,
        retry_after=retry_after,
    )


def is_local(action_type: str) -> bool:
    """Whether the action only computes commands and events (no call outside this database): the
    local types of the catalog, and the conversation steps, which are platform commands too
    (decision 0043); not the CRM verbs sent by request-reply, which wait for an answer
    (decision 0042)."""
    if action_type in REQUEST_VERBS:
        return False
    return catalog.is_local(action_type) or action_type in scoped_effects()


class ActionSteps:
    """Begins, performs and settles attempts of action steps, with the registered actions."""

    def __init__(self, actions: Mapping[str, Action], integrations: Integrations | None = None) -> None:
        self._actions = dict(actions)
        self._integrations = integrations

    async def begin(self, unit: Unit, action: workflow_pb2.Action, connection: Binding | None = None) -> Call:
        """Step (a): the attempt's ``running`` row, and what performing it needs."""
        execution = unit.execution
        assert execution.position is not None
        last = await unit.rows.latest_attempt(execution.position)
        if last is not None and last.status == StepStatus.RUNNING:
            attempt, key = last.attempt, last.idempotency_key  # a crashed attempt: same key
        else:
            attempt = last.attempt + 1 if last is not None else 1
            key = step_key(execution.id, execution.position, attempt)
            await unit.rows.add_step(step_row(unit, action, attempt, key, StepStatus.RUNNING))
        local = is_local(action.type)
        context = step_context(unit, action)
        return Call(
            execution_id=execution.id,
            org_id=execution.org_id,
            automation_id=execution.automation_id,
            position=execution.position,
            step_id=action.id,
            type=action.type,
            attempt=attempt,
            key=key,
            raw_config=struct_to_dict(action.config),
            ctx=context if local else copy.deepcopy(context),  # a local call runs before unit changes
            now=unit.now,
            local=local,
            connection=connection,
        )

    async def perform(self, call: Call) -> Outcome:
        """Step (b): renders the config and runs the action once. BaseExceptions (a crash) propagate.

        A provider's 429 on a connection lowers that connection's rate (decision 0040).
        """
        outcome = await self._perform(call)
        if outcome.category == "http_429" and call.connection is not None and self._integrations is not None:
            await self._integrations.throttled(call.org_id, call.connection, call.now)
        return outcome

    async def _perform(self, call: Call) -> Outcome:
        action = self._actions.get(call.type)
        if action is None:
            return failure(error=f"no action implements {call.type!r}", category="configuration")
        try:
            config = render_config(call.raw_config, call.ctx)
        except TemplateError as exc:
            return failure(error=f"template: {exc}", category="template")
        connection = None
        if call.connection is not None and self._integrations is not None:
            try:
                connection = await self._integrations.access(call.org_id, call.connection, call.now)
            except NotFound:
                return failure(error=f"connection {call.connection.id} was deleted", category="connection")
        context = ActionContext(
            org_id=call.org_id,
            execution_id=call.execution_id,
            automation_id=call.automation_id,
            step_id=call.step_id,
            step_path=call.position,
            attempt=call.attempt,
            idempotency_key=call.key,
            config=config,
            contact=call.ctx["contact"],
            event=call.ctx["event"],
            vars=call.ctx["vars"],
            now=call.now,
            connection=connection,
            timezone=str(call.ctx.get("execution", {}).get("timezone") or ""),
        )
        try:
            result = await action.run(context)
        except PermanentError as exc:
            return failure(error=str(exc), category=exc.category)
        except TransientError as exc:
            return failure(error=str(exc), category=exc.category, transient=True, retry_after=exc.retry_after)
        except Exception as exc:
            log.warning("action raised", type=call.type, key=call.key, error=repr(exc))
            return failure(error=f"{type(exc).__name__}: {exc}", category="unknown", transient=True)
        return Outcome(result=result)

    async def settle(self, unit: Unit, call: Call, action: workflow_pb2.Action, outcome: Outcome) -> bool:
        """Step (c): records the attempt and, if the execution is still there, moves it on.

        True when the next step may run at once.
        """
        execution = unit.execution
        row = await unit.rows.step_by_key(call.key)
        if row is None or row.status != StepStatus.RUNNING:
            return False  # another delivery of this job settled it already
        row.finished_at = unit.now
        row.duration_ms = elapsed_ms(row.started_at, unit.now)
        current = (
            execution.status == ExecutionStatus.RUNNING
            and execution.position == call.position
            and execution.wait_token is None
        )
        result = outcome.result
        if result is not None:
            row.status = StepStatus.SKIPPED if result.status == StepStatus.SKIPPED else StepStatus.SUCCEEDED
            recorded = dict(mask_value(json_safe(result.output)))
            if result.reason:
                recorded["reason"] = mask_value(result.reason)
            row.result = recorded
            if row.status == StepStatus.SUCCEEDED and is_message(call.type):
                execution.messages_sent += 1  # sent, even if the execution has moved on meanwhile
                await record_sent(unit, call, result)
            if not current:
                return False
            apply_result(unit, call, result)
            if result.schedule or result.unschedule:
                row.result = {**recorded, **await apply_schedules(unit, call, result)}
            step_event(unit, action, call.key, lifecycle_pb2.EXECUTION_EVENT_KIND_STEP_COMPLETED, row)
            await state.move_on(unit)
            return may_run(execution)
        row.status = StepStatus.FAILED
        row.error = outcome.error
        row.error_category = outcome.category
        if not current:
            return False
        if outcome.category == CIRCUIT_OPEN and not outcome.permanent:
            # Failed fast: the provider was not called. Like a send over its limit, the step waits
            # for the circuit's cool-down without spending an attempt of its retry policy
            # (decision 0025): the attempt numbers (and keys) go on, the policy's count does not.
            execution.attempt_base += 1
            wait_s = min(float(outcome.retry_after or 1.0), float(MAX_BACKOFF_SECONDS))
            due = unit.now + timedelta(seconds=wait_s)
            await state.wait_on_timer(unit, action, WaitKind.RATE_LIMIT, CIRCUIT_OPEN, due)
            return False
        step_event(unit, action, call.key, lifecycle_pb2.EXECUTION_EVENT_KIND_STEP_FAILED, row)
        delay = None
        if not outcome.permanent:
            delay = retry_policy(call.raw_config).delay_before(call.attempt - execution.attempt_base + 1)
        if delay is None:
            if recovers(action):
                await state.recover(unit, action, outcome.error, outcome.category)
                return may_run(execution)
            await state.fail(unit, action, outcome.error, outcome.category, key=call.key)
            return False
        # Bounded whatever an action reports: an unbounded Retry-After once overflowed timedelta.
        wait_s = min(max(float(delay), float(outcome.retry_after or 0.0)), float(MAX_BACKOFF_SECONDS))
        due = unit.now + timedelta(seconds=wait_s)
        await state.wait_on_timer(unit, action, WaitKind.RETRY, "retry", due)
        return False


PROVIDERS = {"send_sms": "sms", "send_whatsapp": "whatsapp"}
"""The actions whose provider reports deliveries back (decision 0041), and the provider's name."""


async def record_sent(unit: Unit, call: Call, result: ActionResult) -> None:
    """Records the provider's id of a sent message, so its delivery callbacks find this step."""
    provider = PROVIDERS.get(call.type)
    provider_id = str(result.output.get("provider_message_id") or "")
    if provider is None or not provider_id:
        return
    execution = unit.execution
    await unit.tx.record_provider_message(
        {
            "provider": provider,
            "provider_message_id": provider_id,
            "org_id": execution.org_id,
            "execution_id": execution.id,
            "automation_id": execution.automation_id,
            "step_id": call.step_id,
            "step_path": call.position,
            "contact_id": execution.contact_id or "",
            "sent_at": unit.now,
        }
    )


def apply_result(unit: Unit, call: Call, result: ActionResult) -> None:
    """An attempt's effects on its execution: variables, contact changes, commands and events."""
    execution = unit.execution
    if result.vars:
        execution.vars = {**execution.vars, **json_safe(result.vars)}
    if result.contact_changes:
        execution.contact = json_safe(apply_contact_changes(execution.contact, result.contact_changes))
    topology = unit.outbox.topology
    for index, command in enumerate(result.commands):
        if not command.WhichOneof("command"):
            log.warning("action returned an empty platform command", type=call.type, key=call.key)
            continue
        stamped, subject = stamped_command(
            topology,
            command,
            call.key,
            execution.org_id,
            execution.contact_id or "",
            execution.id,
            execution.automation_id,
        )
        unit.outbox.emit(messages.Outgoing(subject, stamped, f"{call.key}:cmd:{index}", execution.org_id))
    for index, event in enumerate(result.events):
        out = events_pb2.Event()
        out.CopyFrom(event)
        out.organization_id = execution.org_id
        out.id = out.id or f"{call.key}:event:{index}"
        subject = topology.events(execution.org_id, out.type)
        unit.outbox.emit(messages.Outgoing(subject, out, out.id, execution.org_id))


async def apply_schedules(unit: Unit, call: Call, result: ActionResult) -> dict[str, Any]:
    """A step's scheduled messages added and cancellations made (decision 0046), in the step's
    transaction; what the step log adds (``cancelled``: the ids cancelled)."""
    if result.schedule:
        await unit.tx.schedule_messages(result.schedule)
    if not result.unschedule:
        return {}
    ids = [str(i) for i in result.unschedule.get("ids") or [] if i]
    label = str(result.unschedule.get("label") or "")
    cancelled = await unit.tx.cancel_scheduled_messages(
        call.org_id, unit.execution.contact_id or "", ids, label, unit.now
    )
    return {"cancelled": cancelled}


def stamped_command(
    topology: Topology,
    command: commands_pb2.PlatformCommand,
    key: str,
    org_id: str,
    contact_id: str,
    execution_id: str,
    automation_id: str,
) -> tuple[commands_pb2.PlatformCommand, str]:
    """A command as the step publishes it (its key, organization, contact, execution), and its
    subject (``platform.requests.<org>.<verb>`` for the request-reply verbs); the safe-mode test of
    actions shows the same (``beez.executor.builder``)."""
    stamped = commands_pb2.PlatformCommand()
    stamped.CopyFrom(command)
    stamped.idempotency_key = stamped.idempotency_key or key
    stamped.organization_id = org_id
    stamped.contact_id = stamped.contact_id or contact_id
    stamped.execution_id = execution_id
    stamped.automation_id = automation_id
    verb = command_verb(stamped)
    subject = topology.request(org_id, verb) if verb in REQUEST_VERBS else topology.command(org_id, verb)
    return stamped, subject


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON (whole floats as ints); anything else JSON lacks becomes text.

    The same as a round trip through ``json.dumps(value, default=str)`` and :func:`plain`, which
    it takes only for what is not already plain JSON: action outputs, variables and contacts
    nearly always are, and walking them costs a fraction of serializing and parsing them.
    """
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if kind is list or kind is tuple:
        return [json_safe(item) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {key: json_safe(item) for key, item in value.items()}
    return plain(json.loads(json.dumps(value, default=str)))
