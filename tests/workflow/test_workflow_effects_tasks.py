"""Task, calendar, activity and conversation effects: ids from the step, references, dates, and
the catalog entries that describe them (decision 0043)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import json_format

from beez.api.messages.v1 import commands_pb2
from beez.workflow import catalog
from beez.workflow.effects import StepError, StepScope, effect_of, scoped_effects, step_scope_key
from beez.workflow.effects_tasks import derived_id
from beez.workflow.model import workflow_from_json
from beez.workflow.schemas import schema_issues
from beez.workflow.validate import validate_workflow

NOW = datetime(2026, 3, 2, 9, 15, 30, 500_000, tzinfo=UTC)
KEY = "exec:ex_1:step:2"
ADA = {"id": "c_ada", "phone": "+2348012345678"}


def scope(**overrides: Any) -> StepScope:
    return StepScope(
        overrides.pop("key", KEY), NOW, overrides.pop("event", {"data": {}}), overrides.pop("vars", {})
    )


def values(
    type_: str, config: dict[str, Any], contact: dict[str, Any] = ADA, **kwargs: Any
) -> dict[str, Any]:
    effect = effect_of(type_, config, contact, scope(**kwargs))
    assert effect is not None and effect.command == type_
    return effect.values


COMPUTED_FROM = {"due_in", "start_in", "duration_minutes"}
"""Config fields that are not command fields: the command carries the absolute time they give
(and a follow-up sequence's ``assignee``, the default each of its items carries)."""


@pytest.mark.parametrize("type_", sorted(scoped_effects()))
def test_each_example_validates_and_forms_its_typed_command_from_the_fields_its_schema_names(
    type_: str,
) -> None:
    entry = catalog.action_type(type_)
    assert entry is not None and entry.description
    schema = entry.config_schema
    [example] = schema["examples"]
    assert schema_issues(schema, example, "config") == []
    effect = effect_of(
        type_, example, ADA, scope(vars={"task_id": "task_1"}, event={"data": {"conversation_id": "cv"}})
    )
    assert effect is not None
    body = getattr(commands_pb2.PlatformCommand(), type_)
    json_format.ParseDict(effect.values, body)  # the typed message takes every value
    sent = set(body.DESCRIPTOR.fields_by_name)
    computed = COMPUTED_FROM | ({"assignee"} if type_ == "create_follow_up_sequence" else set())
    assert set(schema["properties"]) - {"retry"} - computed <= sent, (
        "a config field the command does not carry"
    )


def test_ids_are_the_same_on_every_attempt_and_differ_by_step_and_execution() -> None:
    assert step_scope_key("exec:ex_1:step:2:attempt:3") == KEY
    first = values("create_task", {"title": "t"}, key=step_scope_key("exec:ex_1:step:2:attempt:1"))
    again = values("create_task", {"title": "t"}, key=step_scope_key("exec:ex_1:step:2:attempt:2"))
    other_step = values("create_task", {"title": "t"}, key="exec:ex_1:step:3")
    other_run = values("create_task", {"title": "t"}, key="exec:ex_2:step:2")
    assert first["task_id"] == again["task_id"] == derived_id("task", scope())
    assert len({first["task_id"], other_step["task_id"], other_run["task_id"]}) == 3
    items = values(
        "create_follow_up_sequence",
        {"name": "n", "items": [{"title": "a", "after": {"value": 1, "unit": "days"}}] * 2},
    )["items"]
    assert len({item["task_id"] for item in items} | {first["task_id"]}) == 3


def test_created_ids_go_to_vars_for_later_steps() -> None:
    cases: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "create_task": ({"title": "t"}, {"task_id": derived_id("task", scope())}),
        "create_calendar_event": (
            {"title": "t", "start_in": {"value": 1, "unit": "hours"}},
            {"calendar_event_id": derived_id("cal", scope())},
        ),
        "schedule_meeting": (
            {"title": "t", "start_in": {"value": 1, "unit": "hours"}},
            {"meeting_id": derived_id("mtg", scope())},
        ),
    }
    for type_, (config, expected) in cases.items():
        effect = effect_of(type_, config, ADA, scope())
        assert effect is not None and effect.vars == expected and effect.output["command"] == type_


@pytest.mark.parametrize(
    ("config", "vars", "data", "expected"),
    [
        ({"task_id": "t_config"}, {"task_id": "t_vars"}, {"task_id": "t_event"}, "t_config"),
        ({"task_id": "  "}, {"task_id": "t_vars"}, {"task_id": "t_event"}, "t_vars"),
        ({}, {}, {"task_id": "t_event"}, "t_event"),
    ],
)
def test_a_task_is_the_configs_else_the_last_created_else_the_events(
    config: dict[str, Any], vars: dict[str, Any], data: dict[str, Any], expected: str
) -> None:
    assert values("complete_task", config, vars=vars, event={"data": data})["task_id"] == expected


def test_a_conversation_is_the_configs_else_the_vars_else_the_events() -> None:
    assert (
        values("close_conversation", {}, event={"data": {"conversation_id": "cv_evt"}})["conversation_id"]
        == "cv_evt"
    )
    assert (
        values(
            "close_conversation",
            {},
            vars={"conversation_id": "cv_var"},
            event={"data": {"conversation_id": "cv_evt"}},
        )["conversation_id"]
        == "cv_var"
    )
    assert (
        values(
            "close_conversation", {"conversation_id": "cv_cfg"}, event={"data": {"conversation_id": "cv_evt"}}
        )["conversation_id"]
        == "cv_cfg"
    )


def test_dates_are_absolute_whole_seconds_in_utc() -> None:
    assert (
        values("set_task_due_date", {"task_id": "t", "due_in": {"value": 2, "unit": "days"}})["due_at"]
        == "2026-03-04T09:15:30Z"
    )
    assert (
        values("set_task_due_date", {"task_id": "t", "due_at": "2026-04-01"})["due_at"]
        == "2026-04-01T00:00:00Z"
    )
    assert (
        values("set_task_due_date", {"task_id": "t", "due_at": "2026-04-01T10:00:00+02:00"})["due_at"]
        == "2026-04-01T08:00:00Z"
    )
    span = values(
        "create_calendar_event", {"title": "t", "start_at": "2026-04-01T10:00:00Z", "duration_minutes": 90}
    )
    assert (span["start_at"], span["end_at"]) == ("2026-04-01T10:00:00Z", "2026-04-01T11:30:00Z")
    assert (
        values("schedule_meeting", {"title": "t", "start_in": {"value": 1, "unit": "months"}})["start_at"]
        == "2026-04-02T09:15:30Z"
    )


@pytest.mark.parametrize(
    ("type_", "config", "category", "words"),
    [
        ("assign_task", {"task_id": "t"}, "invalid_config", "`assignee` and `team` are both empty"),
        ("set_task_due_date", {"task_id": "t"}, "invalid_config", "`due_at` or `due_in` is required"),
        (
            "set_task_due_date",
            {"task_id": "t", "due_at": "next week"},
            "invalid_config",
            "is not an RFC 3339 time",
        ),
        (
            "set_task_due_date",
            {"task_id": "t", "due_in": {"value": 1, "unit": "fortnights"}},
            "invalid_config",
            "`due_in`",
        ),
        (
            "update_task_priority",
            {"task_id": "t", "priority": "asap"},
            "invalid_config",
            "must be one of low, normal, high, urgent",
        ),
        (
            "create_calendar_event",
            {"title": "t", "start_in": {"value": 1, "unit": "days"}, "duration_minutes": 0},
            "invalid_config",
            "between 1 and 1440",
        ),
        ("create_follow_up_sequence", {"name": "n", "items": []}, "invalid_config", "at least one"),
        (
            "create_follow_up_sequence",
            {"name": "n", "items": [{"title": "a"}]},
            "invalid_config",
            "items[0]: `after` is required",
        ),
        (
            "create_follow_up_sequence",
            {"name": "n", "items": [{"title": "a", "after": {"value": 1, "unit": "days"}, "kind": "call"}]},
            "invalid_config",
            "items[0]: `kind`",
        ),
        ("log_phone_call", {"duration_seconds": -1}, "invalid_config", "must not be negative"),
        ("add_task_comment", {}, "no_task", "no task"),
        (
            "assign_conversation",
            {"conversation_id": "cv"},
            "invalid_config",
            "`agent_id` and `team` are both empty",
        ),
        ("transfer_conversation", {"conversation_id": "cv"}, "invalid_config", "`inbox` is empty"),
        ("reply_to_conversation", {"body": "hi"}, "no_conversation", "no conversation"),
    ],
)
def test_a_config_that_cannot_work_is_a_step_error(
    type_: str, config: dict[str, Any], category: str, words: str
) -> None:
    with pytest.raises(StepError) as failure:
        effect_of(type_, config, ADA, scope())
    assert failure.value.category == category
    assert words in str(failure.value)


def test_meetings_and_call_logs_need_a_contact_while_tasks_and_conversations_do_not() -> None:
    needs = {
        type_
        for type_, compute in scoped_effects().items()
        if compute(
            catalog.action_schema(type_)["examples"][0],
            ADA,
            scope(vars={"task_id": "t"}, event={"data": {"conversation_id": "c"}}),
        ).needs_contact
    }
    assert needs == {"schedule_meeting", "log_phone_call", "log_meeting_notes", "create_follow_up_sequence"}


def test_without_a_scope_create_task_keeps_its_old_effect() -> None:
    effect = effect_of("create_task", {"title": "t"}, ADA)
    assert effect is not None and "task_id" not in effect.values
    assert effect_of("assign_task", {"assignee": "u"}, ADA) is None


def test_validation_names_each_bad_field_of_a_task_or_conversation_step_by_its_path() -> None:
    workflow = {
        "name": "bad",
        "trigger": {"type": "message_received"},
        "actions": [
            {"type": "assign_task", "config": {}},
            {"type": "set_task_due_date", "config": {"due_at": "soon"}},
            {
                "type": "set_task_due_date",
                "config": {"due_at": "2026-01-01", "due_in": {"value": 1, "unit": "days"}},
            },
            {"type": "update_task_priority", "config": {"priority": "asap"}},
            {"type": "create_follow_up_sequence", "config": {"name": "n", "items": [{"title": "a"}]}},
            {"type": "schedule_meeting", "config": {"title": "t"}},
            {"type": "transfer_conversation", "config": {"inbox": "", "team": "x"}},
            {"type": "log_phone_call", "config": {"direction": "sideways", "duration_seconds": 90000}},
            {"type": "set_task_due_date", "config": {"due_at": "{{ event.data.due }}"}},  # templates pass
        ],
    }
    issues = [(issue.field, issue.description) for issue in validate_workflow(workflow_from_json(workflow))]
    assert issues == [
        ("actions[0].config", "one of assignee, team is required"),
        ("actions[1].config.due_at", "must be a valid date-time"),
        ("actions[2].config", "give due_at or due_in, not both"),
        ("actions[3].config.priority", "must be one of low, normal, high, urgent"),
        ("actions[4].config.items[0].after", "is required"),
        ("actions[5].config", "start_at or start_in is required"),
        ("actions[6].config.inbox", "must not be empty"),
        ("actions[6].config.team", "unknown field"),
        ("actions[7].config.direction", "must be one of outbound, inbound"),
        ("actions[7].config.duration_seconds", "must be at most 86400"),
    ]
