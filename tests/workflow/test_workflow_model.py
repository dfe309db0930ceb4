"""Reading and writing the workflow JSON, and stable step ids."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.workflow.errors import Issue, WorkflowError
from beez.workflow.model import (
    assign_ids,
    conditions_from_json,
    plain,
    struct_to_dict,
    walk_actions,
    workflow_from_json,
    workflow_to_json,
)
from beez.workflow.validate import validate_workflow


def test_onboarding_example_parses(onboarding: Workflow) -> None:
    assert onboarding.trigger.type == "list_joined"
    assert onboarding.actions[3].branches[1].actions[2].type == "create_task"
    assert onboarding.settings.run_once is True
    assert onboarding.conditions[0].value.bool_value is True


def test_onboarding_example_round_trips_to_the_same_json(onboarding_json: dict[str, Any]) -> None:
    assert workflow_to_json(workflow_from_json(onboarding_json)) == onboarding_json


def test_round_trip_keeps_whole_numbers_as_ints(onboarding: Workflow) -> None:
    wait = workflow_to_json(onboarding)["actions"][1]["config"]
    assert wait == {"value": 1, "unit": "hours"}
    assert isinstance(wait["value"], int)


def test_json_text_is_accepted(onboarding_json: dict[str, Any]) -> None:
    assert workflow_from_json(json.dumps(onboarding_json)) == workflow_from_json(onboarding_json)


def test_snake_case_spelling_is_accepted() -> None:
    workflow = workflow_from_json(
        {
            "name": "x",
            "settings": {
                "run_once": True,
                "max_concurrent_per_contact": 2,
                "quiet_hours": {"start": "21:00"},
            },
        }
    )
    assert workflow.settings.run_once
    assert workflow.settings.max_concurrent_per_contact == 2
    assert workflow_to_json(workflow)["settings"] == {
        "runOnce": True,
        "maxConcurrentPerContact": 2,
        "quietHours": {"start": "21:00"},
    }


def test_output_leaves_out_defaults() -> None:
    assert workflow_to_json(Workflow(name="x")) == {"name": "x"}


def test_unknown_fields_are_reported_with_their_paths() -> None:
    with pytest.raises(WorkflowError) as caught:
        workflow_from_json(
            {
                "name": "x",
                "colour": "red",
                "actions": [
                    {"type": "add_tag", "config": {"tag": "a"}},
                    {
                        "type": "condition",
                        "branches": [{"name": "yes", "actions": [{"type": "stop", "wat": 1}]}],
                    },
                ],
                "settings": {"quietHours": {"begin": "21:00"}},
            }
        )
    assert caught.value.issues == [
        Issue("colour", "unknown field"),
        Issue("actions[1].branches[0].actions[0].wat", "unknown field"),
        Issue("settings.quietHours.begin", "unknown field"),
    ]


def test_wrongly_typed_values_are_reported_with_their_paths() -> None:
    with pytest.raises(WorkflowError) as caught:
        workflow_from_json(
            {
                "name": 5,
                "actions": [
                    {"type": "wait", "delay": {"value": 1.5, "unit": "hours"}},
                    {"type": "random_split", "branches": [{"name": "a", "weight": "heavy"}]},
                    {"type": "add_tag", "config": "tag"},
                ],
                "conditions": {"field": "contact.id"},
            }
        )
    assert [issue.field for issue in caught.value.issues] == [
        "name",
        "actions[0].delay.value",
        "actions[1].branches[0].weight",
        "actions[2].config",
        "conditions",
    ]


def test_invalid_json_text_is_an_error() -> None:
    with pytest.raises(WorkflowError, match="invalid JSON"):
        workflow_from_json("{not json")
    with pytest.raises(WorkflowError, match="must be a JSON object"):
        workflow_from_json("[1, 2]")


def test_conditions_in_a_config_are_read_with_paths() -> None:
    conditions, issues = conditions_from_json(
        [{"field": "contact.score", "operator": "equals", "value": 1}, {"fld": "x"}],
        "actions[0].config.conditions",
    )
    assert len(conditions) == 1
    assert issues == [Issue("actions[0].config.conditions[1].fld", "unknown field")]


def test_walk_visits_every_step_with_its_path(onboarding: Workflow) -> None:
    paths = [step.path for step in walk_actions(onboarding.actions)]
    assert paths == [
        "actions[0]",
        "actions[1]",
        "actions[2]",
        "actions[3]",
        "actions[3].branches[0].actions[0]",
        "actions[3].branches[0].actions[1]",
        "actions[3].branches[1].actions[0]",
        "actions[3].branches[1].actions[1]",
        "actions[3].branches[1].actions[2]",
    ]


def test_assign_ids_names_steps_by_place_and_type_and_keeps_given_ids(onboarding: Workflow) -> None:
    with_ids = assign_ids(onboarding)
    ids = [step.action.id for step in walk_actions(with_ids.actions)]
    assert ids == [
        "welcome",
        "s1_wait",
        "s2_send_whatsapp",
        "s3_wait_for_event",
        "s3_event_0_add_tag",
        "s3_event_1_assign_user",
        "s3_timeout_0_send_email",
        "s3_timeout_1_wait",
        "s3_timeout_2_create_task",
    ]
    assert onboarding.actions[1].id == ""  # the input is not modified
    assert assign_ids(onboarding) == with_ids  # deterministic
    assert validate_workflow(with_ids) == []


def test_assign_ids_avoids_ids_already_taken(build: Any) -> None:
    workflow = build(
        {"type": "add_tag", "config": {"tag": "a"}},
        {"id": "s0_add_tag", "type": "add_tag", "config": {"tag": "b"}},
    )
    ids = [action.id for action in assign_ids(workflow).actions]
    assert ids == ["s0_add_tag_2", "s0_add_tag"]


def test_assign_ids_nests_through_deep_branches(build: Any) -> None:
    workflow = build(
        {
            "type": "condition",
            "config": {"conditions": [{"field": "contact.score", "operator": "greater_than", "value": 1}]},
            "branches": [
                {
                    "name": "yes",
                    "actions": [
                        {"type": "add_tag", "config": {"tag": "a"}},
                        {
                            "type": "loop",
                            "config": {"times": 2},
                            "branches": [
                                {"name": "body", "actions": [{"type": "add_tag", "config": {"tag": "b"}}]}
                            ],
                        },
                    ],
                }
            ],
        }
    )
    ids = [step.action.id for step in walk_actions(assign_ids(workflow).actions)]
    assert ids == ["s0_condition", "s0_yes_0_add_tag", "s0_yes_1_loop", "s0_yes_1_body_0_add_tag"]


def test_a_struct_reads_as_the_plain_json_it_holds() -> None:
    data: dict[str, Any] = {
        "tag": "vip",
        "count": 3,
        "ratio": 0.25,
        "big": 2.0**60,
        "on": False,
        "none": None,
        "nested": {"list": [1, "two", {"three": 3.5}, [], None], "empty": {}},
    }
    struct = Struct()
    struct.update(data)
    converted = struct_to_dict(struct)
    assert converted == plain(json_format.MessageToDict(struct))
    assert converted == {**data, "big": 2.0**60}
    assert type(converted["count"]) is int and type(converted["big"]) is float
