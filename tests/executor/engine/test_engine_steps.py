"""Executions run step by step: logs, lifecycle events, commands and the step protocol."""

from __future__ import annotations

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import commands_pb2
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Flow, step_ids


async def test_linear_workflow_completes_with_one_log_per_step(flow: Flow, provider: fakes.Provider) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {"id": "hello", "type": "test_record", "config": {"text": "Hi {{ contact.first_name }}"}},
                {"id": "tag", "type": "add_tag", "config": {"tag": "Engaged"}},
                {"id": "remember", "type": "set_variable", "config": {"name": "plan", "value": "gold"}},
                {
                    "id": "bye",
                    "type": "test_record",
                    "config": {"text": "{{ vars.plan }} {{ 'Engaged' in contact.tags }}"},
                },
            ]
        }
    )
    done = await flow.settled(execution_id, "completed")

    assert step_ids(done) == ["hello", "tag", "remember", "bye"]
    assert all(step.status == executor_pb2.STEP_STATUS_SUCCEEDED and step.attempt == 1 for step in done.steps)
    assert done.steps[0].idempotency_key == f"exec:{execution_id}:step:0:attempt:1"
    assert done.steps[0].path == "actions[0]"
    assert done.start_time.ToDatetime() and done.end_time.ToDatetime()
    assert done.current_step == ""
    assert [c.config["text"] for c in provider.calls_of(execution_id)] == ["Hi Ada", "gold True"]
    assert await flow.kinds(execution_id) == ["started", *["step_completed"] * 4, "completed"]
    [(subject, msg_id, payload)] = await flow.outbox(".platform.commands.")
    assert subject.endswith(f"platform.commands.{flow.org}.add_tag")
    assert msg_id == f"exec:{execution_id}:step:1:attempt:1:cmd:0"
    command = commands_pb2.PlatformCommand.FromString(payload)
    assert command.add_tag.tag == "Engaged"
    assert command.execution_id == execution_id and command.contact_id == "c_ada"


async def test_jobs_keep_the_priority_the_execution_started_with(flow: Flow) -> None:
    execution_id = await flow.start(
        {"actions": [{"id": "pause", "type": "wait", "config": {"value": 1, "unit": "minutes"}}]},
        priority="critical",
    )
    await flow.settled(execution_id, "waiting")
    await flow.advance(minutes=1)
    await flow.settled(execution_id, "completed")
    [(subject, msg_id, _)] = await flow.outbox(".jobs.")
    assert subject.endswith(f"jobs.critical.{flow.org}")
    assert msg_id.startswith("timer:tmr_")


async def test_a_busy_low_priority_queue_never_holds_up_critical_jobs(
    flow: Flow, provider: fakes.Provider
) -> None:
    slow = {"actions": [{"id": "slow", "type": "test_gate"}]}
    blocked = await flow.start(slow, priority="low")  # takes the one low slot
    queued = await flow.start(slow, priority="low")
    await flow.until(blocked, lambda ex: len(ex.steps) == 1, "its slow step started")

    urgent = await flow.start({"actions": [{"id": "now", "type": "test_record"}]}, priority="critical")
    await flow.settled(urgent, "completed")
    assert provider.calls_of(queued) == []  # still behind the blocked low job

    provider.gate.set()
    await flow.settled(blocked, "completed")
    await flow.settled(queued, "completed")
