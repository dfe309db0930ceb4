"""The engine's transactions run again after PostgreSQL aborts them for a deadlock.

A row trigger raises a real ``deadlock_detected`` (40P01) from the server on the first write of
one table for this test's organization only (a sequence counts the tries: sequences are not
rolled back, so the second attempt passes). Without the retry the batch raises and the job is
redelivered; with it, the work commits once, and an external call made between two transactions
is not made again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from beez.api.executor.v1 import executor_pb2
from beez.executor.engine import Engine
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Flow, step_ids
from tests.executor.engine.test_engine_batch import INTERNAL, WITH_CALL, transactions_that_wrote


class Aborts:
    """Installs, and removes, a trigger that aborts one statement once with a real deadlock."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.name = f"abort_{flow.org}".replace("-", "_")
        self.table = ""

    async def once(self, table: str, event: str, when: str) -> None:
        self.table = table
        async with self.flow.executor.svc.runtime.db.transaction() as session:
            await session.execute(text(f"CREATE SEQUENCE {self.name}_tries"))
            await session.execute(
                text(
                    f"CREATE FUNCTION {self.name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    f" IF NEW.org_id = '{self.flow.org}' AND ({when})"
                    f" AND nextval('{self.name}_tries') = 1 THEN"
                    " RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01'; END IF;"
                    " RETURN NEW; END $$"
                )
            )
            await session.execute(
                text(
                    f"CREATE TRIGGER {self.name} BEFORE {event} ON {table}"
                    f" FOR EACH ROW EXECUTE FUNCTION {self.name}()"
                )
            )

    async def tries(self) -> int:
        async with self.flow.executor.svc.runtime.db.transaction() as session:
            result = await session.execute(text(f"SELECT last_value FROM {self.name}_tries"))
            return int(result.scalar_one())

    async def remove(self) -> None:
        if not self.table:
            return
        async with self.flow.executor.svc.runtime.db.transaction() as session:
            await session.execute(text(f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}"))
            await session.execute(text(f"DROP FUNCTION IF EXISTS {self.name}()"))
            await session.execute(text(f"DROP SEQUENCE IF EXISTS {self.name}_tries"))


@pytest.fixture
async def aborts(flow: Flow) -> AsyncIterator[Aborts]:
    injected = Aborts(flow)
    yield injected
    await injected.remove()


async def test_a_start_batch_aborted_by_a_deadlock_commits_once_on_its_retry(
    flow: Flow, engine: Engine, aborts: Aborts
) -> None:
    await aborts.once("executions", "INSERT", "true")
    jobs = [flow.start_job(INTERNAL) for _ in range(5)]

    await engine.start_batch(jobs)

    assert await aborts.tries() >= 2  # the first attempt was aborted by the server
    assert await transactions_that_wrote(flow) == 1
    for job in jobs:
        done = await flow.get(job.execution_id)
        assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED
        assert step_ids(done) == ["check", "remember", "tag"]
        assert await flow.kinds(job.execution_id) == ["started", *["step_completed"] * 3, "completed"]
    assert len(await flow.outbox(".platform.commands.")) == 5


async def test_settling_an_external_call_retries_without_calling_the_provider_again(
    flow: Flow, engine: Engine, aborts: Aborts, provider: fakes.Provider
) -> None:
    await aborts.once("execution_steps", "UPDATE", "NEW.step_id = 'hello' AND NEW.status = 'succeeded'")
    job = flow.start_job(WITH_CALL)

    [outcome] = await engine.start_batch([job])
    await engine.continue_job(job, outcome)

    assert await aborts.tries() >= 2
    done = await flow.get(job.execution_id)
    assert done.status == executor_pb2.EXECUTION_STATUS_COMPLETED
    assert step_ids(done) == ["remember", "hello", "tag"]
    assert len(provider.calls_of(job.execution_id, "hello")) == 1
    assert await flow.kinds(job.execution_id) == ["started", *["step_completed"] * 3, "completed"]
