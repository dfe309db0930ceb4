"""The provider actions (issue #14 §1, §2 Integrations; decision 0044) through the running
executor, one table over every provider: real PostgreSQL and NATS, the organization's
connections, and a local stand-in per provider that checks the documented request shape and
answers as the provider does (:mod:`tests.support.standins`).

For each provider: a success; a transient failure (the provider's 429 or 5xx, retried once
the ``Retry-After`` it sent has passed); a permanent failure (the provider's validation error:
the step fails at once with the provider's message); and a crash between the call and the
settle (the same attempt reaches the provider twice under one key: one effect where the provider
deduplicates or the call is idempotent, two within the documented duplicate window otherwise).
Also: the exact request of ``TestAction`` with secrets redacted, validation of the connection a
step names, each test config against the catalog's schema, and Shopify's "Test connection".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from google.protobuf import json_format
from sqlalchemy import select

from beez.api.executor.v1 import (
    actions_pb2,
    actions_pb2_grpc,
    connections_pb2,
    connections_pb2_grpc,
    executor_pb2,
)
from beez.api.messages.v1 import commands_pb2
from beez.executor.actions.base import Action, ActionContext, ActionResult
from beez.executor.actions.registry import ActionRegistry, build_registry
from beez.executor.config import ExecutorSettings
from beez.executor.models import Execution as ExecutionRow
from beez.workflow.connections import KnownConnection, connection_issues
from beez.workflow.model import workflow_from_json
from beez.workflow.validate import action_issues
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.executor.engine.fakes import SimulatedCrash
from tests.executor.samples import ADA
from tests.support.standins import enrichment, google, hubspot, salesforce, shopify, stripe
from tests.support.standins.base import StandIn, serving_standins
from tests.support.standins.hooks import Make, Zapier

CRASH_AUTOMATION = "auto_crash"
TYPES = (
    "update_stripe_subscription",
    "create_shopify_order",
    "append_google_sheets_row",
    "create_salesforce_lead",
    "update_hubspot_contact",
    "send_zapier_webhook",
    "send_make_webhook",
    "enrich_contact",
)
_REGISTRIES: list[ActionRegistry] = []


class CrashAfterCall:
    """The real action; in a ``CRASH_AUTOMATION`` execution, the process "dies" once right after
    the provider answered, before the step's result is committed (the job is redelivered)."""

    def __init__(self, action: Action) -> None:
        self.type = action.type
        self._action = action
        self._crashed: set[str] = set()

    async def run(self, ctx: ActionContext) -> ActionResult:
        result = await self._action.run(ctx)
        if ctx.automation_id == CRASH_AUTOMATION and ctx.execution_id not in self._crashed:
            self._crashed.add(ctx.execution_id)
            raise SimulatedCrash()
        return result


def crashing(settings: ExecutorSettings) -> dict[str, Action]:
    """The ``action_plugins`` entry: every provider action wrapped in :class:`CrashAfterCall`."""
    registry = build_registry(settings.actions)
    _REGISTRIES.append(registry)
    return {name: CrashAfterCall(registry[name]) for name in TYPES}


@dataclass
class Rig:
    executor: Executor
    url: str
    standins: dict[str, StandIn]
    connections: Any
    actions: Any


@dataclass
class Case:
    """One provider action, the stand-in that plays its provider, and what each outcome looks like."""

    name: str
    type: str
    standin: str
    config: Callable[[str], dict[str, Any]]
    """The step's config, given the stand-ins' base URL."""
    invalid: Callable[[str], dict[str, Any]]
    """Config changes the provider refuses as invalid."""
    refusal: str
    """The provider's message for them, which the failed step must quote."""
    throttle: tuple[int, Any, str]
    """A transient answer: status, body, Retry-After."""
    effects: Callable[[Rig, Flow, str], Any]
    """The effects the provider (or the commands) show for an idempotency key."""
    connection: tuple[str, dict[str, str]] | None = None
    once: int = 1
    after_crash: int = 1
    """Effects after a crash between call and settle: 1 where keys or idempotence dedupe."""
    refusal_category: str = "provider_validation"
    secrets: tuple[str, ...] = ()
    output: dict[str, Any] = field(default_factory=dict)
    """Fields the step's output must have."""
    fields: dict[str, Any] = field(default_factory=dict)
    """Custom fields the step sets on the execution's contact snapshot."""


def _count(pairs: list[tuple[str, Any]], key: str) -> int:
    return sum(1 for k, _ in pairs if k == key)


async def _commands(rig: Rig, flow: Flow, key: str) -> int:
    found = 0
    for _, _, payload in await flow.outbox(".commands."):
        command = commands_pb2.PlatformCommand.FromString(payload)
        found += command.idempotency_key.startswith(f"{key}:field:")
    return found


async def _sync(value: int) -> int:
    return value


def _standin(rig: Rig, name: str) -> Any:
    return rig.standins[name]


STRIPE_SUB = "sub_1MowQVLkdIwHu7ixeRlqHVzs"
CASES = [
    Case(
        "stripe",
        "update_stripe_subscription",
        "stripe",
        lambda url: {
            "connection": "payments",
            "subscription_id": STRIPE_SUB,
            "items": [{"id": "si_NcLYdDxLHxlFo7", "price": "price_pro", "quantity": 2}],
            "metadata": {"plan": "{{ contact.fields.plan }}"},
            "proration_behavior": "none",
        },
        lambda url: {"items": [{"id": "si_NcLYdDxLHxlFo7", "price": "price_gone"}]},
        "No such price: 'price_gone' (param: items[0][price])",
        (
            429,
            {
                "error": {
                    "type": "invalid_request_error",
                    "code": "rate_limit",
                    "message": "Too many requests",
                }
            },
            "7",
        ),
        lambda rig, flow, key: _sync(_count(_standin(rig, "stripe").applied, key)),
        connection=("stripe", {"secret_key": stripe.SECRET_KEY}),
        secrets=(stripe.SECRET_KEY,),
        output={"subscription_id": STRIPE_SUB, "status": "active"},
    ),
    Case(
        "shopify",
        "create_shopify_order",
        "shopify",
        lambda url: {
            "connection": "store",
            "line_items": [{"variant_id": 447654529, "quantity": 1}],
            "financial_status": "pending",
            "tags": "beez, {{ event.data.list }}",
        },
        lambda url: {"line_items": [{"variant_id": 999, "quantity": 1}]},
        "line_items: Variant 999 does not exist",
        (
            429,
            {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume."},
            "2.0",
        ),
        lambda rig, flow, key: _sync(
            sum(1 for o in _standin(rig, "shopify").orders if o.get("source_identifier") == key)
        ),
        connection=("shopify", {"shop": "beez-test", "access_token": shopify.ACCESS_TOKEN}),
        after_crash=2,  # Shopify takes no key for orders: the documented duplicate window
        secrets=(shopify.ACCESS_TOKEN,),
        output={"order_name": "#1001"},
    ),
    Case(
        "google_sheets",
        "append_google_sheets_row",
        "google",
        lambda url: {
            "connection": "drive",
            "spreadsheet_id": google.SPREADSHEET,
            "range": "Leads!A:C",
            "values": ["{{ contact.email }}", "{{ contact.first_name }}", "{{ event.data.list }}"],
        },
        lambda url: {"range": "Nope!A:C"},
        "Unable to parse range: Nope!A:C (INVALID_ARGUMENT)",
        (429, {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}, "30"),
        lambda rig, flow, key: _sync(_count(_standin(rig, "google").appended, key)),
        connection=(
            "google",
            {
                "client_id": google.CLIENT_ID,
                "client_secret": "g-secret-123",
                "refresh_token": google.REFRESH_TOKEN,
            },
        ),
        after_crash=2,  # values.append takes no key: the documented duplicate window
        secrets=(google.REFRESH_TOKEN, "g-secret-123"),
        output={"updated_rows": 1, "updated_range": "Leads!A2:C2"},
    ),
    Case(
        "salesforce",
        "create_salesforce_lead",
        "salesforce",
        lambda url: {
            "connection": "sales",
            "last_name": "Lovelace",
            "company": "Analytical Engines",
            "first_name": "{{ contact.first_name }}",
            "lead_source": "Web",
            "fields": {"Industry": "Computing"},
        },
        lambda url: {"fields": {"Bogus__c": "x"}},
        "INVALID_FIELD: No such column 'Bogus__c' on sobject of type Lead",
        (503, [{"errorCode": "SERVER_UNAVAILABLE", "message": "Server Unavailable"}], "45"),
        lambda rig, flow, key: _sync(_count(_standin(rig, "salesforce").leads, key)),
        connection=(
            "salesforce",
            {
                "client_id": salesforce.CLIENT_ID,
                "client_secret": "sf-secret-123",
                "refresh_token": salesforce.REFRESH_TOKEN,
            },
        ),
        after_crash=2,  # sObject create takes no key: the documented duplicate window
        secrets=(salesforce.REFRESH_TOKEN, "sf-secret-123"),
        output={"lead_id": "00Q5e0000000000001"},
    ),
    Case(
        "hubspot",
        "update_hubspot_contact",
        "hubspot",
        lambda url: {
            "connection": "crm",
            "properties": {"lifecyclestage": "customer", "plan": "{{ contact.fields.plan }}"},
        },
        lambda url: {"properties": {"lifecyclestage": "customer", "bogus": "1"}},
        'Property \\"bogus\\" does not exist',
        (
            429,
            {
                "status": "error",
                "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT",
            },
            "10",
        ),
        lambda rig, flow, key: _sync(_count(_standin(rig, "hubspot").effects, key)),
        connection=(
            "hubspot",
            {
                "client_id": hubspot.CLIENT_ID,
                "client_secret": "hs-secret-123",
                "refresh_token": hubspot.REFRESH_TOKEN,
            },
        ),
        secrets=(hubspot.REFRESH_TOKEN, "hs-secret-123"),
        output={"hubspot_id": "51", "created": False},
    ),
    Case(
        "zapier",
        "send_zapier_webhook",
        "zapier",
        lambda url: {"url": f"{url}/zapier/hooks/catch/123456/abcdef/", "include_fields": ["id", "email"]},
        lambda url: {"url": f"{url}/zapier/hooks/catch/123456/deleted/"},
        "This hook is no longer active",
        (429, "Too Many Requests", "60"),
        lambda rig, flow, key: _sync(_count(_standin(rig, "zapier").caught, key)),
        after_crash=2,  # Zapier does not deduplicate: the documented duplicate window
        refusal_category="http_4xx",
        output={"status": "success"},
    ),
    Case(
        "make",
        "send_make_webhook",
        "make",
        lambda url: {"url": f"{url}/make/hk7w3k2e1l0m9n8b", "body": {"email": "{{ contact.email }}"}},
        lambda url: {"url": f"{url}/make/unknownhook"},
        "There is no scenario listening for this webhook.",
        (429, "Too Many Requests", "5"),
        lambda rig, flow, key: _sync(_count(_standin(rig, "make").caught, key)),
        after_crash=2,  # Make does not deduplicate: the documented duplicate window
        refusal_category="http_4xx",
        output={"response": "Accepted"},
    ),
    Case(
        "enrich",
        "enrich_contact",
        "enrich",
        lambda url: {
            "url": url + "/enrich/people?email={{ contact.email }}",
            "headers": {"Authorization": f"Bearer {enrichment.API_KEY}"},
            "mapping": {
                "job_title": "person.title",
                "company": "person.company.name",
                "twitter": "person.twitter",
            },
        },
        lambda url: {"url": url + "/enrich/people?email=nobody@example.invalid"},
        "Unknown email address",
        (429, {"error": {"type": "rate_limit", "message": "slow down"}}, "20"),
        _commands,
        once=2,  # two fields found: two update_field commands, once each
        after_crash=2,
        refusal_category="http_4xx",
        secrets=(),  # its API key is the author's own config, which TestAction echoes
        output={"enriched": ["company", "job_title"], "missing": ["person.twitter"]},
        fields={"job_title": "Chief Analyst", "company": "Analytical Engines"},
    ),
]
IDS = [case.name for case in CASES]


@pytest.fixture(scope="module")
async def rig(admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    ring_file = tmp_path_factory.mktemp("ring") / "keys"
    ring_file.write_text(f"k1:{Fernet.generate_key().decode()}\n")
    standins: dict[str, StandIn] = {
        "stripe": stripe.Stripe(),
        "shopify": shopify.Shopify(),
        "google": google.Google(),
        "salesforce": salesforce.Salesforce(),
        "hubspot": hubspot.Hubspot(),
        "zapier": Zapier(),
        "make": Make(),
        "enrich": enrichment.Enrichment(),
    }
    async with serving_standins(*standins.values()) as url:
        settings = {
            "action_plugins": ["tests.executor.engine.test_provider_actions:crashing"],
            "signing_keys_file": str(ring_file),
            "connections_cache_s": 0,
            "job_ack_wait_s": 1.0,
            "actions": {
                "ssrf_allowlist": ["127.0.0.1/32"],
                "http_retry_after_jitter": 0,
                "provider_base_urls": {
                    "stripe": f"{url}/stripe",
                    "shopify": f"{url}/shopify",
                    "google": f"{url}/google",
                    "google_sheets": f"{url}/google/sheets",
                    "salesforce": f"{url}/salesforce",
                    "hubspot": f"{url}/hubspot",
                    "zapier": f"{url}/zapier",
                    "make": f"{url}/make",
                },
            },
        }
        try:
            async with start_executor(admin_url, nats_url, **settings) as executor:
                channel = executor.svc.channel
                yield Rig(
                    executor,
                    url,
                    standins,
                    connections_pb2_grpc.ConnectionServiceStub(channel),
                    actions_pb2_grpc.ActionServiceStub(channel),
                )
        finally:
            for registry in _REGISTRIES:
                await registry.aclose()
            _REGISTRIES.clear()


def admin(flow: Flow) -> list[tuple[str, str]]:
    return [*flow.metadata, ("x-roles", "admin"), ("x-user-id", "u_admin")]


async def organization(rig: Rig, case: Case) -> Flow:
    """A fresh organization with the case's connection."""
    flow = Flow(rig.executor, f"org_pa_{case.name}_{uuid.uuid4().hex[:8]}")
    rig.standins[case.standin].reset()
    if case.connection is not None:
        provider, credentials = case.connection
        name = str(case.config(rig.url)["connection"])
        request = connections_pb2.CreateConnectionRequest(
            provider=provider, name=name, credentials=credentials
        )
        created = (await rig.connections.CreateConnection(request, metadata=admin(flow))).connection
        if provider == "salesforce":  # "Test connection" refreshes the token: instance_url is kept
            test = connections_pb2.TestConnectionRequest(id=created.id)
            assert (await rig.connections.TestConnection(test, metadata=admin(flow))).ok
    return flow


def workflow(case: Case, config: dict[str, Any]) -> dict[str, Any]:
    return {"actions": [{"id": "call", "type": case.type, "config": config}]}


def output(step: executor_pb2.StepLog) -> dict[str, Any]:
    result: dict[str, Any] = json_format.MessageToDict(step.result)
    return dict(result.get("output", result))


def settled_steps(execution: executor_pb2.Execution) -> list[tuple[int, int]]:
    return [(s.attempt, s.status) for s in execution.steps]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_the_action_sends_the_documented_request_once(rig: Rig, case: Case) -> None:
    flow = await organization(rig, case)
    standin = rig.standins[case.standin]
    done = await flow.settled(await flow.start(workflow(case, case.config(rig.url))), "completed", "failed")
    [step] = done.steps
    assert (step.status, step.error) == (executor_pb2.STEP_STATUS_SUCCEEDED, "")
    assert standin.problems == []
    assert len(standin.of_key(step.idempotency_key)) == 1
    assert await case.effects(rig, flow, step.idempotency_key) == case.once
    shown = output(step)
    assert {k: shown.get(k) for k in case.output} == case.output
    for secret in case.secrets:
        assert secret not in str(done)
    async with rig.executor.svc.runtime.db.transaction() as session:
        contact = (
            await session.execute(select(ExecutionRow.contact).where(ExecutionRow.id == done.id))
        ).scalar_one()
    assert contact["fields"] == {**ADA["fields"], **case.fields}


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_throttled_or_failing_provider_is_retried_after_its_retry_after(rig: Rig, case: Case) -> None:
    flow = await organization(rig, case)
    standin = rig.standins[case.standin]
    status, body, retry_after = case.throttle
    standin.fail_next(status, body, {"Retry-After": retry_after})
    quick = {**case.config(rig.url), "retry": {"attempts": 3, "backoff": [1]}}  # the provider's wait wins
    execution_id = await flow.start(workflow(case, quick))
    waiting = await flow.until(
        execution_id,
        lambda ex: ex.status == executor_pb2.EXECUTION_STATUS_WAITING and len(ex.steps) == 1,
        "a failed attempt waiting for its retry",
    )
    assert waiting.steps[0].error_category == ("http_429" if status == 429 else "http_5xx")
    [retry] = await flow.scheduled(execution_id)
    assert retry.due_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(seconds=float(retry_after))
    await flow.advance(seconds=float(retry_after))
    done = await flow.settled(execution_id, "completed", "failed")
    assert settled_steps(done) == [
        (1, executor_pb2.STEP_STATUS_FAILED),
        (2, executor_pb2.STEP_STATUS_SUCCEEDED),
    ]
    assert standin.problems == []
    assert await case.effects(rig, flow, done.steps[1].idempotency_key) == case.once


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_validation_error_fails_the_step_at_once_with_the_providers_message(
    rig: Rig, case: Case
) -> None:
    flow = await organization(rig, case)
    standin = rig.standins[case.standin]
    config = {**case.config(rig.url), **case.invalid(rig.url)}
    failed = await flow.settled(await flow.start(workflow(case, config)), "failed", "completed")
    [step] = failed.steps
    assert step.status == executor_pb2.STEP_STATUS_FAILED
    assert case.refusal in step.error
    assert step.error_category == case.refusal_category
    assert len(standin.of_key(step.idempotency_key)) == 1, "a permanent failure is not retried"
    assert standin.problems == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_a_crash_between_the_call_and_the_settle_repeats_the_same_key(rig: Rig, case: Case) -> None:
    flow = await organization(rig, case)
    standin = rig.standins[case.standin]
    execution_id = await flow.start(workflow(case, case.config(rig.url)), automation_id=CRASH_AUTOMATION)
    done = await flow.settled(execution_id, "completed", "failed", timeout=15)
    assert settled_steps(done) == [(1, executor_pb2.STEP_STATUS_SUCCEEDED)]
    key = done.steps[0].idempotency_key
    assert len(standin.of_key(key)) == 2, "the redelivered attempt calls again under the same key"
    assert await case.effects(rig, flow, key) == case.after_crash
    assert standin.problems == []


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_test_action_shows_the_exact_request_with_secrets_redacted(rig: Rig, case: Case) -> None:
    flow = await organization(rig, case)
    before = len(rig.standins[case.standin].seen)
    action = workflow_from_json(
        {"name": "t", "trigger": {"type": "list_joined"}, **workflow(case, case.config(rig.url))}
    )
    request = actions_pb2.TestActionRequest(action=action.actions[0])
    request.contact.id, request.contact.email, request.contact.first_name = ADA["id"], ADA["email"], "Ada"
    response = await rig.actions.TestAction(request, metadata=admin(flow))
    shown = response.request
    assert shown.kind == "http" and shown.method in ("GET", "POST", "PATCH")
    sent = [seen for seen in rig.standins[case.standin].seen[before:] if seen.key]
    assert sent == [], "a preview sends nothing to the provider (an OAuth2 token refresh aside)"
    for secret in case.secrets:
        assert secret not in str(response)
    headers = {k.lower(): v for k, v in shown.headers.items()}
    credential = headers.get("authorization") or headers.get("x-shopify-access-token", "")
    assert credential.endswith("[redacted]") or case.type in ("send_zapier_webhook", "send_make_webhook")
    if case.type in ("send_zapier_webhook", "send_make_webhook"):
        assert shown.url.endswith("/[redacted]"), "a hook's path is its secret"
    else:
        assert shown.url.startswith(rig.url)
    assert headers["x-beez-idempotency-key"].startswith("exec:")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_each_config_fits_the_catalog_schema_and_an_unknown_field_does_not(case: Case) -> None:
    action = workflow_from_json(
        {"name": "t", "trigger": {"type": "list_joined"}, **workflow(case, case.config("https://x.example"))}
    ).actions[0]
    assert action_issues(action) == []
    extra = workflow_from_json(
        {
            "name": "t",
            "trigger": {"type": "list_joined"},
            **workflow(case, {**case.config("https://x.example"), "surprise": 1}),
        }
    ).actions[0]
    assert [issue.field for issue in action_issues(extra)] == ["action.config.surprise"] or any(
        "surprise" in issue.description for issue in action_issues(extra)
    )


@pytest.mark.parametrize("case", [c for c in CASES if c.connection is not None], ids=lambda c: c.name)
def test_validation_refuses_a_step_naming_a_connection_the_organization_lacks(case: Case) -> None:
    assert case.connection is not None
    wf = workflow_from_json(
        {"name": "t", "trigger": {"type": "list_joined"}, **workflow(case, case.config("x"))}
    )
    name = str(case.config("x")["connection"])
    missing = connection_issues(wf, [])
    assert [issue.field for issue in missing] == ["actions[0].config.connection"]
    other = "smtp"
    wrong = connection_issues(wf, [KnownConnection("conn_1", name, other)])
    assert [issue.field for issue in wrong] == ["actions[0].config.connection"]
    assert "smtp connection" in wrong[0].description
    assert connection_issues(wf, [KnownConnection("conn_1", name, case.connection[0])]) == []


async def test_a_shopify_connection_is_tested_with_its_shop(rig: Rig) -> None:
    case = next(c for c in CASES if c.name == "shopify")
    flow = await organization(rig, case)
    listed = await rig.connections.ListConnections(
        connections_pb2.ListConnectionsRequest(), metadata=admin(flow)
    )
    [connection] = listed.connections
    assert connection.default_rate_limit.per_second == 2 and connection.default_rate_limit.burst == 40
    tested = await rig.connections.TestConnection(
        connections_pb2.TestConnectionRequest(id=connection.id), metadata=admin(flow)
    )
    assert tested.ok and "Beez Test Shop" in tested.detail
