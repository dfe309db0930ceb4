"""Every CRM verb, old and new, through a running executor to a stand-in CRM on real NATS
(decision 0042): each arrives as its typed message with the fields the step configured, under
the step's idempotency key, on ``platform.commands.<org>.<verb>``; the request-reply verbs are
answered, and their answer reaches later steps as variables. A lost reply is retried on the
executor's timers under the same key, and the CRM's deduplication makes one contact of it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from google.protobuf import json_format
from nats.aio.client import Client as NATS
from sqlalchemy import select

from beez.api.executor.v1 import executor_pb2
from beez.executor import models
from beez.workflow.model import struct_to_dict
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.support.standins.crm import CrmStandIn, crm_standin

TIMEOUT_S = 0.4

# (step type, config, the typed message's fields as the CRM decodes them)
CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "create_contact",
        {
            "email": "grace@example.com",
            "first_name": "Grace",
            "tags": ["referral"],
            "fields": {"source": "ada"},
        },
        {
            "email": "grace@example.com",
            "first_name": "Grace",
            "tags": ["referral"],
            "fields": {"source": "ada"},
        },
    ),
    (
        "create_relationship",
        {"related_contact_id": "{{ vars.contact_id }}", "relationship": "referred"},
        {"related_contact_id": "c_new_1", "relationship": "referred"},
    ),
    ("add_tag", {"tag": "vip"}, {"tag": "vip"}),
    ("remove_tag", {"tag": "lead"}, {"tag": "lead"}),
    ("update_field", {"field": "plan", "value": "enterprise"}, {"field": "plan", "value": "enterprise"}),
    ("add_to_list", {"list": "Customers"}, {"list": "Customers"}),
    ("remove_from_list", {"list": "New Customers"}, {"list": "New Customers"}),
    ("update_score", {"delta": 8}, {"delta": 8}),
    ("assign_user", {"team": "Success"}, {"team": "Success"}),
    ("update_lifecycle_stage", {"stage": "customer"}, {"stage": "customer"}),
    (
        "calculate_lead_score",
        {
            "base": 10,
            "rules": [
                {
                    "name": "vip",
                    "points": 30,
                    "conditions": [{"field": "contact.tags", "operator": "has_tag", "value": "vip"}],
                },
                {"name": "cold", "points": -50, "conditions": [{"expression": "contact.score < 0"}]},
            ],
        },
        {"score": 40, "matched_rules": ["vip"]},
    ),
    (
        "update_custom_field",
        {"field": "seats", "value": "{{ 6 * 2 }}", "type": "number"},
        {"field": "seats", "value": 12, "type": "CUSTOM_FIELD_TYPE_NUMBER"},
    ),
    (
        "copy_field",
        {"from": "email", "to": "backup_email"},
        {"from_field": "email", "to_field": "backup_email", "value": "ada@example.com"},
    ),
    (
        "append_to_field",
        {"field": "notes", "value": "called"},
        {"field": "notes", "text": "called", "separator": "\n"},
    ),
    ("subscribe_newsletter", {"newsletter": "weekly"}, {"newsletter": "weekly"}),
    ("unsubscribe", {"channels": ["sms"], "reason": "asked"}, {"channels": ["sms"], "reason": "asked"}),
    ("update_consent", {"whatsapp": False}, {"whatsapp": False}),
    ("set_do_not_contact", {"reason": "complaint"}, {"do_not_contact": True, "reason": "complaint"}),
    (
        "log_activity",
        {"activity_type": "call", "description": "Intro call"},
        {"activity_type": "call", "description": "Intro call"},
    ),
    (
        "upload_document",
        {"url": "https://files.example.com/contracts/ada.pdf"},
        {"url": "https://files.example.com/contracts/ada.pdf", "name": "ada.pdf"},
    ),
    ("export_contact_data", {"format": "csv"}, {"format": "EXPORT_FORMAT_CSV"}),
    ("merge_contacts", {"duplicate_contact_id": "c_ada_2"}, {"duplicate_contact_id": "c_ada_2"}),
    ("request_gdpr_deletion", {"reason": "Article 17 request"}, {"reason": "Article 17 request"}),
    ("delete_contact", {"reason": "erased"}, {"reason": "erased"}),
]
REQUESTS = {"create_contact", "export_contact_data"}


@pytest.fixture(scope="module")
async def crm_executor(admin_url: str, nats_url: str) -> AsyncIterator[Executor]:
    """The real actions, with a short deadline for the CRM's answers."""
    async with start_executor(
        admin_url, nats_url, action_plugins=[], actions={"platform_request_timeout_s": TIMEOUT_S}
    ) as running:
        yield running


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
async def crm(crm_executor: Executor, nc: NATS) -> AsyncIterator[tuple[Flow, CrmStandIn]]:
    flow = Flow(crm_executor, f"org_{uuid.uuid4().hex[:10]}")
    async with crm_standin(nc, crm_executor.topology, flow.org) as standin:
        yield flow, standin


async def received(standin: CrmStandIn, count: int) -> None:
    for _ in range(250):
        if len(standin.received) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the CRM received {len(standin.received)} of {count} messages")


async def state_of(flow: Flow, execution_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The execution's variables and contact snapshot, as stored."""
    async with flow.executor.svc.runtime.db.transaction() as session:
        row = (
            await session.execute(select(models.Execution).where(models.Execution.id == execution_id))
        ).scalar_one()
        return dict(row.vars), dict(row.contact)


def body(command: Any, verb: str) -> dict[str, Any]:
    return json_format.MessageToDict(getattr(command, verb), preserving_proto_field_name=True)


async def test_every_crm_verb_reaches_the_crm_as_its_typed_message(crm: tuple[Flow, CrmStandIn]) -> None:
    flow, standin = crm
    actions = [{"id": f"s{i}", "type": type_, "config": config} for i, (type_, config, _) in enumerate(CASES)]
    execution_id = await flow.start({"actions": actions})
    done = await flow.settled(execution_id, "completed", "failed", timeout=10)
    assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED, [s.error for s in done.steps if s.error]
    await received(standin, len(CASES))

    assert standin.problems == []
    keys = {step.step_id: step.idempotency_key for step in done.steps}
    for index, (type_, _, expected) in enumerate(CASES):
        [command] = standin.commands(type_)
        assert body(command, type_) == expected, type_
        key = keys[f"s{index}"]
        # requests carry the step's key without the attempt, the same for every attempt
        assert command.idempotency_key == (key.rsplit(":attempt:", 1)[0] if type_ in REQUESTS else key)
        assert (command.execution_id, command.contact_id) == (execution_id, "c_ada")
    assert {r.verb for r in standin.received if r.request} == REQUESTS

    variables, contact = await state_of(flow, execution_id)
    assert variables["contact_id"] == "c_new_1"
    assert variables["export_url"] == "https://crm.example.com/exports/exp_1"
    made = next(step for step in done.steps if step.step_id == "s0")
    assert struct_to_dict(made.result)["contact_id"] == "c_new_1"
    assert contact["score"] == 40 and contact["deleted"] is True
    assert contact["consent"] == {"email": False, "sms": False, "whatsapp": False, "push": False}
    assert contact["fields"]["lifecycle_stage"] == "customer" and contact["fields"]["seats"] == 12


async def test_a_lost_reply_is_retried_under_the_same_key_and_makes_one_contact(
    crm: tuple[Flow, CrmStandIn],
) -> None:
    flow, standin = crm
    standin.lose_replies = 1
    execution_id = await flow.start(
        {
            "actions": [
                {"id": "make", "type": "create_contact", "config": {"phone": "+2348000000001"}},
                {"id": "tag", "type": "add_tag", "config": {"tag": "from {{ vars.contact_id }}"}},
            ]
        }
    )
    await flow.until(execution_id, lambda ex: len(ex.steps) == 1 and ex.steps[0].error != "", "the timeout")
    await flow.advance(seconds=61)  # the default retry policy's first backoff, on the executor's timers
    done = await flow.settled(execution_id, "completed", "failed", timeout=10)
    assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED

    made = [step for step in done.steps if step.step_id == "make"]
    assert [(s.attempt, s.status, s.error_category) for s in made] == [
        (1, executor_pb2.STEP_STATUS_FAILED, "platform_timeout"),
        (2, executor_pb2.STEP_STATUS_SUCCEEDED, ""),
    ]
    requests = standin.commands("create_contact")
    assert len(requests) == 2 and requests[0].idempotency_key == requests[1].idempotency_key
    assert list(standin.contacts.values()) == ["c_new_1"]
    [tag] = standin.commands("add_tag")
    assert tag.add_tag.tag == "from c_new_1"


async def test_a_refused_request_fails_the_step_with_the_crms_message(crm: tuple[Flow, CrmStandIn]) -> None:
    flow, standin = crm
    standin.refuse = "email is not deliverable"
    execution_id = await flow.start(
        {"actions": [{"id": "make", "type": "create_contact", "config": {"email": "x@invalid.example"}}]}
    )
    done = await flow.settled(execution_id, "failed", timeout=10)
    [step] = done.steps
    assert step.error_category == "platform_invalid"
    assert "email is not deliverable" in step.error


async def test_a_crm_nobody_serves_is_retried_then_fails_transiently(crm_executor: Executor) -> None:
    flow = Flow(crm_executor, f"org_{uuid.uuid4().hex[:10]}")  # no stand-in: no responders
    execution_id = await flow.start(
        {
            "actions": [
                {
                    "id": "export",
                    "type": "export_contact_data",
                    "config": {"retry": {"attempts": 2, "backoff": [0]}},
                }
            ]
        }
    )
    done = await flow.settled(execution_id, "failed", timeout=10)
    assert [s.error_category for s in done.steps] == ["platform_unavailable", "platform_unavailable"]
