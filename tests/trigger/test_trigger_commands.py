"""Workflows' platform commands reach the trigger's contact projection (decision 0042): the
``trigger-commands`` consumer applies each contact-affecting verb once, whatever the copies, and a
condition trigger reacts to a change a workflow made."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from beez.api.messages.v1 import commands_pb2
from beez.kit.bus.headers import DLQ_ORIGINAL_MSG_ID
from tests.trigger.support import Harness, workflow
from tests.trigger.test_trigger_conditions import started
from tests.trigger.test_trigger_projection import contact_event, get


def command(org: str, contact: str, key: str, **body: Any) -> commands_pb2.PlatformCommand:
    """A PlatformCommand as the executor stamps it; ``body`` is ``{verb: fields}``."""
    message = json_format.ParseDict(
        {"idempotencyKey": key, "organizationId": org, "contactId": contact, "executionId": "ex_1", **body},
        commands_pb2.PlatformCommand(),
    )
    assert isinstance(message, commands_pb2.PlatformCommand)
    return message


async def send(
    trigger: Harness, cmd: commands_pb2.PlatformCommand, *, msg_id: str = "", org: str = ""
) -> None:
    """Publishes ``cmd`` on platform.commands.<org>.<verb> and waits until the trigger acked it."""
    verb = cmd.WhichOneof("command")
    assert verb is not None
    ack = await trigger.publisher.publish(
        trigger.topology.command(org or trigger.org, verb),
        cmd,
        msg_id=msg_id or f"{cmd.idempotency_key}:cmd:0",
    )
    await trigger.consumed("COMMANDS", "trigger-commands", ack.seq)


async def test_a_score_raised_by_a_workflow_fires_a_score_condition_once(trigger: Harness) -> None:
    await trigger.automation(
        "hot", workflow({"type": "score_threshold", "config": {"operator": "greater_than", "value": 80}})
    )
    await trigger.publish(contact_event("contact.created", "c_1", snapshot={"score": 70}))
    assert await started(trigger, "hot") == []

    raise_score = command(trigger.org, "c_1", "exec:e1:step:0:attempt:1", updateScore={"delta": 20})
    await send(trigger, raise_score)
    # the relay re-sends after a crash, past the stream's duplicate window: a new message id
    await send(trigger, raise_score, msg_id="resent-after-the-window")

    assert (await get(trigger, "c_1")).contact.score == 90
    assert await started(trigger, "hot") == ["c_1"]


async def test_every_contact_affecting_verb_changes_the_projection(trigger: Harness) -> None:
    await trigger.publish(
        contact_event(
            "contact.created",
            "c_1",
            snapshot={
                "tags": ["old"],
                "lists": ["news"],
                "score": 5,
                "consent": {"email": True, "sms": True, "whatsapp": True},
                "fields": {"notes": "first call", "plan": "free"},
            },
        )
    )
    bodies: list[dict[str, Any]] = [
        {"addTag": {"tag": "vip"}},
        {"removeTag": {"tag": "old"}},
        {"addToList": {"list": "customers"}},
        {"removeFromList": {"list": "news"}},
        {"updateField": {"field": "plan", "value": "pro"}},
        {"updateCustomField": {"field": "seats", "value": 12, "type": "CUSTOM_FIELD_TYPE_NUMBER"}},
        {"copyField": {"fromField": "email", "toField": "backup_email", "value": "ada@example.com"}},
        {"appendToField": {"field": "notes", "text": "second call", "separator": "\n"}},
        {"updateLifecycleStage": {"stage": "customer"}},
        {"calculateLeadScore": {"score": 64, "matchedRules": ["vip"]}},
        {"updateScore": {"delta": 6}},
        {"subscribeNewsletter": {"newsletter": "weekly"}},
        {"unsubscribe": {"channels": ["sms"]}},
        {"updateConsent": {"whatsapp": False}},
        # verbs that change nothing the projection keeps are acknowledged and skipped
        {"logActivity": {"activityType": "call"}},
        {"createTask": {"title": "call back"}},
    ]
    for index, body in enumerate(bodies):
        await send(trigger, command(trigger.org, "c_1", f"exec:e2:step:{index}:attempt:1", **body))

    found = await get(trigger, "c_1")
    assert list(found.contact.tags) == ["vip"]
    assert list(found.contact.lists) == ["customers"]
    assert found.contact.score == 70
    assert found.lifecycle_stage == "customer"
    fields = json_format.MessageToDict(found.contact.fields)
    assert {k: fields[k] for k in ("plan", "seats", "backup_email", "notes", "subscriptions")} == {
        "plan": "pro",
        "seats": 12,
        "backup_email": "ada@example.com",
        "notes": "first call\nsecond call",
        "subscriptions": ["weekly"],
    }
    consent = found.contact.consent
    assert (consent.email, consent.sms, consent.whatsapp) == (True, False, False)

    await send(
        trigger,
        command(trigger.org, "c_1", "exec:e2:step:99:attempt:1", setDoNotContact={"doNotContact": True}),
    )
    found = await get(trigger, "c_1")
    assert not found.contact.consent.email
    assert json_format.MessageToDict(found.contact.fields)["do_not_contact"] is True


async def test_deleting_and_merging_contacts_tombstone_them(trigger: Harness) -> None:
    for contact in ("c_keep", "c_dup", "c_gone"):
        await trigger.publish(contact_event("contact.created", contact, snapshot={"tags": ["x"]}))

    await send(
        trigger,
        command(trigger.org, "c_gone", "exec:e3:step:0:attempt:1", deleteContact={"reason": "bounced"}),
    )
    await send(
        trigger,
        command(
            trigger.org, "c_keep", "exec:e3:step:1:attempt:1", mergeContacts={"duplicateContactId": "c_dup"}
        ),
    )

    assert (await get(trigger, "c_gone")).deleted
    assert (await get(trigger, "c_dup")).deleted
    keep = await get(trigger, "c_keep")
    assert not keep.deleted and list(keep.contact.tags) == ["x"]


async def test_a_command_of_another_organization_or_verb_is_dead_lettered_and_changes_nothing(
    trigger: Harness,
) -> None:
    await trigger.publish(contact_event("contact.created", "c_1", snapshot={"tags": ["x"]}))
    foreign = command(trigger.other_org, "c_1", "exec:e4:step:0:attempt:1", addTag={"tag": "stolen"})
    ack = await trigger.publisher.publish(
        trigger.topology.command(trigger.org, "add_tag"), foreign, msg_id="foreign-1"
    )
    await trigger.consumed("COMMANDS", "trigger-commands", ack.seq)
    mislabelled = command(trigger.org, "c_1", "exec:e4:step:1:attempt:1", addTag={"tag": "mislabelled"})
    ack = await trigger.publisher.publish(
        trigger.topology.command(trigger.org, "remove_tag"), mislabelled, msg_id="mislabelled-1"
    )
    await trigger.consumed("COMMANDS", "trigger-commands", ack.seq)
    assert list((await get(trigger, "c_1")).contact.tags) == ["x"]
    letters = await trigger.js.subscribe(trigger.topology.dlq("trigger-commands"), ordered_consumer=True)
    try:
        found = {
            ((await letters.next_msg(timeout=5)).headers or {}).get(DLQ_ORIGINAL_MSG_ID) for _ in range(2)
        }
    finally:
        await letters.unsubscribe()
    assert found == {"foreign-1", "mislabelled-1"}
