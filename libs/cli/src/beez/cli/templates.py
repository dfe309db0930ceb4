"""``beez templates ...``: the template library (seed frame 3), through the gateway's REST API.

Browse (list, get, featured, categories, search, similar, recommendations), try (preview),
use (activate, customize, use), rate, and save an automation as a personal template.
Customizable fields are set with ``--set PATH=VALUE`` (VALUE is JSON when it parses, else text):
``--set 'trigger.config.threshold=70' --set 'actions[0].config.team=Inside Sales'``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from google.protobuf import json_format, struct_pb2
from rich.table import Table

from beez.api.automation.v1 import templates_pb2 as pb
from beez.api.messages.v1 import events_pb2
from beez.cli import commands
from beez.cli.client import Target, call, json_object, parse, to_json

TEMPLATES = "beez.api.automation.v1.TemplateService"
templates = typer.Typer(
    help="The template library: browse, preview, activate, customize and rate.", no_args_is_help=True
)
templates.callback()(commands.target_callback)

Json = Annotated[bool, typer.Option("--json", help="Print the raw JSON response.")]
Sets = Annotated[
    list[str] | None, typer.Option("--set", help="PATH=VALUE for a customizable field (repeatable).")
]
SORTS = {
    "popular": pb.TEMPLATE_SORT_POPULAR,
    "rating": pb.TEMPLATE_SORT_RATING,
    "newest": pb.TEMPLATE_SORT_NEWEST,
}


def overrides(values: list[str] | None) -> dict[str, struct_pb2.Value]:
    """``--set PATH=VALUE`` options as overrides; VALUE is JSON when it parses, else a string."""
    result: dict[str, struct_pb2.Value] = {}
    for item in values or []:
        path, sep, raw = item.partition("=")
        if not sep or not path:
            raise typer.BadParameter(f"expected PATH=VALUE, got {item!r}", param_hint="--set")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        result[path] = json_format.ParseDict(value, struct_pb2.Value())
    return result


def _table(items: list[pb.Template], scores: list[tuple[float, str]] | None = None) -> None:
    columns = ["id", "name", "category", "subcategory", "needs"] + (["score", "why"] if scores else [])
    table = Table(*columns)
    for index, item in enumerate(items):
        row = [item.id, item.name, item.category, item.subcategory, ", ".join(item.integrations)]
        if scores:
            row += [f"{scores[index][0]:.3f}", scores[index][1]]
        table.add_row(*row)
    commands.console.print(table)


def _automation(
    resp: pb.ActivateTemplateResponse | pb.CustomizeTemplateResponse | pb.CreateFromTemplateResponse,
    as_json: bool,
) -> None:
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    made = resp.automation
    state = "active" if made.active else "inactive"
    commands.console.print(f"[green]created[/] {made.id} ({state}): {made.workflow.name}")


@templates.command("list")
def templates_list(
    ctx: typer.Context,
    category: Annotated[
        str, typer.Option(help="sales, support, ecommerce, retention, marketing, operations.")
    ] = "",
    subcategory: Annotated[str, typer.Option()] = "",
    industry: Annotated[str, typer.Option()] = "",
    tag: Annotated[str, typer.Option()] = "",
    integration: Annotated[str, typer.Option(help="email, sms, whatsapp, slack, webhook, http_api.")] = "",
    difficulty: Annotated[str, typer.Option(help="beginner, intermediate, advanced.")] = "",
    sort: Annotated[str, typer.Option(help="popular, rating or newest.")] = "popular",
    page_size: Annotated[int, typer.Option("--page-size")] = 0,
    page_token: Annotated[str, typer.Option("--page-token")] = "",
    as_json: Json = False,
) -> None:
    """List templates, filtered and sorted, one page at a time."""
    if sort not in SORTS:
        raise typer.BadParameter("popular, rating or newest", param_hint="--sort")
    target: Target = ctx.obj
    request = pb.ListTemplatesRequest(
        category=category,
        subcategory=subcategory,
        industry=industry,
        tag=tag,
        integration=integration,
        difficulty=difficulty,
        sort=SORTS[sort],
        page_size=page_size,
        page_token=page_token,
    )
    resp = call(target, f"{TEMPLATES}/ListTemplates", request, pb.ListTemplatesResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    _table(list(resp.templates))
    commands.console.print(
        f"{resp.total_size} templates"
        + (f"; next page: {resp.next_page_token}" if resp.next_page_token else "")
    )


@templates.command("get")
def templates_get(ctx: typer.Context, template_id: str, as_json: Json = False) -> None:
    """Show one template: what it does, what it needs, and its customizable fields."""
    resp = call(
        ctx.obj, f"{TEMPLATES}/GetTemplate", pb.GetTemplateRequest(id=template_id), pb.GetTemplateResponse
    )
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    item = resp.template
    out = commands.console
    out.print(
        f"[bold]{item.name}[/] ({item.category} / {item.subcategory}, {item.difficulty},"
        f" ~{item.setup_minutes} min)"
    )
    out.print(item.description)
    out.print(f"needs: {', '.join(item.integrations) or 'nothing'}; trigger: {item.workflow.trigger.type}")
    table = Table("customizable path", "label", "type", "default")
    for custom in item.customizable:
        table.add_row(custom.path, custom.label, custom.type, json.dumps(_plain(custom.default_value)))
    out.print(table)


def _plain(value: struct_pb2.Value) -> Any:
    return json_format.MessageToDict(value)


@templates.command("categories")
def templates_categories(ctx: typer.Context, as_json: Json = False) -> None:
    """The categories and subcategories with how many templates each holds."""
    resp = call(
        ctx.obj,
        f"{TEMPLATES}/ListTemplateCategories",
        pb.ListTemplateCategoriesRequest(),
        pb.ListTemplateCategoriesResponse,
    )
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    table = Table("category", "name", "templates")
    for category in resp.categories:
        table.add_row(category.slug, category.name, str(category.count))
        for sub in category.subcategories:
            table.add_row(f"  {sub.slug}", sub.name, str(sub.count))
    commands.console.print(table)


@templates.command("featured")
def templates_featured(ctx: typer.Context, as_json: Json = False) -> None:
    """The curated templates and the most used this month."""
    resp = call(
        ctx.obj,
        f"{TEMPLATES}/ListFeaturedTemplates",
        pb.ListFeaturedTemplatesRequest(),
        pb.ListFeaturedTemplatesResponse,
    )
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    _table(list(resp.curated))
    if resp.most_used:
        commands.console.print("most used this month:")
        _table(list(resp.most_used))


@templates.command("search")
def templates_search(
    ctx: typer.Context,
    query: str,
    category: Annotated[str, typer.Option()] = "",
    page_size: Annotated[int, typer.Option("--page-size")] = 0,
    as_json: Json = False,
) -> None:
    """Search names, descriptions and tags ("abandoned cart sms"), best match first."""
    request = pb.SearchTemplatesRequest(query=query, category=category, page_size=page_size)
    resp = call(ctx.obj, f"{TEMPLATES}/SearchTemplates", request, pb.SearchTemplatesResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    _table([r.template for r in resp.results], [(r.score, "") for r in resp.results])


@templates.command("similar")
def templates_similar(ctx: typer.Context, template_id: str, as_json: Json = False) -> None:
    """Templates like this one, with the score and why."""
    request = pb.ListSimilarTemplatesRequest(id=template_id)
    resp = call(ctx.obj, f"{TEMPLATES}/ListSimilarTemplates", request, pb.ListSimilarTemplatesResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    _table([r.template for r in resp.templates], [(r.score, r.reason) for r in resp.templates])


@templates.command("recommendations")
def templates_recommendations(ctx: typer.Context, as_json: Json = False) -> None:
    """Templates for the gaps in your automations, each with its reason."""
    resp = call(
        ctx.obj,
        f"{TEMPLATES}/ListTemplateRecommendations",
        pb.ListTemplateRecommendationsRequest(),
        pb.ListTemplateRecommendationsResponse,
    )
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    _table([r.template for r in resp.templates], [(r.score, r.reason) for r in resp.templates])


@templates.command("preview")
def templates_preview(
    ctx: typer.Context,
    template_id: str,
    event: Annotated[str | None, typer.Option("--event", help="Your sample event as a JSON object.")] = None,
    sets: Sets = None,
    as_json: Json = False,
) -> None:
    """Dry-run a template on your sample (or its own): the steps and rendered messages; stores nothing."""
    request = pb.PreviewTemplateRequest(id=template_id, overrides=overrides(sets))
    if event is not None:
        request.event.CopyFrom(parse(json_object(event, "--event"), events_pb2.Event()))
    resp = call(ctx.obj, f"{TEMPLATES}/PreviewTemplate", request, pb.PreviewTemplateResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    commands.console.print(
        ("[green]would start[/]" if resp.would_start else "[yellow]would not start[/]") + f": {resp.reason}"
    )
    table = Table("path", "type", "outcome", "detail")
    for step in resp.steps:
        detail = _plain_struct(step.detail)
        table.add_row(step.path, step.type, step.outcome, json.dumps(detail.get("config", detail))[:200])
    commands.console.print(table)


def _plain_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    return dict(json_format.MessageToDict(struct))


@templates.command("activate")
def templates_activate(
    ctx: typer.Context,
    template_id: str,
    name: Annotated[str, typer.Option(help="The automation's name (the template's by default).")] = "",
    inactive: Annotated[bool, typer.Option("--inactive", help="Create it switched off.")] = False,
    as_json: Json = False,
) -> None:
    """Create an automation from the template's defaults in one step."""
    request = pb.ActivateTemplateRequest(id=template_id, name=name, inactive=inactive)
    _automation(call(ctx.obj, f"{TEMPLATES}/ActivateTemplate", request, pb.ActivateTemplateResponse), as_json)


@templates.command("customize")
def templates_customize(
    ctx: typer.Context,
    template_id: str,
    sets: Sets = None,
    name: Annotated[str, typer.Option()] = "",
    inactive: Annotated[bool, typer.Option("--inactive", help="Create it switched off.")] = False,
    as_json: Json = False,
) -> None:
    """Create an automation with your values for the template's customizable fields."""
    request = pb.CustomizeTemplateRequest(
        id=template_id, overrides=overrides(sets), name=name, active=not inactive
    )
    _automation(
        call(ctx.obj, f"{TEMPLATES}/CustomizeTemplate", request, pb.CustomizeTemplateResponse), as_json
    )


@templates.command("use")
def templates_use(
    ctx: typer.Context,
    template_id: str,
    sets: Sets = None,
    name: Annotated[str, typer.Option()] = "",
    inactive: Annotated[bool, typer.Option("--inactive", help="Create it switched off.")] = False,
    as_json: Json = False,
) -> None:
    """POST /api/automations/from-template/ID: the engine's create-from-template, with optional overrides."""
    request = pb.CreateFromTemplateRequest(
        id=template_id, overrides=overrides(sets), name=name, active=not inactive
    )
    _automation(
        call(ctx.obj, f"{TEMPLATES}/CreateFromTemplate", request, pb.CreateFromTemplateResponse), as_json
    )


@templates.command("rate")
def templates_rate(
    ctx: typer.Context,
    template_id: str,
    rating: Annotated[int, typer.Argument(help="1 to 5.")],
    review: Annotated[str, typer.Option()] = "",
) -> None:
    """Rate a template for your organization (a second rating replaces the first)."""
    request = pb.RateTemplateRequest(id=template_id, rating=rating, review=review)
    resp = call(ctx.obj, f"{TEMPLATES}/RateTemplate", request, pb.RateTemplateResponse)
    commands.console.print(f"rated {resp.rating}; average {resp.average:.2f} from {resp.count} organizations")


@templates.command("save")
def templates_save(
    ctx: typer.Context,
    automation_id: str,
    category: Annotated[str, typer.Option(help="The template's category.")],
    subcategory: Annotated[str, typer.Option()] = "",
    name: Annotated[str, typer.Option()] = "",
    description: Annotated[str, typer.Option()] = "",
    industry: Annotated[str, typer.Option()] = "",
    tags: Annotated[list[str] | None, typer.Option("--tag")] = None,
    as_json: Json = False,
) -> None:
    """Save one of your automations as a personal template (only your organization sees it)."""
    request = pb.SaveAsTemplateRequest(
        id=automation_id,
        category=category,
        subcategory=subcategory,
        name=name,
        description=description,
        industry=industry,
        tags=tags or [],
    )
    resp = call(ctx.obj, f"{TEMPLATES}/SaveAsTemplate", request, pb.SaveAsTemplateResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    commands.console.print(f"[green]saved[/] template {resp.template.id}: {resp.template.name}")
