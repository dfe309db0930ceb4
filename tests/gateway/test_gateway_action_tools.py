"""The builder's action tools through the real gateway (issue #14 §7, decision 0041): categories,
validation, and safe mode, whose preview is compared with what the stand-in receives when the
same step really runs (:mod:`tests.gateway.engagement_stack`).
"""

from __future__ import annotations

import json
from typing import Any

from beez.workflow import catalog
from tests.cli.conftest import beez
from tests.gateway.engagement_stack import (
    TWILIO_TOKEN,
    Stack,
    contact,
    create,
    indexed,
    publish,
    stack,
)

__all__ = ["stack"]  # the module's fixture

API = "/api/automations/actions"


async def rest(stack: Stack, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"X-Org-Id": stack.org}
    if body is None:
        async with stack.http.get(f"{stack.gateway}{path}", headers=headers) as resp:
            return resp.status, await resp.json()
    async with stack.http.post(f"{stack.gateway}{path}", json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_categories_count_the_catalog_and_validate_names_each_problem(stack: Stack) -> None:
    status, answer = await rest(stack, f"{API}/categories")
    assert status == 200
    counts = {c["category"]: c.get("count", 0) for c in answer["categories"]}
    expected: dict[str, int] = {}
    for entry in catalog.action_types():
        expected[entry.category] = expected.get(entry.category, 0) + 1
    assert {k: v for k, v in counts.items() if v} == expected

    status, answer = await rest(
        stack, f"{API}/validate", {"action": {"type": "send_email", "config": {"to": 5, "html": "x"}}}
    )
    assert status == 200
    assert answer["valid"] is False
    fields = {issue["field"] for issue in answer["issues"]}
    assert any(f.startswith("action.config") for f in fields), fields
    status, answer = await rest(
        stack,
        f"{API}/validate",
        {"action": {"type": "send_sms", "config": {"body": "Hi {{ contact.first_name }}"}}},
    )
    assert answer == {"valid": True}
    status, answer = await rest(stack, f"{API}/validate", {"action": {"type": "no_such_action"}})
    assert answer["issues"][0]["field"] == "action.type"


async def test_the_sms_preview_is_the_request_the_step_sent(stack: Stack) -> None:
    before = len(stack.provider.requests)
    status, answer = await rest(
        stack,
        f"{API}/test",
        {
            "action": {
                "id": "text",
                "type": "send_sms",
                "config": {"body": "Sale on, {{ contact.first_name }}"},
            },
            "event": {"type": "signup.done", "contact": contact("c_ada")},
        },
    )
    assert status == 200, answer
    shown = answer["request"]
    assert len(stack.provider.requests) == before  # safe mode: nothing sent
    [sent] = stack.provider.on(lambda r: r.path.endswith("/Messages.json"))
    assert (shown["method"], shown["url"]) == ("POST", f"{stack.provider.url}{sent.path}")
    assert shown["body"] == sent.body.decode()  # To, Body, From, StatusCallback: byte for byte
    assert shown["headers"]["Authorization"] == "Basic [redacted]"
    assert TWILIO_TOKEN not in json.dumps(answer)
    received = {k.lower(): v for k, v in sent.headers.items()}
    for name, value in shown["headers"].items():
        if name == "Authorization":
            assert received["authorization"].startswith("Basic ")
        elif "idempotency" in name.lower():  # the same attempt of another execution
            assert value == "exec:exec_preview:step:0:attempt:1"
            assert received[name.lower()].endswith(":step:1:attempt:1")  # the run's second step
        else:
            assert received[name.lower()] == value, name


async def test_the_webhook_preview_equals_what_the_receiver_gets_when_the_step_runs(stack: Stack) -> None:
    action = {
        "id": "notify",
        "type": "webhook",
        "config": {
            "url": f"{stack.provider.url}/parity?src=beez",
            "headers": {"X-Custom": "yes", "X-Api-Key": "receiver-key-0123456789"},
            "body": {"hello": "{{ contact.first_name }}", "plan": "{{ event.data.plan }}"},
        },
    }
    event = {"type": "parity.go", "contact": contact("c_grace"), "data": {"plan": "pro"}}
    status, answer = await rest(stack, f"{API}/test", {"action": action, "event": event})
    assert status == 200, answer
    shown = answer["request"]
    assert shown["headers"]["X-Api-Key"] == "[redacted]"
    assert not stack.provider.on(lambda r: r.path.startswith("/parity"))

    await create(
        stack.automation,
        stack.org,
        {"name": "Parity", "trigger": {"type": "custom_event", "event": "parity.go"}, "actions": [action]},
    )
    await indexed(stack.trigger, ["trigger-automations", "executor-automations"])
    await publish(stack.trigger, stack.org, {"id": "parity-1", **event})
    [sent] = await stack.provider.wait_for(lambda r: r.path.startswith("/parity"))
    assert (shown["method"], shown["url"]) == (sent.method, f"{stack.provider.url}{sent.path}")
    assert shown["body"].encode() == sent.body
    received = {k.lower(): v for k, v in sent.headers.items()}
    execution_id = received["x-beez-idempotency-key"].split(":")[1]
    for name, value in shown["headers"].items():
        if value == "[redacted]":
            assert received[name.lower()] == "receiver-key-0123456789"
        else:
            assert received[name.lower()] == value.replace("exec_preview", execution_id), name


async def test_a_command_action_shows_its_exact_platform_command(stack: Stack) -> None:
    status, answer = await rest(
        stack,
        f"{API}/test",
        {
            "action": {"type": "add_tag", "config": {"tag": "vip-{{ contact.first_name }}"}},
            "contact": contact("c_x"),
        },
    )
    assert status == 200, answer
    [command] = answer["commands"]
    assert command["subject"].endswith(f".{stack.org}.add_tag") or stack.org in command["subject"]
    assert "vip-Ada" in json.dumps(command["command"])
    assert command["command"]["idempotencyKey"] == "exec:exec_preview:step:0:attempt:1"
    status, refused = await rest(
        stack, f"{API}/test", {"action": {"type": "send_email", "config": {"to": 5}}}
    )
    assert status == 400
    assert "action.config" in json.dumps(refused)


async def test_the_cli_reaches_the_action_tools(stack: Stack) -> None:
    env = {"BEEZ_API_URL": stack.gateway, "BEEZ_ORG": stack.org}
    run = await beez("actions", "categories", env=env)
    assert run.exit_code == 0, run.output
    assert "communication" in run.stdout
    run = await beez("actions", "validate", "--action", '{"type": "send_sms", "config": {}}', env=env)
    assert run.exit_code == 1
    assert "action.config" in run.stdout
    action = '{"type": "send_sms", "config": {"body": "Hi {{ contact.first_name }}"}}'
    run = await beez(
        "actions", "test", "--action", action, "--contact", json.dumps(contact("c_cli")), env=env
    )
    assert run.exit_code == 0, run.output
    assert "POST " in run.stdout and "Basic [redacted]" in run.stdout and "Body=Hi+Ada" in run.stdout
    readme = (  # the README's example
        '{"type": "webhook", "config": {"url": "https://example.com/hook", '
        '"body": {"hi": "{{ contact.first_name }}"}}}'
    )
    run = await beez(
        "actions", "test", "--contact", '{"id": "c_123", "firstName": "Ada"}', "--action", readme, env=env
    )
    assert run.exit_code == 0, run.output
    assert "POST https://example.com/hook" in run.stdout and '{"hi":"Ada"}' in run.stdout
