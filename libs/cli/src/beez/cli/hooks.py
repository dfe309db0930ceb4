"""``beez hooks create|list|get|rotate|delete``: inbound webhooks, through the gateway's REST API.

The token (in the URL) and the secret are printed by ``create`` and ``rotate`` only: the server
keeps a hash of the token and the secret encrypted, and never shows them again (decision 0036).
A URL the server gives as a path alone (no ``BEEZ_HOOKS_PUBLIC_URL`` on the trigger) is printed
under the gateway URL the CLI talks to.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from beez.api.trigger.v1 import hooks_pb2 as pb
from beez.cli import commands
from beez.cli.client import Target, call, to_json

HOOKS = "beez.api.trigger.v1.HookService"
hooks = typer.Typer(
    help="Inbound webhooks: POST /hooks/<token> publishes an event (admin to create, rotate, delete).",
    no_args_is_help=True,
)
hooks.callback()(commands.target_callback)


def _url(target: Target, url: str) -> str:
    return url if "://" in url else target.api_url.rstrip("/") + url


def _print_credentials(target: Target, hook: pb.Hook, credentials: pb.HookCredentials) -> None:
    out = commands.console
    out.print(f"[bold]{hook.id}[/] publishes [bold]{hook.event_type}[/]")
    out.print(f"url:    {_url(target, credentials.url)}", markup=False, highlight=False, soft_wrap=True)
    out.print(f"secret: {credentials.secret}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        "Both are shown only now. Sign with X-Beez-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
        '"<t>.<body>">' + (" (required)." if hook.require_signature else " (checked when sent)."),
        markup=False,
        highlight=False,
    )


@hooks.command("create")
def hooks_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="A label for people.")] = "",
    event_type: Annotated[
        str, typer.Option("--event-type", help="Type of the events it publishes (webhook.received).")
    ] = "",
    contact_id_path: Annotated[
        str,
        typer.Option(
            "--contact-id-path", help="Dotted path of the contact id in the JSON (data.customer.id)."
        ),
    ] = "",
    require_signature: Annotated[
        bool, typer.Option("--require-signature", help="Refuse POSTs without a valid X-Beez-Signature.")
    ] = False,
    as_json: commands.Json = False,
) -> None:
    """Create a hook; its URL and secret are printed once."""
    target: Target = ctx.obj
    request = pb.CreateHookRequest(
        name=name, event_type=event_type, contact_id_path=contact_id_path, require_signature=require_signature
    )
    resp = call(target, f"{HOOKS}/CreateHook", request, pb.CreateHookResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    _print_credentials(target, resp.hook, resp.credentials)


@hooks.command("list")
def hooks_list(ctx: typer.Context, as_json: commands.Json = False) -> None:
    """List the organization's hooks (never their tokens or secrets)."""
    target: Target = ctx.obj
    request = pb.ListHooksRequest(page_size=200)
    found: list[pb.Hook] = []
    while True:
        resp = call(target, f"{HOOKS}/ListHooks", request, pb.ListHooksResponse)
        found += resp.hooks
        if not resp.next_page_token:
            break
        request.page_token = resp.next_page_token
    if as_json:
        commands.console.print_json(to_json(pb.ListHooksResponse(hooks=found)))
        return
    table = Table("id", "name", "event type", "contact id path", "signed", "token", "created", "rotated")
    for h in found:
        table.add_row(
            h.id,
            h.name,
            h.event_type,
            h.contact_id_path,
            "required" if h.require_signature else "optional",
            h.token_prefix + "…",
            h.create_time.ToJsonString(),
            h.rotate_time.ToJsonString() if h.HasField("rotate_time") else "",
        )
    commands.console.print(table)


@hooks.command("get")
def hooks_get(ctx: typer.Context, hook_id: str) -> None:
    """Show one hook as JSON (never its token or secret)."""
    target: Target = ctx.obj
    resp = call(target, f"{HOOKS}/GetHook", pb.GetHookRequest(id=hook_id), pb.GetHookResponse)
    commands.console.print_json(to_json(resp.hook))


@hooks.command("rotate")
def hooks_rotate(ctx: typer.Context, hook_id: str, as_json: commands.Json = False) -> None:
    """Replace a hook's URL and secret; the old URL stops working at once."""
    target: Target = ctx.obj
    resp = call(target, f"{HOOKS}/RotateHook", pb.RotateHookRequest(id=hook_id), pb.RotateHookResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    _print_credentials(target, resp.hook, resp.credentials)


@hooks.command("delete")
def hooks_delete(ctx: typer.Context, hook_id: str) -> None:
    """Delete a hook; its URL stops working at once."""
    target: Target = ctx.obj
    call(target, f"{HOOKS}/DeleteHook", pb.DeleteHookRequest(id=hook_id), pb.DeleteHookResponse)
    commands.console.print(f"deleted {hook_id}")
