"""Validation refuses workflows whose worst-case execution goes past the steps or messages caps,
and ``send_email`` senders the organization has not verified (issue #12, decision 0023)."""

from __future__ import annotations

from typing import Any

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.workflow.amplification import Cost, ExecutionLimits, worst_case
from beez.workflow.model import workflow_from_json
from beez.workflow.senders import SenderPolicy, sender_issues
from beez.workflow.validate import validate_workflow

EMAIL = {"type": "send_email", "config": {"subject": "hi", "body": "hello"}}
TAG = {"type": "add_tag", "config": {"tag": "x"}}


def loop(body: list[dict[str, Any]], times: int = 1000) -> dict[str, Any]:
    return {"type": "loop", "config": {"times": times}, "branches": [{"name": "body", "actions": body}]}


def workflow(*actions: dict[str, Any]) -> Workflow:
    return workflow_from_json({"name": "t", "trigger": {"type": "contact_created"}, "actions": list(actions)})


def test_three_nested_loops_of_a_thousand_sends_are_refused_at_the_loop_that_amplifies() -> None:
    flow = workflow(loop([loop([loop([EMAIL])])]))
    assert worst_case(flow).messages == 10**9
    issues = validate_workflow(flow)
    # the innermost loop (1,000 sends) fits; the one around it (10^6) is the one to change
    assert [issue.field for issue in issues] == [
        "actions[0].branches[0].actions[0]",
        "actions[0].branches[0].actions[0]",
    ]
    assert "1,000,000 messages" in issues[0].description
    assert "at most 1,000 are allowed" in issues[0].description
    assert "steps" in issues[1].description


def test_a_loop_within_the_caps_passes_and_its_cost_counts_each_visit_of_the_loop_step() -> None:
    flow = workflow(loop([EMAIL, TAG], times=1000))
    assert worst_case(flow) == Cost(steps=1 + 1000 * 3, messages=1000)
    assert validate_workflow(flow) == []


def test_loop_over_a_list_counts_max_items_default_100() -> None:
    over = {
        "type": "loop",
        "config": {"over": "event.data.items"},
        "branches": [{"name": "body", "actions": [EMAIL]}],
    }
    assert worst_case(workflow(loop([over], times=20))).messages == 2000
    assert [i.field for i in validate_workflow(workflow(loop([over], times=20)))] == ["actions[0]"]


def test_branches_cost_their_most_expensive_branch_and_siblings_add_up() -> None:
    branchy = {
        "type": "condition",
        "config": {"conditions": [{"field": "contact.score", "operator": "greater_than", "value": 1}]},
        "branches": [
            {"name": "yes", "actions": [loop([EMAIL], times=600)]},
            {"name": "no", "actions": [loop([EMAIL], times=10)]},
        ],
    }
    assert worst_case(workflow(branchy)).messages == 600
    # two siblings of 600 each: no single loop is over, the whole workflow is
    issues = validate_workflow(workflow(loop([EMAIL], times=600), loop([EMAIL], times=600)))
    assert [i.field for i in issues] == ["actions"]
    assert "1,200 messages" in issues[0].description


def test_caps_given_by_the_caller_apply() -> None:
    flow = workflow(loop([EMAIL], times=100))
    assert validate_workflow(flow) == []
    issues = validate_workflow(flow, limits=ExecutionLimits(max_steps=10_000, max_messages=50))
    assert [i.field for i in issues] == ["actions[0]"]
    assert "at most 50 are allowed" in issues[0].description


def test_a_long_loop_of_internal_steps_goes_past_the_steps_cap() -> None:
    issues = validate_workflow(workflow(loop([TAG] * 10, times=1000)))
    assert [i.field for i in issues] == ["actions[0]"]
    assert "11,001 steps" in issues[0].description


POLICY = SenderPolicy(
    default_from="Beez <hello@beez.example>", verified={"org_a": ["@acme.com", "ops@other.io"]}
)


def with_from(sender: str) -> Workflow:
    return workflow(TAG, {"type": "send_email", "config": {"subject": "s", "body": "b", "from": sender}})


def test_verified_senders_addresses_domains_and_the_default_are_allowed() -> None:
    for sender in ("news@acme.com", "Acme <News@ACME.com>", "ops@other.io", "hello@beez.example"):
        assert sender_issues(with_from(sender), "org_a", POLICY) == [], sender
    assert sender_issues(workflow(EMAIL), "org_a", POLICY) == []  # no from: the default


def test_unverified_senders_are_refused_naming_the_step_config_from() -> None:
    for sender in ("ceo@bank.com", "x@sub.acme.com", "ops@other.io.evil", "{{ contact.email }}"):
        issues = sender_issues(with_from(sender), "org_a", POLICY)
        assert [i.field for i in issues] == ["actions[1].config.from"], sender
    # another organization's verified senders are not this one's
    assert [i.field for i in sender_issues(with_from("news@acme.com"), "org_b", POLICY)] == [
        "actions[1].config.from"
    ]
