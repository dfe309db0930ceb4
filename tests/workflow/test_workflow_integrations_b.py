"""The catalog entries and connection rules of the Jira, Buffer, Mailchimp, Intercom,
Pipedrive/Close, Asana and monday.com actions: each names its connection, its schema refuses
what its provider cannot take, and validation refuses a connection the organization lacks or
one of another provider (decision 0040)."""

from __future__ import annotations

from typing import Any

import pytest

from beez.workflow.connections import KnownConnection, connection_issues
from beez.workflow.errors import Issue
from beez.workflow.model import workflow_from_json
from beez.workflow.validate import validate_workflow

VALID: dict[str, tuple[str, dict[str, Any]]] = {
    "create_jira_ticket": ("jira", {"project": "OPS", "summary": "Call {{ contact.first_name }}"}),
    "post_social_buffer": ("buffer", {"channel_id": "ch_1", "text": "Hello"}),
    "add_mailchimp_member": ("mailchimp", {"list_id": "a1b2c3d4e5"}),
    "update_intercom_user": ("intercom", {"name": "{{ contact.first_name }}"}),
    "sync_crm": ("close", {"organization": "Acme"}),
    "create_asana_task": ("asana", {"name": "Onboard", "project": "1200000000000001"}),
    "update_monday_board": ("monday", {"board_id": "4821337", "item_name": "Ada"}),
}


def issues(type_: str, config: dict[str, Any]) -> list[Issue]:
    workflow = workflow_from_json(
        {"name": "t", "trigger": {"type": "list_joined"}, "actions": [{"type": type_, "config": config}]}
    )
    return validate_workflow(workflow)


def connected(type_: str, config: dict[str, Any], known: list[KnownConnection]) -> list[str]:
    workflow = workflow_from_json(
        {"name": "t", "trigger": {"type": "list_joined"}, "actions": [{"type": type_, "config": config}]}
    )
    return [f"{issue.field}: {issue.description}" for issue in connection_issues(workflow, known)]


@pytest.mark.parametrize("type_", sorted(VALID))
def test_each_action_validates_with_a_connection_and_requires_one(type_: str) -> None:
    _, config = VALID[type_]
    assert issues(type_, {**config, "connection": "main"}) == []
    assert [i.field for i in issues(type_, config)] == ["actions[0].config.connection"]
    assert [i.field for i in issues(type_, {**config, "connection": "main", "colour": "blue"})] == [
        "actions[0].config.colour"
    ]


@pytest.mark.parametrize("type_", sorted(VALID))
def test_validation_refuses_a_connection_the_organization_lacks_or_of_another_provider(type_: str) -> None:
    provider, config = VALID[type_]
    named = {**config, "connection": "main"}
    assert connected(type_, named, [KnownConnection("c1", "main", provider)]) == []
    [missing] = connected(type_, named, [KnownConnection("c1", "other", provider)])
    assert (
        missing.startswith("actions[0].config.connection: the organization has no ") and "'main'" in missing
    )
    [wrong] = connected(type_, named, [KnownConnection("c1", "main", "slack")])
    assert wrong.startswith(f"actions[0].config.connection: 'main' is a slack connection; {type_} uses ")


def test_sync_crm_takes_pipedrive_or_close() -> None:
    named = {"connection": "crm"}
    for provider in ("pipedrive", "close"):
        assert connected("sync_crm", named, [KnownConnection("c1", "crm", provider)]) == []
    assert connected("sync_crm", named, [KnownConnection("c1", "crm", "hubspot")]) == [
        "actions[0].config.connection: 'crm' is a hubspot connection; sync_crm uses close or pipedrive"
    ]


@pytest.mark.parametrize(
    ("type_", "config", "field"),
    [
        ("create_jira_ticket", {"project": "ops", "summary": "x"}, "actions[0].config.project"),
        ("create_jira_ticket", {"project": "OPS", "summary": "x" * 256}, "actions[0].config.summary"),
        (
            "create_jira_ticket",
            {"project": "OPS", "summary": "x", "labels": ["two words"]},
            "actions[0].config.labels[0]",
        ),
        (
            "post_social_buffer",
            {"channel_id": "c", "text": "t", "mode": "customScheduled"},
            "actions[0].config.due_at",
        ),
        ("post_social_buffer", {"channel_id": "c", "text": "t", "mode": "later"}, "actions[0].config.mode"),
        (
            "add_mailchimp_member",
            {"list_id": "l", "status_if_new": "maybe"},
            "actions[0].config.status_if_new",
        ),
        ("create_asana_task", {"name": "n"}, "actions[0].config"),
        ("update_monday_board", {"board_id": "1"}, "actions[0].config.item_name"),
        ("update_monday_board", {"board_id": "1", "item_id": "2"}, "actions[0].config.column_values"),
        (
            "update_monday_board",
            {"board_id": "1", "item_id": "2", "item_name": "x", "column_values": {}},
            "actions[0].config",
        ),
    ],
)
def test_schemas_refuse_what_the_provider_cannot_take(type_: str, config: dict[str, Any], field: str) -> None:
    assert field in [i.field for i in issues(type_, {**config, "connection": "main"})]
