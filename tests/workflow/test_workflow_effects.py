"""The effects of CRM, task, data and notification steps on the execution's contact and variables."""

from __future__ import annotations

from typing import Any

import pytest

from beez.workflow.effects import (
    EFFECTS,
    StepError,
    apply_contact_changes,
    effect_of,
    whole,
)

ADA: dict[str, Any] = {
    "id": "c_ada",
    "tags": ["lead"],
    "lists": ["New Customers"],
    "score": 42,
    "fields": {"plan": "pro"},
}


def after(type_: str, config: dict[str, Any], contact: dict[str, Any] | None = None) -> dict[str, Any]:
    contact = ADA if contact is None else contact
    effect = effect_of(type_, config, contact)
    assert effect is not None
    return apply_contact_changes(contact, effect.contact_changes)


def test_tags_are_added_once_and_removed() -> None:
    assert after("add_tag", {"tag": " vip "})["tags"] == ["lead", "vip"]
    assert after("add_tag", {"tag": "lead"})["tags"] == ["lead"]
    assert after("remove_tag", {"tag": "lead"})["tags"] == []
    effect = effect_of("add_tag", {"tag": "vip"}, ADA)
    assert effect is not None
    assert (effect.command, effect.values, effect.output) == (
        "add_tag",
        {"tag": "vip"},
        {"command": "add_tag", "tag": "vip"},
    )


def test_lists_are_joined_once_and_left() -> None:
    assert after("add_to_list", {"list": "Newsletter"})["lists"] == ["New Customers", "Newsletter"]
    assert after("remove_from_list", {"list": "New Customers"})["lists"] == []


def test_update_field_drops_only_the_fields_prefixes() -> None:
    assert after("update_field", {"field": "plan", "value": "enterprise"})["fields"] == {"plan": "enterprise"}
    assert after("update_field", {"field": "contact.fields.seats", "value": 5})["fields"] == {
        "plan": "pro",
        "seats": 5,
    }
    assert after("update_field", {"field": "fields.trial", "value": False})["fields"]["trial"] is False
    # contact.plan is a custom field called "contact.plan", as the executor has always stored it
    assert after("update_field", {"field": "contact.plan", "value": "gold"})["fields"] == {
        "plan": "pro",
        "contact.plan": "gold",
    }


def test_update_field_refuses_an_empty_name() -> None:
    with pytest.raises(StepError, match="`field` is empty") as err:
        effect_of("update_field", {"field": "fields.", "value": 1}, ADA)
    assert err.value.category == "invalid_config"


def test_update_score_by_delta_or_to_a_value_always_sends_a_delta() -> None:
    plus = effect_of("update_score", {"delta": 10}, ADA)
    to_value = effect_of("update_score", {"value": 100}, ADA)
    assert plus is not None and to_value is not None
    assert plus.values == {"delta": 10} and plus.output["score"] == 52
    assert to_value.values == {"delta": 58} and to_value.output["score"] == 100
    assert after("update_score", {"value": 100})["score"] == 100
    assert after("update_score", {"delta": "-2"}, {**ADA, "score": None})["score"] == -2


def test_update_score_refuses_what_is_not_a_whole_number_or_out_of_range() -> None:
    for config in ({"delta": 1.5}, {"delta": True}, {"value": "lots"}, {}):
        with pytest.raises(StepError, match="whole number"):
            effect_of("update_score", config, ADA)
    with pytest.raises(StepError, match="out of range"):
        effect_of("update_score", {"delta": 2**31}, ADA)
    assert whole(3.0, "x") == 3 and whole(" 7 ", "x") == 7


def test_assign_user_sets_what_is_given_and_needs_one() -> None:
    both = after("assign_user", {"user_id": "u_grace", "team": "Success"})
    assert (both["assigned_user"], both["assigned_team"]) == ("u_grace", "Success")
    team_only = apply_contact_changes(both, {"assigned_team": "Enterprise"})
    assert (team_only["assigned_user"], team_only["assigned_team"]) == ("u_grace", "Enterprise")
    with pytest.raises(StepError, match="both empty"):
        effect_of("assign_user", {"user_id": " "}, ADA)


def test_tasks_notifications_and_variables_change_no_contact() -> None:
    task = effect_of("create_task", {"title": "Call", "due_in_hours": 24.0}, ADA)
    note = effect_of("send_internal_notification", {"message": "hi", "channel": "#sales"}, ADA)
    var = effect_of("set_variable", {"name": "greeting", "value": "Hello"}, ADA)
    assert task is not None and note is not None and var is not None
    assert task.values == {"title": "Call", "description": "", "assignee": "", "due_in_hours": 24}
    assert task.output == {"command": "create_task", "title": "Call", "assignee": "", "due_in_hours": 24}
    assert note.command == "send_notification" and note.values["channel"] == "#sales"
    assert var.vars == {"greeting": "Hello"} and var.command == ""
    assert not (task.contact_changes or note.contact_changes or var.contact_changes)
    assert not (task.needs_contact or note.needs_contact or var.needs_contact)
    with pytest.raises(StepError, match="`title` is empty"):
        effect_of("create_task", {"title": "  "}, ADA)


def test_types_with_effects_elsewhere_have_none_here() -> None:
    assert effect_of("send_email", {}, ADA) is None
    assert effect_of("trigger_automation", {"automation_id": "a"}, ADA) is None
    assert "assign_user" in EFFECTS


def test_applying_changes_leaves_the_original_untouched() -> None:
    contact = {"tags": ["a"], "fields": {"x": 1.0}}
    changed = apply_contact_changes(contact, {"add_tags": ["b"], "fields": {"y": 2.0}, "score": 5})
    assert contact == {"tags": ["a"], "fields": {"x": 1.0}}
    assert changed == {"tags": ["a", "b"], "lists": [], "fields": {"x": 1.0, "y": 2}, "score": 5}


def test_contact_changes_apply_to_the_snapshot() -> None:
    contact = {"tags": ["lead", "old"], "lists": [], "score": 40, "fields": {"plan": "free", "city": "Lagos"}}
    changed = apply_contact_changes(
        contact,
        {
            "add_tags": ["vip", "lead"],
            "remove_tags": ["old"],
            "add_lists": ["Customers"],
            "fields": {"plan": "pro"},
            "score_delta": 5,
            "assigned_team": "Success Team",
        },
    )
    assert changed == {
        "tags": ["lead", "vip"],
        "lists": ["Customers"],
        "score": 45,
        "fields": {"plan": "pro", "city": "Lagos"},
        "assigned_team": "Success Team",
    }
    assert contact["tags"] == ["lead", "old"]  # the input is left alone
