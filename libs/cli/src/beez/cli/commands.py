"""``beez automations|events|executions|limits ...``: drive a running stack through the gateway's REST API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from beez.api.automation.v1 import automation_pb2
from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import events_pb2
from beez.api.trigger.v1 import trigger_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.cli.client import DEFAULT_API_URL, Target, call, load_document, parse, to_json

console = Console()
automations = typer.Typer(help="Create, list and change automations.", no_args_is_help=True)
events = typer.Typer(help="Publish events and read event history.", no_args_is_help=True)
executions = typer.Typer(help="Inspect, cancel and retry executions.", no_args_is_help=True)
limits = typer.Typer(
    help="Show and set the organization's caps on one execution's steps and messages.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print the raw JSON response.")]
AUTOMATIONS = "beez.api.automation.v1.AutomationService"
EVENTS = "beez.api.trigger.v1.EventService"
EXECUTIONS = "beez.api.executor.v1.ExecutionService"


def target_callback(
    ctx: typer.Context,
    api_url: Annotated[
        str, typer.Option("--api-url", envvar="BEEZ_API_URL", help="The gateway's base URL.")
    ] = DEFAULT_API_URL,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="BEEZ_TOKEN",
            show_default=False,
            help="A JWT, sent as a bearer token; the gateway takes organization, user and roles from it.",
        ),
    ] = None,
    org: Annotated[
        str, typer.Option(envvar="BEEZ_ORG", help="Organization to act for, without a token (local mode).")
    ] = "org_demo",
    user: Annotated[
        str | None, typer.Option(envvar="BEEZ_USER", help="User to act as, without a token (local mode).")
    ] = None,
) -> None:
    if httpx.URL(api_url).scheme not in ("http", "https"):
        raise typer.BadParameter("expected an http:// or https:// URL", param_hint="--api-url")
    ctx.obj = Target(api_url, org, user, (token or "").strip() or None)


for sub in (automations, events, executions, limits):
    sub.callback()(target_callback)


def _automation_row(table: Table, a: automation_pb2.Automation) -> None:
    table.add_row(a.id, a.workflow.name, a.workflow.trigger.type, "yes" if a.active else "no", str(a.version))


@automations.command("create")
def automations_create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option("-f", "--file", help="Workflow as JSON or YAML (- for stdin).")],
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Start active (the default) or inactive.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Create an automation from a workflow file; it is active unless --inactive is given."""
    workflow = parse(load_document(file), workflow_pb2.Workflow())
    req = automation_pb2.CreateAutomationRequest(automation=workflow)
    if active is not None:
        req.active = active
    target: Target = ctx.obj
    resp = call(target, f"{AUTOMATIONS}/CreateAutomation", req, automation_pb2.CreateAutomationResponse)
    if as_json:
        console.print_json(to_json(resp))
    else:
        console.print(f"created [bold]{resp.automation.id}[/] version {resp.automation.version}")


@automations.command("list")
def automations_list(ctx: typer.Context, as_json: Json = False) -> None:
    """List automations."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{AUTOMATIONS}/ListAutomations",
        automation_pb2.ListAutomationsRequest(page_size=200),
        automation_pb2.ListAutomationsResponse,
    )
    if as_json:
        console.print_json(to_json(resp))
        return
    table = Table("id", "name", "trigger", "active", "version")
    for a in resp.automations:
        _automation_row(table, a)
    console.print(table)


@automations.command("get")
def automations_get(ctx: typer.Context, automation_id: str) -> None:
    """Show an automation with its stats, as JSON."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{AUTOMATIONS}/GetAutomation",
        automation_pb2.GetAutomationRequest(id=automation_id),
        automation_pb2.GetAutomationResponse,
    )
    console.print_json(to_json(resp.automation))


@automations.command("toggle")
def automations_toggle(
    ctx: typer.Context,
    automation_id: str,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
) -> None:
    """Enable or disable an automation (flips it when neither flag is given)."""
    target: Target = ctx.obj
    req = automation_pb2.ToggleAutomationRequest(id=automation_id)
    if active is not None:
        req.active = active
    resp = call(target, f"{AUTOMATIONS}/ToggleAutomation", req, automation_pb2.ToggleAutomationResponse)
    console.print(f"{resp.automation.id} is {'active' if resp.automation.active else 'inactive'}")


@automations.command("delete")
def automations_delete(ctx: typer.Context, automation_id: str) -> None:
    """Delete an automation."""
    target: Target = ctx.obj
    call(
        target,
        f"{AUTOMATIONS}/DeleteAutomation",
        automation_pb2.DeleteAutomationRequest(id=automation_id),
        automation_pb2.DeleteAutomationResponse,
    )
    console.print(f"deleted {automation_id}")


@automations.command("resync")
def automations_resync(ctx: typer.Context) -> None:
    """Announce every automation of the organization again, so the trigger rebuilds its index
    (admin; decision 0032)."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{AUTOMATIONS}/ResyncAutomations",
        automation_pb2.ResyncAutomationsRequest(),
        automation_pb2.ResyncAutomationsResponse,
    )
    console.print(f"announced {resp.announced} automations again")


@automations.command("validate")
def automations_validate(
    ctx: typer.Context, file: Annotated[Path, typer.Option("-f", "--file", help="Workflow as JSON or YAML.")]
) -> None:
    """Validate a workflow file and list every problem; exit 1 when it is invalid."""
    target: Target = ctx.obj
    workflow = parse(load_document(file), workflow_pb2.Workflow())
    resp = call(
        target,
        f"{AUTOMATIONS}/ValidateAutomation",
        automation_pb2.ValidateAutomationRequest(automation=workflow),
        automation_pb2.ValidateAutomationResponse,
    )
    if resp.valid:
        console.print("[green]valid[/]")
        return
    for issue in resp.issues:
        console.print(f"[red]{issue.field}[/]: {issue.description}")
    raise typer.Exit(1)


@events.command("publish")
def events_publish(
    ctx: typer.Context,
    event_type: Annotated[str | None, typer.Option("--type", help="Event type, e.g. list.joined.")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact id.")] = None,
    data: Annotated[str, typer.Option(help="Event data as a JSON object.")] = "{}",
    contact_json: Annotated[
        str | None, typer.Option("--contact-json", help="Contact snapshot as JSON.")
    ] = None,
    event_id: Annotated[
        str | None, typer.Option("--id", help="Event id (idempotency); generated if absent.")
    ] = None,
    file: Annotated[Path | None, typer.Option("-f", "--file", help="Event(s) as JSON or YAML.")] = None,
    as_json: Json = False,
) -> None:
    """Publish an event (or a file of events under "events")."""
    target: Target = ctx.obj
    if file is not None:
        doc = load_document(file)
        docs = doc.get("events", [doc])
    else:
        if not event_type:
            raise typer.BadParameter("give --type or --file")
        doc = {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": event_type, "data": json.loads(data)}
        if contact:
            doc["contactId"] = contact
        if contact_json:
            doc["contact"] = json.loads(contact_json)
        docs = [doc]
    evs = [parse(d, events_pb2.Event()) for d in docs]
    resp = call(
        target,
        f"{EVENTS}/PublishEvents",
        trigger_pb2.PublishEventsRequest(events=evs),
        trigger_pb2.PublishEventsResponse,
    )
    if as_json:
        console.print_json(to_json(resp))
        return
    for r in resp.results:
        console.print(f"{r.event_id}: {'accepted' if r.accepted else 'duplicate, ignored'}")


@events.command("list")
def events_list(ctx: typer.Context, event_type: Annotated[str, typer.Option("--type")] = "") -> None:
    """Show recent events and the executions they started."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EVENTS}/ListEvents",
        trigger_pb2.ListEventsRequest(type=event_type, page_size=100),
        trigger_pb2.ListEventsResponse,
    )
    table = Table("id", "type", "contact", "received", "executions")
    for rec in resp.events:
        table.add_row(
            rec.event.id,
            rec.event.type,
            rec.event.contact_id,
            rec.received_at.ToJsonString(),
            ", ".join(rec.execution_ids),
        )
    console.print(table)


def _status(value: int) -> str:
    return executor_pb2.ExecutionStatus.Name(value).removeprefix("EXECUTION_STATUS_").lower()


@executions.command("list")
def executions_list(
    ctx: typer.Context,
    automation: Annotated[str, typer.Option("--automation", "-a", help="Automation id.")],
    as_json: Json = False,
) -> None:
    """List an automation's executions, newest first."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EXECUTIONS}/ListExecutions",
        executor_pb2.ListExecutionsRequest(automation_id=automation, page_size=100),
        executor_pb2.ListExecutionsResponse,
    )
    if as_json:
        console.print_json(to_json(resp))
        return
    table = Table("id", "contact", "status", "current step", "created")
    for e in resp.executions:
        table.add_row(e.id, e.contact_id, _status(e.status), e.current_step, e.create_time.ToJsonString())
    console.print(table)


@executions.command("scheduled")
def executions_scheduled(
    ctx: typer.Context,
    automation: Annotated[str, typer.Option("--automation", "-a", help="Only this automation.")] = "",
    as_json: Json = False,
) -> None:
    """List scheduled work, soonest first: timers of running executions, upcoming fires of
    time-based triggers (kind trigger_schedule or trigger_deferred) and emails schedule_email
    steps scheduled (kind scheduled_email)."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EXECUTIONS}/ListScheduled",
        executor_pb2.ListScheduledRequest(automation_id=automation, page_size=100),
        executor_pb2.ListScheduledResponse,
    )
    if as_json:
        console.print_json(to_json(resp))
        return
    table = Table("id", "kind", "due", "automation", "contact", "execution")
    for work in resp.scheduled:
        table.add_row(
            work.id,
            work.kind,
            work.due_at.ToJsonString(),
            work.automation_id,
            work.contact_id,
            work.execution_id,
        )
    console.print(table)


@executions.command("cancel-scheduled")
def executions_cancel_scheduled(ctx: typer.Context, scheduled_id: str) -> None:
    """Cancel one item of `executions scheduled`: a timer (its execution is cancelled), a
    deferred trigger fire (dropped), a schedule's occurrence (skipped; the next is planned) or a
    scheduled email (not sent; its execution has gone on)."""
    target: Target = ctx.obj
    call(
        target,
        f"{EXECUTIONS}/CancelScheduled",
        executor_pb2.CancelScheduledRequest(id=scheduled_id),
        executor_pb2.CancelScheduledResponse,
    )
    console.print(f"{scheduled_id}: cancelled")


@executions.command("show")
def executions_show(ctx: typer.Context, execution_id: str, as_json: Json = False) -> None:
    """Show one execution with its step-by-step log."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EXECUTIONS}/GetExecution",
        executor_pb2.GetExecutionRequest(execution_id=execution_id),
        executor_pb2.GetExecutionResponse,
    )
    execution = resp.execution
    if as_json:
        console.print_json(to_json(execution))
        return
    console.print(
        f"[bold]{execution.id}[/] automation {execution.automation_id} v{execution.automation_version} "
        f"contact {execution.contact_id}: "
        f"{_status(execution.status)}{' (converted)' if execution.converted else ''}; "
        f"{execution.steps_run} steps run, {execution.messages_sent} messages sent"
    )
    if execution.error:
        console.print(f"error: {execution.error}")
    table = Table("step", "type", "status", "attempt", "duration", "error")
    for s in execution.steps:
        table.add_row(
            s.step_id,
            s.type,
            executor_pb2.StepStatus.Name(s.status).removeprefix("STEP_STATUS_").lower(),
            str(s.attempt),
            f"{s.duration_ms} ms",
            s.error,
        )
    console.print(table)


@executions.command("cancel")
def executions_cancel(ctx: typer.Context, execution_id: str) -> None:
    """Cancel a pending, waiting or running execution."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EXECUTIONS}/CancelExecution",
        executor_pb2.CancelExecutionRequest(execution_id=execution_id),
        executor_pb2.CancelExecutionResponse,
    )
    console.print(f"{resp.execution.id}: {_status(resp.execution.status)}")


@executions.command("retry")
def executions_retry(ctx: typer.Context, execution_id: str) -> None:
    """Retry a failed execution from the step that failed."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EXECUTIONS}/RetryExecution",
        executor_pb2.RetryExecutionRequest(execution_id=execution_id),
        executor_pb2.RetryExecutionResponse,
    )
    console.print(f"{resp.execution.id}: {_status(resp.execution.status)}")


def _print_limits(found: executor_pb2.OrganizationLimits, as_json: bool) -> None:
    if as_json:
        console.print_json(to_json(found))
        return
    table = Table("cap", "in force", "default")
    table.add_row(
        "steps per execution",
        str(found.max_steps_per_execution),
        str(found.default_max_steps_per_execution),
    )
    table.add_row(
        "messages per execution",
        str(found.max_messages_per_execution),
        str(found.default_max_messages_per_execution),
    )
    console.print(table)


@limits.command("show")
def limits_show(ctx: typer.Context, as_json: Json = False) -> None:
    """Show the caps one execution of the organization runs under."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EXECUTIONS}/GetOrganizationLimits",
        executor_pb2.GetOrganizationLimitsRequest(),
        executor_pb2.GetOrganizationLimitsResponse,
    )
    _print_limits(resp.limits, as_json)


@limits.command("set")
def limits_set(
    ctx: typer.Context,
    max_steps: Annotated[
        int, typer.Option("--max-steps", help="Steps per execution; 0: the deployment's default.")
    ] = 0,
    max_messages: Annotated[
        int, typer.Option("--max-messages", help="Messages per execution; 0: the deployment's default.")
    ] = 0,
    as_json: Json = False,
) -> None:
    """Set the organization's caps (needs the admin role); a cap left out goes back to the default."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{EXECUTIONS}/SetOrganizationLimits",
        executor_pb2.SetOrganizationLimitsRequest(
            max_steps_per_execution=max_steps, max_messages_per_execution=max_messages
        ),
        executor_pb2.SetOrganizationLimitsResponse,
    )
    _print_limits(resp.limits, as_json)
