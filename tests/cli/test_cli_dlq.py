"""``beez dlq list|show|redrive|purge`` through a real local-mode gateway in front of a real executor."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.cli.conftest import beez, executor_gateway
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.executor.engine.test_dead_letters import dead_start, listed
from tests.executor.samples import ADA


@pytest.fixture(scope="module")
async def dlq_executor(admin_url: str, nats_url: str) -> AsyncIterator[Executor]:
    async with start_executor(admin_url, nats_url) as executor:
        yield executor


@pytest.fixture(scope="module")
async def dlq_gateway(dlq_executor: Executor) -> AsyncIterator[str]:
    async with executor_gateway(dlq_executor.svc.server.port) as url:
        yield url


async def test_list_show_bulk_redrive_with_progress_and_purge(
    dlq_executor: Executor, dlq_gateway: str
) -> None:
    flow = Flow(dlq_executor, f"org_{uuid.uuid4().hex[:10]}")
    jobs = [await dead_start(flow) for _ in range(7)]
    await listed(flow, 7)
    env = {"BEEZ_API_URL": dlq_gateway, "BEEZ_ORG": flow.org}

    shown = await beez("dlq", "list", "--json", "--consumer", "executor-jobs-normal", env=env)
    assert shown.exit_code == 0, shown.output
    letters = json.loads(shown.stdout)["deadLetters"]
    assert len(letters) == 7 and {d["errorCategory"] for d in letters} == {"timeout"}

    later = await beez("dlq", "list", "--json", "--since", "2999-01-01T00:00:00", env=env)
    assert json.loads(later.stdout).get("deadLetters", []) == [], later.output
    window = await beez("dlq", "list", "--json", "--since", "2000-01-01", "--until", "2999-01-01", env=env)
    assert len(json.loads(window.stdout)["deadLetters"]) == 7, window.output

    one = await beez("dlq", "show", letters[0]["id"], env=env)
    assert one.exit_code == 0, one.output
    assert "executor-jobs-normal" in one.stdout and ADA["email"] not in one.stdout

    bulk = await beez("dlq", "redrive", "--all", "--batch", "3", env=env)
    assert bulk.exit_code == 0, bulk.output
    assert "7/7" in bulk.stdout and "re-driven 7 dead letters" in bulk.stdout
    for job in jobs:
        await flow.settled(job.execution_id, "completed")

    again = await beez("dlq", "redrive", letters[0]["id"], env=env)
    assert again.stdout.strip() == f"{letters[0]['id']}: already re-driven, nothing sent", again.output

    purged = await beez("dlq", "purge", "--state", "redriven", env=env)
    assert purged.stdout.strip() == "purged 7 dead letters", purged.output
    empty = await beez("dlq", "list", "--json", env=env)
    assert json.loads(empty.stdout).get("deadLetters", []) == []

    bad = await beez("dlq", "list", "--category", "nope", env=env)
    assert bad.exit_code == 1 and "error_category" in bad.stderr, bad.output


async def test_the_gateway_refuses_a_redrive_to_a_non_admin(dlq_executor: Executor, dlq_gateway: str) -> None:
    org = f"org_{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=dlq_gateway) as http:
        for roles, status in (("editor", 403), ("admin", 200)):
            resp = await http.post(
                "/api/automations/dead-letters:redrive", json={}, headers={"X-Org-Id": org, "X-Roles": roles}
            )
            assert resp.status_code == status, resp.text
        listed_ = await http.get(
            "/api/automations/dead-letters", headers={"X-Org-Id": org, "X-Roles": "viewer"}
        )
        assert listed_.status_code == 200
