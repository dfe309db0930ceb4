"""``beez dlq list|show|redrive|purge``: the bus's dead letters, through the gateway's REST API.

A bulk re-drive (``beez dlq redrive --all``) calls ``RedriveDeadLetters`` in batches until none
remain, each batch one transaction on the server, and shows a progress bar over the count the
first answer gives (decision 0029).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Protocol, TypeVar

import typer
from google.protobuf import timestamp_pb2
from google.protobuf.message import Message
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from beez.api.executor.v1 import dead_letters_pb2 as pb
from beez.cli import commands
from beez.cli.client import Target, call, to_json

DEAD_LETTERS = "beez.api.executor.v1.DeadLetterService"
dlq = typer.Typer(
    help="See, re-drive and purge dead letters (admin for re-drive and purge).", no_args_is_help=True
)
dlq.callback()(commands.target_callback)

Consumer = Annotated[
    str, typer.Option("--consumer", help="Durable consumer that gave up (executor-jobs-normal).")
]
Category = Annotated[
    str, typer.Option("--category", help="permanent, delivery_limit, timeout, unavailable or error.")
]
Since = Annotated[str, typer.Option("--since", help="Dead-lettered at or after (ISO 8601).")]
Until = Annotated[str, typer.Option("--until", help="Dead-lettered before (ISO 8601).")]
M = TypeVar("M", bound=Message)
STATES = {"dead": pb.DEAD_LETTER_STATE_DEAD, "redriven": pb.DEAD_LETTER_STATE_REDRIVEN}


def _state_name(value: int) -> str:
    return pb.DeadLetterState.Name(value).removeprefix("DEAD_LETTER_STATE_").lower()


def _moment(value: str, option: str) -> timestamp_pb2.Timestamp | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("expected an ISO 8601 time", param_hint=option) from None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return stamp


def _state(value: str) -> pb.DeadLetterState:
    if value and value not in STATES:
        raise typer.BadParameter("expected dead or redriven", param_hint="--state")
    return STATES.get(value, pb.DEAD_LETTER_STATE_UNSPECIFIED)


class _Timed(Protocol):
    @property
    def start_time(self) -> timestamp_pb2.Timestamp: ...
    @property
    def end_time(self) -> timestamp_pb2.Timestamp: ...


def _timed(request: M, since: str, until: str) -> M:
    """``request`` with its ``start_time``/``end_time`` from ``--since``/``--until``, when given."""
    timed: _Timed = request  # type: ignore[assignment]
    start, end = _moment(since, "--since"), _moment(until, "--until")
    if start is not None:
        timed.start_time.CopyFrom(start)
    if end is not None:
        timed.end_time.CopyFrom(end)
    return request


@dlq.command("list")
def dlq_list(
    ctx: typer.Context,
    consumer: Consumer = "",
    category: Category = "",
    since: Since = "",
    until: Until = "",
    state: Annotated[str, typer.Option("--state", help="dead or redriven.")] = "",
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 100,
    as_json: commands.Json = False,
) -> None:
    """List dead letters, newest first."""
    target: Target = ctx.obj
    request = _timed(
        pb.ListDeadLettersRequest(consumer=consumer, error_category=category, state=_state(state)),
        since,
        until,
    )
    found: list[pb.DeadLetter] = []
    while len(found) < limit:
        request.page_size = min(200, limit - len(found))
        resp = call(target, f"{DEAD_LETTERS}/ListDeadLetters", request, pb.ListDeadLettersResponse)
        found += resp.dead_letters
        if not resp.next_page_token:
            break
        request.page_token = resp.next_page_token
    if as_json:
        commands.console.print_json(to_json(pb.ListDeadLettersResponse(dead_letters=found)))
        return
    table = Table("id", "consumer", "subject", "category", "error", "dead-lettered", "state")
    for d in found:
        table.add_row(
            d.id,
            d.consumer,
            d.subject,
            d.error_category,
            d.error[:80],
            d.dead_lettered_at.ToJsonString(),
            _state_name(d.state) + (f" ({d.redrive_count})" if d.redrive_count else ""),
        )
    commands.console.print(table)


@dlq.command("show")
def dlq_show(ctx: typer.Context, dead_letter_id: str, as_json: commands.Json = False) -> None:
    """Show one dead letter: headers, error and payload (masked)."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{DEAD_LETTERS}/GetDeadLetter",
        pb.GetDeadLetterRequest(id=dead_letter_id),
        pb.GetDeadLetterResponse,
    )
    d = resp.dead_letter
    if as_json:
        commands.console.print_json(to_json(d))
        return
    out = commands.console
    out.print(f"[bold]{d.id}[/] {_state_name(d.state)}, re-driven {d.redrive_count} times")
    out.print(f"consumer {d.consumer}, subject {d.subject}, {d.stream} #{d.stream_sequence}")
    out.print(f"dead-lettered {d.dead_lettered_at.ToJsonString()} after {d.deliveries} deliveries")
    out.print(f"error ({d.error_category}): {d.error}", markup=False)
    headers = Table("header", "value")
    for name in sorted(d.headers):
        headers.add_row(name, d.headers[name])
    out.print(headers)
    out.print(f"payload ({d.payload_size} bytes):")
    out.print(d.payload, markup=False, highlight=False)


@dlq.command("redrive")
def dlq_redrive(
    ctx: typer.Context,
    dead_letter_id: Annotated[str, typer.Argument(help="One dead letter; omit with --all.")] = "",
    every: Annotated[
        bool, typer.Option("--all", help="Every not re-driven one matching the filters.")
    ] = False,
    consumer: Consumer = "",
    category: Category = "",
    since: Since = "",
    until: Until = "",
    batch: Annotated[int, typer.Option("--batch", help="Dead letters per request (1-1000).")] = 100,
) -> None:
    """Publish dead letters again on their original subjects (once each)."""
    target: Target = ctx.obj
    if bool(dead_letter_id) == every:
        raise typer.BadParameter("give one dead letter id, or --all with filters")
    if dead_letter_id:
        one = call(
            target,
            f"{DEAD_LETTERS}/RedriveDeadLetter",
            pb.RedriveDeadLetterRequest(id=dead_letter_id),
            pb.RedriveDeadLetterResponse,
        )
        verb = "re-driven" if one.redriven else "already re-driven, nothing sent"
        commands.console.print(f"{one.dead_letter.id}: {verb}")
        return
    request = _timed(
        pb.RedriveDeadLettersRequest(consumer=consumer, error_category=category, limit=batch), since, until
    )
    total = done = 0
    with Progress(
        TextColumn("re-driving"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=commands.console,
    ) as progress:
        task = progress.add_task("re-drive", total=None)
        while True:
            resp = call(target, f"{DEAD_LETTERS}/RedriveDeadLetters", request, pb.RedriveDeadLettersResponse)
            done += resp.redriven
            total = max(total, done + resp.remaining)
            progress.update(task, completed=done, total=total)
            if not resp.remaining or not resp.redriven:
                break
    commands.console.print(f"re-driven {done} dead letters")


@dlq.command("purge")
def dlq_purge(
    ctx: typer.Context,
    dead_letter_id: Annotated[str, typer.Argument(help="One dead letter; omit to purge by filter.")] = "",
    consumer: Consumer = "",
    category: Category = "",
    since: Since = "",
    until: Until = "",
    state: Annotated[str, typer.Option("--state", help="dead or redriven.")] = "",
) -> None:
    """Delete one dead letter, or every one matching the filters (at least one filter)."""
    target: Target = ctx.obj
    request = _timed(
        pb.PurgeDeadLettersRequest(
            id=dead_letter_id, consumer=consumer, error_category=category, state=_state(state)
        ),
        since,
        until,
    )
    resp = call(target, f"{DEAD_LETTERS}/PurgeDeadLetters", request, pb.PurgeDeadLettersResponse)
    commands.console.print(f"purged {resp.purged} dead letters")
