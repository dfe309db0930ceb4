"""Task, calendar, activity and conversation steps through the running executor, as their owner
receives them on real NATS (decision 0043).

:class:`Owner` stands in for the modules that own tasks, calendars, activities and inbox
conversations: a JetStream consumer of ``platform.commands.<org>.>`` that decodes each typed
command, checks that the subject's verb and organization are the message's, creates an object
once per id (a create it has seen changes nothing), and refuses a reference to a task it does not
know. A workflow that creates a task and then assigns, reschedules, comments, reminds and
completes it by ``vars.task_id`` must leave the owner with that one task in that state.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from nats.js import JetStreamContext
from sqlalchemy import select

from beez.api.executor.v1 import actions_pb2, actions_pb2_grpc, executor_pb2
from beez.api.messages.v1 import commands_pb2, commands_tasks_pb2
from beez.api.messages.v1.events_pb2 import Contact
from beez.api.workflow.v1.workflow_pb2 import Action
from beez.executor.actions import ActionSettings, build_registry
from beez.executor.engine.attempts import is_local
from beez.executor.models import Execution as ExecutionRow
from beez.kit.bus.topology import Topology
from beez.workflow.effects import StepScope
from beez.workflow.effects_tasks import derived_id
from tests.automation.support import violations
from tests.executor.actions.conftest import make_ctx
from tests.executor.engine.conftest import Flow

TASK = commands_tasks_pb2


@dataclass
class Owner:
    """What the owning modules hold after the commands they received."""

    org: str
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    """Every object id created, by id: its verb."""
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[tuple[str, commands_pb2.PlatformCommand]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def create(self, verb: str, object_id: str) -> bool:
        """Whether ``object_id`` is new (the owner deduplicates creates by id)."""
        assert object_id, f"{verb} carries no id"
        if object_id in self.created:
            return False
        self.created[object_id] = verb
        return True

    def task(self, task_id: str, verb: str) -> dict[str, Any] | None:
        found = self.tasks.get(task_id)
        if found is None:
            self.refused.append(f"{verb}: unknown task {task_id}")
        return found

    def apply(self, subject: str, cmd: commands_pb2.PlatformCommand) -> None:
        verb = cmd.WhichOneof("command")
        assert verb is not None and subject.endswith(f"platform.commands.{self.org}.{verb}"), subject
        assert cmd.organization_id == self.org and cmd.idempotency_key.startswith("exec:")
        self.received.append((verb, cmd))
        body: Any = getattr(cmd, verb)
        if verb == "create_task":
            if self.create(verb, body.task_id):
                self.tasks[body.task_id] = {"title": body.title, "comments": [], "status": "open"}
        elif verb == "create_follow_up_sequence":
            if self.create(verb, body.sequence_id):
                for item in body.items:
                    self.create("follow_up_item", item.task_id)
                    self.tasks[item.task_id] = {"title": item.title, "comments": [], "status": "open"}
        elif verb in ("create_calendar_event", "schedule_meeting", "log_phone_call", "log_meeting_notes"):
            self.create(
                verb,
                body.event_id
                if verb == "create_calendar_event"
                else body.meeting_id
                if verb == "schedule_meeting"
                else body.activity_id,
            )
        elif hasattr(body, "task_id") and (task := self.task(body.task_id, verb)) is not None:
            if verb == "assign_task":
                task["assignee"] = body.assignee
            elif verb == "set_task_due_date":
                task["due_at"] = body.due_at.ToDatetime()
            elif verb == "update_task_priority":
                task["priority"] = TASK.TaskPriority.Name(body.priority)
            elif verb == "add_task_comment" and self.create(verb, body.comment_id):
                task["comments"].append(body.body)
            elif verb == "send_task_reminder":
                task["reminded"] = body.message
            elif verb == "complete_task":
                task["status"] = "done"
        elif hasattr(body, "conversation_id"):
            talk = self.conversations.setdefault(
                body.conversation_id, {"status": "open", "replies": [], "notes": []}
            )
            if verb == "reply_to_conversation" and self.create(verb, body.message_id):
                talk["replies"].append(body.body)
            elif verb == "add_conversation_note" and self.create(verb, body.note_id):
                talk["notes"].append(body.body)
            elif verb == "close_conversation":
                talk["status"] = "closed"
            elif verb == "reopen_conversation":
                talk["status"] = "open"
            elif verb == "assign_conversation":
                talk["agent"] = body.agent_id
            elif verb == "transfer_conversation":
                talk["inbox"] = body.inbox


async def consume(js: JetStreamContext, topology: Topology, owner: Owner, count: int) -> None:
    """Feeds ``owner`` the organization's commands from the COMMANDS stream until ``count`` came."""
    sub = await js.pull_subscribe(
        topology.subject(f"platform.commands.{owner.org}.>"), stream=topology.stream("COMMANDS")
    )
    try:
        deadline = asyncio.get_running_loop().time() + 10
        while len(owner.received) < count:
            assert asyncio.get_running_loop().time() < deadline, f"only {len(owner.received)} commands came"
            try:
                messages = await sub.fetch(count - len(owner.received), timeout=0.5)
            except TimeoutError:
                continue
            for message in messages:
                owner.apply(message.subject, commands_pb2.PlatformCommand.FromString(message.data))
                await message.ack()
    finally:
        await sub.unsubscribe()


TASK_STEPS: list[dict[str, Any]] = [
    {
        "id": "task",
        "type": "create_task",
        "config": {"title": "Call {{ contact.first_name }}", "priority": "high"},
    },
    {"id": "assign", "type": "assign_task", "config": {"assignee": "u_grace"}},
    {"id": "due", "type": "set_task_due_date", "config": {"due_in": {"value": 3, "unit": "days"}}},
    {"id": "priority", "type": "update_task_priority", "config": {"priority": "urgent"}},
    {"id": "comment", "type": "add_task_comment", "config": {"body": "score {{ contact.score }}"}},
    {"id": "remind", "type": "send_task_reminder", "config": {"message": "{{ contact.first_name }} waits"}},
    {"id": "done", "type": "complete_task", "config": {"note": "called"}},
    {
        "id": "calendar",
        "type": "create_calendar_event",
        "config": {"title": "Review", "start_at": "2026-02-02T09:30:00Z", "duration_minutes": 60},
    },
    {
        "id": "meeting",
        "type": "schedule_meeting",
        "config": {"title": "Demo", "start_in": {"value": 1, "unit": "days"}},
    },
    {"id": "notes", "type": "log_meeting_notes", "config": {"notes": "went well"}},
    {"id": "call", "type": "log_phone_call", "config": {"outcome": "voicemail", "duration_seconds": 30}},
    {
        "id": "sequence",
        "type": "create_follow_up_sequence",
        "config": {
            "name": "Onboarding",
            "items": [
                {"title": "Day one", "after": {"value": 1, "unit": "days"}},
                {"kind": "reminder", "title": "Week two", "after": {"value": 2, "unit": "weeks"}},
            ],
        },
    },
    {"id": "later", "type": "complete_task", "config": {"task_id": "{{ vars.follow_up_task_ids[0] }}"}},
]
CONVERSATION_STEPS: list[dict[str, Any]] = [
    {"id": "reply", "type": "reply_to_conversation", "config": {"body": "Hi {{ contact.first_name }}"}},
    {"id": "note", "type": "add_conversation_note", "config": {"body": "VIP"}},
    {"id": "agent", "type": "assign_conversation", "config": {"agent_id": "u_grace"}},
    {"id": "move", "type": "transfer_conversation", "config": {"inbox": "billing"}},
    {"id": "close", "type": "close_conversation", "config": {"reason": "answered"}},
    {"id": "reopen", "type": "reopen_conversation", "config": {}},
]


def key(execution_id: str, position: int) -> str:
    return f"exec:{execution_id}:step:{position}"


async def test_the_owner_receives_every_typed_command_and_ids_link_the_steps(flow: Flow) -> None:
    steps = TASK_STEPS + CONVERSATION_STEPS
    execution_id = await flow.start(
        {"actions": steps}, data={"list": "New Customers", "conversation_id": "cv_9"}
    )
    done = await flow.settled(execution_id, "completed", "failed")
    assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED, [(s.step_id, s.error) for s in done.steps]

    owner = Owner(flow.org)
    await consume(flow.executor.js, flow.executor.topology, owner, len(steps))
    assert [verb for verb, _ in owner.received] == [step["type"] for step in steps]
    for position, (verb, cmd) in enumerate(owner.received):
        assert cmd.idempotency_key == f"{key(execution_id, position)}:attempt:1", verb
        assert (cmd.execution_id, cmd.contact_id, cmd.automation_id) == (execution_id, "c_ada", "auto_1")
    assert owner.refused == []

    task_id = derived_id("task", StepScope(key(execution_id, 0), flow.clock.now()))
    start = flow.clock.now()
    assert owner.tasks[task_id] == {
        "title": "Call Ada",
        "comments": ["score 42"],
        "status": "done",
        "assignee": "u_grace",
        "due_at": (start + timedelta(days=3)).replace(tzinfo=None, microsecond=0),
        "priority": "TASK_PRIORITY_URGENT",
        "reminded": "Ada waits",
    }
    sequence = dict(owner.received)["create_follow_up_sequence"].create_follow_up_sequence
    assert [
        (i.kind, i.title, i.due_at.ToDatetime() - start.replace(tzinfo=None, microsecond=0))
        for i in sequence.items
    ] == [
        (TASK.FOLLOW_UP_KIND_TASK, "Day one", timedelta(days=1)),
        (TASK.FOLLOW_UP_KIND_REMINDER, "Week two", timedelta(weeks=2)),
    ]
    assert owner.tasks[sequence.items[0].task_id]["status"] == "done"
    assert owner.tasks[sequence.items[1].task_id]["status"] == "open"
    calendar = dict(owner.received)["create_calendar_event"].create_calendar_event
    assert (calendar.start_at.ToJsonString(), calendar.end_at.ToJsonString()) == (
        "2026-02-02T09:30:00Z",
        "2026-02-02T10:30:00Z",
    )
    meeting = dict(owner.received)["schedule_meeting"].schedule_meeting
    notes = dict(owner.received)["log_meeting_notes"].log_meeting_notes
    assert notes.meeting_id == meeting.meeting_id and meeting.send_invitations
    call = dict(owner.received)["log_phone_call"].log_phone_call
    assert (call.direction, call.phone, call.duration_seconds) == (
        TASK.CALL_DIRECTION_OUTBOUND,
        "+2348012345678",
        30,
    )
    assert owner.conversations == {
        "cv_9": {
            "status": "open",
            "replies": ["Hi Ada"],
            "notes": ["VIP"],
            "agent": "u_grace",
            "inbox": "billing",
        }
    }
    # the ids later steps need are in the step log and in vars, without a reply from the owner
    assert json_format.MessageToDict(done.steps[0].result)["task_id"] == task_id
    async with flow.executor.svc.runtime.db.transaction() as session:
        variables = (
            await session.execute(select(ExecutionRow.vars).where(ExecutionRow.id == execution_id))
        ).scalar_one()
    assert variables["task_id"] == task_id
    assert variables["meeting_id"] == meeting.meeting_id
    assert variables["calendar_event_id"] == calendar.event_id
    assert variables["follow_up_task_ids"] == [i.task_id for i in sequence.items]


async def test_a_step_run_again_names_the_same_objects_and_the_owner_creates_them_once() -> None:
    registry = build_registry(ActionSettings())
    owner = Owner("org_1")
    try:
        for attempt in (1, 2):  # a crash between the call and the settle: the step runs again
            for position, step in enumerate(TASK_STEPS[:1] + TASK_STEPS[7:12] + CONVERSATION_STEPS[:2]):
                ctx = make_ctx(
                    step["config"],
                    attempt=attempt,
                    step_path=str(position),
                    event={"type": "list.joined", "data": {"conversation_id": "cv_1"}},
                    vars={},
                )
                for cmd in (await registry[step["type"]].run(ctx)).commands:
                    owner.apply(f"platform.commands.org_1.{cmd.WhichOneof('command')}", cmd)
    finally:
        await registry.aclose()
    firsts, seconds = owner.received[:8], owner.received[8:]
    assert [c.idempotency_key for _, c in seconds] != [c.idempotency_key for _, c in firsts]
    assert [getattr(c, v) for v, c in seconds] == [getattr(c, v) for v, c in firsts]
    assert len(owner.created) == 1 + 5 + 2 + 2  # task, 5 creates (a sequence holds 2 items), reply, note
    assert owner.conversations["cv_1"]["replies"] == [CONVERSATION_STEPS[0]["config"]["body"]]  # one reply


FAILURES: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    # type, config, start options, category, in the error
    ("assign_task", {"assignee": "u_1"}, {}, "no_task", "no task"),
    ("complete_task", {}, {}, "no_task", "vars.task_id"),
    ("add_task_comment", {"task_id": "{{ event.data.missing }}", "body": "x"}, {}, "no_task", "no task"),
    (
        "set_task_due_date",
        {"task_id": "t_1", "due_at": "{{ event.data.list }}"},
        {},
        "invalid_config",
        "due_at",
    ),
    (
        "update_task_priority",
        {"task_id": "t_1", "priority": "{{ event.data.list }}"},
        {},
        "invalid_config",
        "priority",
    ),
    ("close_conversation", {}, {}, "no_conversation", "conversation_id"),
    (
        "reply_to_conversation",
        {"conversation_id": "cv_1", "body": "{{ event.data.missing }}"},
        {},
        "invalid_config",
        "body",
    ),
    (
        "schedule_meeting",
        {"title": "Demo", "start_in": {"value": 1, "unit": "days"}},
        {"contact": {"id": ""}},
        "no_contact",
        "contact",
    ),
    ("log_phone_call", {}, {"contact": {"id": ""}}, "no_contact", "contact"),
]


@pytest.mark.parametrize(
    ("type_", "config", "options", "category", "words"), FAILURES, ids=[f"{f[0]}-{f[3]}" for f in FAILURES]
)
async def test_a_step_that_cannot_work_fails_at_once_and_sends_nothing(
    flow: Flow, type_: str, config: dict[str, Any], options: dict[str, Any], category: str, words: str
) -> None:
    execution_id = await flow.start({"actions": [{"id": "step", "type": type_, "config": config}]}, **options)
    failed = await flow.settled(execution_id, "failed")
    [step] = failed.steps
    assert (step.status, step.attempt, step.error_category) == (executor_pb2.STEP_STATUS_FAILED, 1, category)
    assert words in step.error
    assert await flow.outbox(".platform.commands.") == []


async def test_test_action_shows_the_exact_command_of_a_task_and_of_a_conversation_step(flow: Flow) -> None:
    stub: Any = actions_pb2_grpc.ActionServiceStub(flow.executor.svc.channel)
    contact = Contact(id="c_ada", first_name="Ada")
    for type_, config, verb in [
        ("add_task_comment", {"body": "hi {{ contact.first_name }}"}, "add_task_comment"),
        (
            "reply_to_conversation",
            {"conversation_id": "cv_3", "body": "hi {{ contact.first_name }}"},
            "reply_to_conversation",
        ),
    ]:
        action = json_format.ParseDict({"type": type_, "config": config}, Action())
        request = actions_pb2.TestActionRequest(action=action, contact=contact)
        request.vars.update({"task_id": "task_7"})
        answer = await stub.TestAction(request, metadata=flow.metadata)
        [shown] = answer.commands
        assert shown.subject.endswith(f"platform.commands.{flow.org}.{verb}")
        body = getattr(shown.command, verb)
        assert body.body == "hi Ada"
        scope = StepScope("exec:exec_preview:step:0", flow.clock.now())
        if verb == "add_task_comment":
            assert (body.task_id, body.comment_id) == ("task_7", derived_id("cmt", scope))
        else:
            assert (body.conversation_id, body.message_id) == ("cv_3", derived_id("msg", scope))
        assert shown.command.idempotency_key == "exec:exec_preview:step:0:attempt:1"


def test_every_scoped_type_is_driven_here() -> None:
    from beez.workflow.effects import scoped_effects

    driven = {step["type"] for step in TASK_STEPS + CONVERSATION_STEPS}
    assert driven == set(scoped_effects())
    assert len(driven) == 18
    assert all(is_local(type_) for type_ in driven)  # commands only: one transaction each


async def test_test_action_refuses_a_bad_config_by_path_and_says_why_a_step_would_fail(flow: Flow) -> None:
    stub: Any = actions_pb2_grpc.ActionServiceStub(flow.executor.svc.channel)
    bad = json_format.ParseDict({"type": "update_task_priority", "config": {"priority": "asap"}}, Action())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.TestAction(actions_pb2.TestActionRequest(action=bad), metadata=flow.metadata)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(refused.value) == [
        ("action.config.priority", "must be one of low, normal, high, urgent")
    ]
    orphan = json_format.ParseDict({"type": "complete_task", "config": {}}, Action())
    with pytest.raises(grpc.aio.AioRpcError) as failing:
        await stub.TestAction(actions_pb2.TestActionRequest(action=orphan), metadata=flow.metadata)
    assert failing.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "(no_task)" in str(failing.value.details())
