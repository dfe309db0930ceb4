"""The 16 condition triggers fire through the running trigger service when their condition becomes
true for a contact, once while it stays true, never for a contact it does not hold for; they
re-arm when it turns false, subject to the automation's re-entry settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind
from beez.trigger.conditions import ConditionSweep
from tests.trigger.conftest import START
from tests.trigger.support import Harness, workflow
from tests.trigger.test_trigger_projection import contact_event, import_contacts

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)

Events = Callable[[str], list[Event]]


def updated(**snapshot: Any) -> Events:
    return lambda contact: [contact_event("contact.updated", contact, snapshot=snapshot)]


def times(type_: str, count: int, **data: Any) -> Events:
    return lambda contact: [
        contact_event(type_, contact, at=START + timedelta(minutes=i), data=data) for i in range(count)
    ]


def purchases(*amounts: float) -> Events:
    return lambda contact: [
        contact_event("purchase.made", contact, at=START - timedelta(days=i), data={"amount": amount})
        for i, amount in enumerate(amounts)
    ]


@dataclass(frozen=True)
class Case:
    type: str
    config: dict[str, Any]
    fires: Events
    quiet: Events
    imports: list[dict[str, Any]] = field(default_factory=list)


CASES = [
    Case(
        "field_value_match",
        {"field": "plan", "operator": "equals", "value": "Pro"},
        updated(fields={"plan": "pro"}),
        updated(fields={"plan": "free"}),
    ),
    Case(
        "score_threshold",
        {"operator": "greater_than", "value": 80},
        updated(score=90),
        updated(score=50),
    ),
    Case("list_membership", {"lists": ["vip"]}, updated(lists=["vip", "news"]), updated(lists=["news"])),
    Case(
        "tag_combination",
        {"tags": ["a", "b"], "match": "all"},
        updated(tags=["a", "b", "c"]),
        updated(tags=["a"]),
    ),
    Case(
        "engagement_level",
        {"level": "high", "high_at": 3, "medium_at": 2},
        times("email.opened", 3),
        times("email.opened", 1),
    ),
    Case(
        "behavior_pattern",
        {"event": "page.visited", "page": "/pricing", "min_count": 3, "window_days": 7},
        times("page.visited", 3, page="/pricing"),
        times("page.visited", 3, page="/blog"),
    ),
    Case(
        "rfm_segment",
        {"frequency": {"min": 2}, "monetary": {"min": 100}},
        purchases(60, 60),
        purchases(500),
    ),
    Case(
        "geolocation",
        {"countries": ["NG"]},
        updated(phone="+2348012345678"),
        updated(phone="+447911123456"),
    ),
    Case(
        "device_type",
        {"devices": ["mobile"]},
        times("page.visited", 1, user_agent=IPHONE),
        times("page.visited", 1, user_agent=WINDOWS),
    ),
    Case(
        "channel_preference",
        {"channel": "whatsapp"},
        times("whatsapp.received", 2, text="hello"),
        times("email.opened", 2),
    ),
    Case(
        "custom_field_logic",
        {
            "conditions": [
                {"field": "contact.fields.plan", "operator": "equals", "value": "pro"},
                {"field": "contact.fields.seats", "operator": "greater_than", "value": 10},
            ]
        },
        updated(fields={"plan": "pro", "seats": 20}),
        updated(fields={"plan": "pro", "seats": 5}),
    ),
    Case(
        "date_range",
        {"field": "renewal_date", "within_next_days": 30},
        updated(fields={"renewal_date": (START + timedelta(days=10)).date().isoformat()}),
        updated(fields={"renewal_date": (START + timedelta(days=60)).date().isoformat()}),
    ),
    Case(
        "null_check",
        {"field": "phone", "check": "empty"},
        updated(email="a@example.com"),
        updated(email="b@example.com", phone="+15551234567"),
    ),
    Case(
        "regex_match",
        {"field": "email", "pattern": r"@example\.com$"},
        updated(email="ada@example.com"),
        updated(email="ada@example.org"),
    ),
    Case(
        "mathematical",
        {"field": "score", "compare": "above_average"},
        updated(score=50),
        updated(score=15),
        imports=[{"id": f"m_{score}", "score": score} for score in (10, 20, 30)],
    ),
    Case(
        "sentiment",
        {"sentiment": "negative"},
        times("message.received", 1, text="This is terrible, I hate it and I am angry."),
        times("message.received", 1, text="Thanks so much, great service!"),
    ),
]


async def started(trigger: Harness, name: str) -> list[str]:
    """The contacts the automation ``name`` was started for, in order."""
    return [
        job.start.contact_id for job in await trigger.starts() if job.start.automation_id == trigger.id(name)
    ]


async def publish_all(trigger: Harness, events: list[Event]) -> None:
    for event in events:
        await trigger.publish(event)


@pytest.mark.parametrize("case", CASES, ids=[case.type for case in CASES])
async def test_a_condition_trigger_fires_once_when_its_condition_becomes_true(
    trigger: Harness, case: Case
) -> None:
    if case.imports:
        await import_contacts(trigger, case.imports)
    await trigger.automation("cond", workflow({"type": case.type, "config": case.config}))

    await publish_all(trigger, case.quiet("c_no"))
    assert await started(trigger, "cond") == []
    await publish_all(trigger, case.fires("c_yes"))
    assert await started(trigger, "cond") == ["c_yes"]
    [job] = [j for j in await trigger.starts() if j.start.automation_id == trigger.id("cond")]
    assert job.start.event.contact.id == "c_yes"

    # still true (counted again, or the same values): nothing more
    await publish_all(trigger, case.fires("c_yes"))
    await publish_all(trigger, [contact_event("email.opened", "c_yes", at=START + timedelta(hours=1))])
    assert await started(trigger, "cond") == ["c_yes"]


async def test_a_condition_trigger_fires_only_for_its_own_organization(trigger: Harness) -> None:
    await trigger.automation(
        "cond", workflow({"type": "score_threshold", "config": {"operator": "greater_than", "value": 80}})
    )
    await trigger.publish(
        contact_event("contact.updated", "c_1", snapshot={"score": 95}), org=trigger.other_org
    )
    assert await started(trigger, "cond") == []
    assert await trigger.starts(trigger.other_org) == []


async def test_a_redelivered_change_fires_once(trigger: Harness) -> None:
    await trigger.automation(
        "cond", workflow({"type": "score_threshold", "config": {"operator": "greater_than", "value": 80}})
    )
    change = contact_event("contact.updated", "c_1", id="evt-score", snapshot={"score": 95})
    await trigger.publish(change)
    await trigger.publish(change)
    await trigger.publish_nats(change, msg_id="redelivered-evt-score", type_="contact.updated")
    assert await started(trigger, "cond") == ["c_1"]
    [row] = await trigger.sql(
        "SELECT count(*) AS n FROM trigger.enrollments WHERE automation_id = :a", a=trigger.id("cond")
    )
    assert row.n == 1


def score(value: int, minutes: int) -> Event:
    return contact_event(
        "contact.updated", "c_1", at=START + timedelta(minutes=minutes), snapshot={"score": value}
    )


async def flap(trigger: Harness, start_minute: int) -> None:
    """False then true again."""
    await trigger.publish(score(10, start_minute))
    await trigger.publish(score(99, start_minute + 1))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"reentry": "always", "maxConcurrentPerContact": 5}, 3),
        ({"reentry": "never"}, 1),
        ({"runOnce": True}, 1),
    ],
    ids=["always", "never", "run_once"],
)
async def test_a_flapping_condition_refires_as_the_reentry_setting_allows(
    trigger: Harness, settings: dict[str, Any], expected: int
) -> None:
    wf = workflow(
        {"type": "score_threshold", "config": {"operator": "greater_than", "value": 80}}, settings=settings
    )
    await trigger.automation("cond", wf)
    await trigger.publish(score(99, 0))
    await trigger.publish(score(98, 1))  # stays true
    await flap(trigger, 2)
    await flap(trigger, 4)
    assert len(await started(trigger, "cond")) == expected


async def test_after_exit_refires_on_a_new_edge_only_once_the_execution_ended(trigger: Harness) -> None:
    wf = workflow(
        {"type": "score_threshold", "config": {"operator": "greater_than", "value": 80}},
        settings={"reentry": "after_exit"},
    )
    await trigger.automation("cond", wf)
    await trigger.publish(score(99, 0))
    [first] = [j for j in await trigger.starts() if j.start.automation_id == trigger.id("cond")]
    await flap(trigger, 1)  # still running: refused
    assert len(await started(trigger, "cond")) == 1
    await trigger.execution_event(first.execution_id, ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED)
    await flap(trigger, 3)
    assert len(await started(trigger, "cond")) == 2


async def test_only_automations_naming_a_changed_field_are_evaluated(trigger: Harness) -> None:
    """An automation on ``plan`` is not evaluated when only the score changes (its state row is
    never written), and fires when plan changes."""
    await trigger.automation(
        "plan", workflow({"type": "null_check", "config": {"field": "plan", "check": "empty"}})
    )
    await trigger.publish(
        contact_event("contact.updated", "c_1", snapshot={"score": 5, "fields": {"plan": "pro"}})
    )
    await trigger.publish(
        contact_event(
            "contact.updated",
            "c_1",
            at=START + timedelta(minutes=1),
            snapshot={"score": 6, "fields": {"plan": "pro"}},
        )
    )
    rows = await trigger.sql(
        "SELECT changed_at FROM trigger.condition_states WHERE automation_id = :a", a=trigger.id("plan")
    )
    assert rows == []
    await trigger.publish(
        contact_event("contact.updated", "c_1", at=START + timedelta(minutes=2), snapshot={"score": 6})
    )
    assert await started(trigger, "plan") == ["c_1"]


async def test_the_sweep_fires_a_date_range_as_its_date_comes_into_range(trigger: Harness) -> None:
    await trigger.automation(
        "renewal",
        workflow({"type": "date_range", "config": {"field": "renewal_date", "within_next_days": 30}}),
    )
    renewal = (START + timedelta(days=40)).date().isoformat()
    await trigger.publish(
        contact_event("contact.updated", "c_1", snapshot={"fields": {"renewal_date": renewal}})
    )
    assert await started(trigger, "renewal") == []

    runtime = trigger.svc.runtime
    sweep = ConditionSweep(runtime.db, trigger.clock, runtime.topology, _projector(trigger))
    await sweep.sweep()
    assert await started(trigger, "renewal") == []
    trigger.clock.advance(timedelta(days=15))
    try:
        await sweep.sweep()
        await sweep.sweep()  # again: no second start
        assert await started(trigger, "renewal") == ["c_1"]
        trigger.clock.advance(timedelta(days=30))  # the date has passed: re-armed
        await sweep.sweep()
        [state] = await trigger.sql(
            "SELECT matched FROM trigger.condition_states WHERE automation_id = :a", a=trigger.id("renewal")
        )
        assert state.matched is False
    finally:
        trigger.clock.advance(START - trigger.clock.now())


def _projector(trigger: Harness) -> Any:
    from beez.trigger.projection import Projector

    return Projector(_triggers(), retention_days=90, cache_size=64)


def _triggers() -> Any:
    from beez.trigger.domain.index import CompiledTriggers

    return CompiledTriggers(64)


async def test_the_sweep_rearms_a_rolling_window_condition_when_its_window_empties(trigger: Harness) -> None:
    """ "Opened 3 emails in 7 days" turns false as the window slides past the opens, with no event
    of the contact's: the sweep pages the matched states (one contact a page here), flips them,
    and the next 3 opens start the contact again (decision 0037)."""
    await trigger.automation(
        "opens",
        workflow(
            {
                "type": "behavior_pattern",
                "config": {"event": "email.opened", "min_count": 3, "window_days": 7},
            },
            settings={"reentry": "always", "maxConcurrentPerContact": 5},
        ),
    )
    for contact, count in (("c_1", 3), ("c_2", 4), ("c_3", 1)):
        for event in times("email.opened", count)(contact):
            await trigger.publish(event)
    assert sorted(await started(trigger, "opens")) == ["c_1", "c_2"]

    async def matched() -> list[str]:
        rows = await trigger.sql(
            "SELECT contact_id FROM trigger.condition_states WHERE automation_id = :a AND matched "
            "ORDER BY contact_id",
            a=trigger.id("opens"),
        )
        return [row.contact_id for row in rows]

    runtime = trigger.svc.runtime
    sweep = ConditionSweep(runtime.db, trigger.clock, runtime.topology, _projector(trigger), batch=1)
    try:
        trigger.clock.advance(timedelta(days=6))  # the opens are still inside the window
        for _ in range(3):
            await sweep.sweep()
        assert await matched() == ["c_1", "c_2"]
        trigger.clock.advance(timedelta(days=2))  # now they are not
        await sweep.sweep()
        assert await matched() == ["c_2"]  # a page (one contact) a round
        await sweep.sweep()
        assert await matched() == []
        at = trigger.clock.now()
        for i in range(3):
            await trigger.publish(contact_event("email.opened", "c_1", at=at + timedelta(minutes=i)))
        assert sorted(await started(trigger, "opens")) == ["c_1", "c_1", "c_2"]
    finally:
        trigger.clock.advance(START - trigger.clock.now())
