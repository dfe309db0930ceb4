"""Every change goes out once, through the outbox, as an AutomationChanged with a growing revision."""

from __future__ import annotations

from typing import Any, cast

from nats.js import JetStreamContext
from sqlalchemy import select

from beez.api.automation.v1 import automation_pb2 as pb
from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged, ChangeKind
from beez.automation.models import outbox
from beez.automation.service import AutomationService
from beez.kit.bus.topology import Topology
from beez.workflow.digest import workflow_digest
from tests.automation.conftest import AutomationEnv
from tests.automation.support import Api, changes_on_bus, onboarding, sample_event


async def test_each_change_publishes_exactly_one_automation_changed_with_growing_revisions(
    api: Api, env: AutomationEnv, js: JetStreamContext
) -> None:
    automations = api.automations
    created = (
        await automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=onboarding(), active=False), metadata=api.md
        )
    ).automation
    aid = created.id
    await automations.UpdateAutomation(
        pb.UpdateAutomationRequest(id=aid, automation=onboarding(name="v2")), metadata=api.md
    )
    await automations.ToggleAutomation(pb.ToggleAutomationRequest(id=aid, active=True), metadata=api.md)
    # Reads, a no-op toggle and a dry run change nothing, so they publish nothing.
    await automations.ToggleAutomation(pb.ToggleAutomationRequest(id=aid, active=True), metadata=api.md)
    await automations.GetAutomation(pb.GetAutomationRequest(id=aid), metadata=api.md)
    await automations.TestAutomation(pb.TestAutomationRequest(id=aid, event=sample_event()), metadata=api.md)
    clone = (await automations.CloneAutomation(pb.CloneAutomationRequest(id=aid), metadata=api.md)).automation
    await automations.DeleteAutomation(pb.DeleteAutomationRequest(id=aid), metadata=api.md)

    changes = await changes_on_bus(js, Topology(env.prefix), api.org, 5)

    summary = [
        (c.automation_id, c.kind, c.revision, c.version, c.active, c.workflow.name, h["Nats-Msg-Id"])
        for c, h in changes
    ]
    upserted, deleted = ChangeKind.CHANGE_KIND_UPSERTED, ChangeKind.CHANGE_KIND_DELETED
    assert summary == [
        (aid, upserted, 1, 1, False, "New contact onboarding", f"automation:{aid}:rev:1"),
        (aid, upserted, 2, 2, False, "v2", f"automation:{aid}:rev:2"),
        (aid, upserted, 3, 2, True, "v2", f"automation:{aid}:rev:3"),
        (clone.id, upserted, 1, 1, False, "v2 (copy)", f"automation:{clone.id}:rev:1"),
        (aid, deleted, 4, 2, False, "", f"automation:{aid}:rev:4"),
    ]
    for change, headers in changes:
        assert change.organization_id == api.org
        assert headers["Beez-Org-Id"] == api.org
        assert change.occurred_at.seconds > 0
    first, *_ = changes
    assert first[0].workflow == created.workflow  # the version's workflow, step ids included
    assert [a.id for a in first[0].workflow.actions][:2] == ["welcome", "s1_wait"]


async def test_every_announcement_carries_its_workflows_digest_the_same_for_every_change_of_a_version(
    api: Api, env: AutomationEnv, js: JetStreamContext
) -> None:
    """Create announces the workflow in hand, a toggle the one read back from the database: the
    executor compares STARTs against these digests, so both must give the same one."""
    automations = api.automations
    created = (
        await automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=onboarding(), active=False), metadata=api.md
        )
    ).automation
    await automations.ToggleAutomation(
        pb.ToggleAutomationRequest(id=created.id, active=True), metadata=api.md
    )
    await automations.DeleteAutomation(pb.DeleteAutomationRequest(id=created.id), metadata=api.md)

    (create, _), (toggle, _), (delete, _) = await changes_on_bus(js, Topology(env.prefix), api.org, 3)

    assert create.workflow_digest == workflow_digest(create.workflow) == workflow_digest(created.workflow)
    assert toggle.workflow_digest == create.workflow_digest
    assert (delete.kind, delete.workflow_digest) == (ChangeKind.CHANGE_KIND_DELETED, "")


async def test_announcing_again_repeats_each_live_automations_current_version_under_its_message_id(
    api: Api, env: AutomationEnv
) -> None:
    """What ``reannounce_on_start`` runs: consumers that keep their own copy (the executor's START
    check) learn automations announced before the stream's retention; a repeat changes nothing."""
    automations = api.automations
    live = (
        await automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=onboarding()), metadata=api.md
        )
    ).automation
    gone = (
        await automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=onboarding()), metadata=api.md
        )
    ).automation
    await automations.DeleteAutomation(pb.DeleteAutomationRequest(id=gone.id), metadata=api.md)
    runtime = env.svc.runtime
    service = AutomationService(runtime.db, runtime.topology, runtime.clock, cast(Any, None))

    assert await service.reannounce(page=1) >= 1  # every organization's, a page at a time

    async with runtime.db.transaction() as session:
        rows = (
            await session.execute(
                select(outbox.c.msg_id, outbox.c.payload)
                .where(outbox.c.org_id == api.org)
                .order_by(outbox.c.id)
            )
        ).all()
    again = AutomationChanged.FromString(rows[-1].payload)
    assert [row.msg_id for row in rows] == [
        f"automation:{live.id}:rev:1",
        f"automation:{gone.id}:rev:1",
        f"automation:{gone.id}:rev:2",
        f"automation:{live.id}:rev:1",
    ]
    assert (again.automation_id, again.version, again.revision) == (live.id, 1, 1)
    assert again.workflow_digest == workflow_digest(live.workflow)
