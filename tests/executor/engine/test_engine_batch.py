"""START jobs are created and run in batches: one transaction, the same outcome as one by one."""

from __future__ import annotations

from sqlalchemy import text

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.executor.engine import Engine
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Flow, step_ids

INTERNAL = {
    "actions": [
        {
            "id": "check",
            "type": "condition",
            "config": {"conditions": [{"field": "contact.tags", "operator": "contains", "value": "lead"}]},
            "branches": [
                {
                    "name": "yes",
                    "actions": [
                        {"id": "remember", "type": "set_variable", "config": {"name": "x", "value": 1}}
                    ],
                },
                {"name": "no", "actions": []},
            ],
        },
        {"id": "tag", "type": "add_tag", "config": {"tag": "Engaged"}},
    ]
}

WITH_CALL = {
    "actions": [
        {"id": "remember", "type": "set_variable", "config": {"name": "plan", "value": "gold"}},
        {"id": "hello", "type": "test_record", "config": {"text": "plan {{ vars.plan }}"}},
        {"id": "tag", "type": "add_tag", "config": {"tag": "Engaged"}},
    ]
}


async def transactions_that_wrote(flow: Flow) -> int:
    """How many transactions inserted the org's executions (rows written together share xmin)."""
    async with flow.executor.svc.runtime.db.transaction() as session:
        result = await session.execute(
            text("SELECT count(DISTINCT xmin::text) FROM executions WHERE org_id = :org"), {"org": flow.org}
        )
        return int(result.scalar_one())


async def test_a_batch_creates_and_finishes_its_executions_in_one_transaction(
    flow: Flow, engine: Engine
) -> None:
    jobs = [flow.start_job(INTERNAL) for _ in range(20)]
    duplicate = flow.start_job(INTERNAL, execution_id=jobs[3].execution_id)

    outcomes = await engine.start_batch([*jobs, duplicate])

    assert [o.alone for o in outcomes] == [False] * 20 + [True]
    assert not any(o.more or o.call for o in outcomes)
    assert await transactions_that_wrote(flow) == 1
    for job in jobs:
        done = await flow.get(job.execution_id)
        assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED
        assert step_ids(done) == ["check", "remember", "tag"]
        assert await flow.kinds(job.execution_id) == ["started", *["step_completed"] * 3, "completed"]
    commands = await flow.outbox(".platform.commands.")
    assert len(commands) == 20 and len({msg_id for _, msg_id, _ in commands}) == 20
    started, steps, completed = await flow.lifecycle(jobs[0].execution_id)  # the steps in one message
    assert [e.kind for e in (started, steps, completed)] == [
        lifecycle_pb2.EXECUTION_EVENT_KIND_STARTED,
        lifecycle_pb2.EXECUTION_EVENT_KIND_STEP_COMPLETED,
        lifecycle_pb2.EXECUTION_EVENT_KIND_COMPLETED,
    ]
    assert [step.step_id for step in steps.steps] == ["check", "remember", "tag"]
    assert (steps.step_id, steps.step_type) == ("tag", "add_tag")
    assert steps.id == f"{steps.steps[0].id}+2" and len({step.id for step in steps.steps}) == 3

    await engine.continue_job(duplicate, outcomes[-1])  # the duplicate finds it done
    assert await flow.kinds(jobs[3].execution_id) == ["started", *["step_completed"] * 3, "completed"]
    assert len(await flow.outbox(".platform.commands.")) == 20


async def test_a_redelivered_start_of_a_batch_changes_nothing(flow: Flow, engine: Engine) -> None:
    job = flow.start_job(INTERNAL)
    [first] = await engine.start_batch([job])
    [again] = await engine.start_batch([job])

    assert not first.alone and again.alone
    await engine.continue_job(job, again)
    done = await flow.get(job.execution_id)
    assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED and len(done.steps) == 3
    assert await flow.kinds(job.execution_id) == ["started", *["step_completed"] * 3, "completed"]


async def test_an_external_action_is_committed_running_before_it_is_performed(
    flow: Flow, engine: Engine, provider: fakes.Provider
) -> None:
    job = flow.start_job(WITH_CALL)

    [outcome] = await engine.start_batch([job])

    assert outcome.call is not None and outcome.call.step_id == "hello"
    assert outcome.call.ctx["vars"]["plan"] == "gold"
    waiting = await flow.get(job.execution_id)
    assert waiting.status == executor_pb2.EXECUTION_STATUS_RUNNING
    assert [(s.step_id, s.status) for s in waiting.steps] == [
        ("remember", executor_pb2.STEP_STATUS_SUCCEEDED),
        ("hello", executor_pb2.STEP_STATUS_RUNNING),
    ]
    assert provider.calls_of(job.execution_id) == []

    await engine.continue_job(job, outcome)

    done = await flow.get(job.execution_id)
    assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED
    assert step_ids(done) == ["remember", "hello", "tag"]
    [call] = provider.calls_of(job.execution_id)
    assert call.config["text"] == "plan gold"
    assert call.idempotency_key == f"exec:{job.execution_id}:step:1:attempt:1"


async def test_a_delay_in_a_batch_leaves_one_timer_whose_wake_up_runs_on_in_one_transaction(
    flow: Flow, engine: Engine
) -> None:
    job = flow.start_job(
        {
            "actions": [
                {"id": "remember", "type": "set_variable", "config": {"name": "x", "value": 1}},
                {"id": "pause", "type": "wait", "config": {"value": 1, "unit": "hours"}},
                {"id": "tag", "type": "add_tag", "config": {"tag": "Engaged"}},
            ]
        }
    )
    [outcome] = await engine.start_batch([job])

    assert not (outcome.alone or outcome.more or outcome.call)
    waiting = await flow.get(job.execution_id)
    assert waiting.status == executor_pb2.EXECUTION_STATUS_WAITING
    [timer] = await flow.scheduled(job.execution_id)
    assert timer.step_id == "pause"
    await flow.advance(hours=1)
    await flow.settled(job.execution_id, "completed")
    async with flow.executor.svc.runtime.db.transaction() as session:
        woken = await session.execute(
            text(
                "SELECT count(DISTINCT xmin::text) FROM ("
                " SELECT xmin FROM executions WHERE id = :id"
                " UNION ALL SELECT xmin FROM execution_steps"
                " WHERE execution_id = :id AND step_id IN ('pause', 'tag')) AS rows"
            ),
            {"id": job.execution_id},
        )
        assert woken.scalar_one() == 1  # the wake-up and the steps after it: one transaction


async def waiting_tokens(flow: Flow) -> dict[str, str]:
    """Execution id → the token of the timer it waits for."""
    async with flow.executor.svc.runtime.db.transaction() as session:
        rows = await session.execute(
            text("SELECT execution_id, token FROM timers WHERE org_id = :org"), {"org": flow.org}
        )
        return {row.execution_id: row.token for row in rows}


def timer_job(flow: Flow, execution_id: str, token: str) -> jobs_pb2.Job:
    return jobs_pb2.Job(
        execution_id=execution_id, organization_id=flow.org, reason=jobs_pb2.JOB_REASON_TIMER, token=token
    )


async def test_a_batch_of_wake_ups_runs_their_executions_on_in_one_transaction(
    flow: Flow, engine: Engine, provider: fakes.Provider
) -> None:
    delayed = {
        "actions": [
            {"id": "pause", "type": "wait", "config": {"value": 1, "unit": "hours"}},
            {"id": "tag", "type": "add_tag", "config": {"tag": "Engaged"}},
        ]
    }
    starts = [flow.start_job(delayed) for _ in range(12)]
    await engine.start_batch(starts)
    tokens = await waiting_tokens(flow)
    assert len(tokens) == 12
    jobs = [timer_job(flow, execution_id, token) for execution_id, token in tokens.items()]
    stale = timer_job(flow, starts[0].execution_id, "not-the-token")
    foreign = jobs_pb2.Job(
        execution_id=starts[1].execution_id,
        organization_id="org_other",
        reason=jobs_pb2.JOB_REASON_TIMER,
        token=tokens[starts[1].execution_id],
    )

    outcomes = await engine.wake_batch([*jobs, jobs[0], stale, foreign])

    assert not any(o.call or o.more or o.alone for o in outcomes)
    async with flow.executor.svc.runtime.db.transaction() as session:
        woken = await session.execute(
            text("SELECT count(DISTINCT xmin::text) FROM executions WHERE org_id = :org"), {"org": flow.org}
        )
        assert woken.scalar_one() == 1  # one transaction woke and finished all twelve
    for start in starts:
        done = await flow.get(start.execution_id)
        assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED
        assert step_ids(done) == ["pause", "tag"]
    assert len(await flow.outbox(".platform.commands.")) == 12  # the repeated job added nothing
    assert await waiting_tokens(flow) == {}


async def test_a_wake_up_batch_commits_an_external_attempt_before_it_is_performed(
    flow: Flow, engine: Engine, provider: fakes.Provider
) -> None:
    start = flow.start_job(
        {
            "actions": [
                {"id": "pause", "type": "wait", "config": {"value": 1, "unit": "hours"}},
                {"id": "hello", "type": "test_record", "config": {"text": "hi"}},
            ]
        }
    )
    await engine.start_batch([start])
    [(execution_id, token)] = (await waiting_tokens(flow)).items()
    job = timer_job(flow, execution_id, token)

    [outcome] = await engine.wake_batch([job])

    assert outcome.call is not None and outcome.call.step_id == "hello"
    running = await flow.get(execution_id)
    assert [(s.step_id, s.status) for s in running.steps][-1] == ("hello", executor_pb2.STEP_STATUS_RUNNING)
    assert provider.calls_of(execution_id) == []
    await engine.continue_job(job, outcome)
    assert (await flow.get(execution_id)).status == executor_pb2.EXECUTION_STATUS_COMPLETED
    assert len(provider.calls_of(execution_id)) == 1
