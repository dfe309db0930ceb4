"""What the inbox conversation steps do: their platform commands (``commands_conversations.proto``).

As in :mod:`beez.workflow.effects_tasks`, ``values`` are the command's fields in proto3 JSON form
and a created object (a reply, a note) gets an id derived from the step's attempt-independent
key, so the inbox posts a reply once however often the step runs (decision 0043).

The conversation is ``conversation_id`` from the config; else ``vars.conversation_id``; else
the triggering event's ``data.conversation_id`` (``message.received``,
``conversation.assigned`` and ``conversation.closed`` events carry it); with none the step fails
permanently (``no_conversation``). No step needs a contact: the conversation names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beez.workflow.effects import Effect, ScopedCompute, StepError, StepScope, text
from beez.workflow.effects_tasks import derived_id, reference

__all__ = [
    "CONVERSATION_EFFECTS",
    "add_conversation_note",
    "assign_conversation",
    "close_conversation",
    "reopen_conversation",
    "reply_to_conversation",
    "transfer_conversation",
]


def _conversation(config: Mapping[str, Any], scope: StepScope) -> str:
    return reference(config, "conversation_id", scope, "conversation")


def _command(verb: str, values: dict[str, Any]) -> Effect:
    shown = {name: value for name, value in values.items() if value != ""}
    return Effect(verb, values, {"command": verb, **shown}, needs_contact=False)


def reply_to_conversation(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``reply_to_conversation {conversation_id?, body, author_user_id?}``: a reply on the
    conversation's own channel, as the automation unless ``author_user_id`` names an agent."""
    values = {
        "conversation_id": _conversation(config, scope),
        "message_id": derived_id("msg", scope),
        "body": text(config, "body"),
        "author_user_id": text(config, "author_user_id", required=False),
    }
    return _command("reply_to_conversation", values)


def close_conversation(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``close_conversation {conversation_id?, reason?}``: resolves it."""
    values = {
        "conversation_id": _conversation(config, scope),
        "reason": text(config, "reason", required=False),
    }
    return _command("close_conversation", values)


def reopen_conversation(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``reopen_conversation {conversation_id?, reason?}``: opens a resolved one again."""
    values = {
        "conversation_id": _conversation(config, scope),
        "reason": text(config, "reason", required=False),
    }
    return _command("reopen_conversation", values)


def add_conversation_note(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``add_conversation_note {conversation_id?, body}``: an internal note the contact never sees."""
    values = {
        "conversation_id": _conversation(config, scope),
        "note_id": derived_id("note", scope),
        "body": text(config, "body"),
    }
    return _command("add_conversation_note", values)


def assign_conversation(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``assign_conversation {conversation_id?, agent_id?, team?}``: at least one of the two."""
    conversation_id = _conversation(config, scope)
    agent_id = text(config, "agent_id", required=False)
    team = text(config, "team", required=False)
    if not agent_id and not team:
        raise StepError("`agent_id` and `team` are both empty")
    return _command(
        "assign_conversation", {"conversation_id": conversation_id, "agent_id": agent_id, "team": team}
    )


def transfer_conversation(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``transfer_conversation {conversation_id?, inbox, note?}``: moves it to another inbox."""
    values = {
        "conversation_id": _conversation(config, scope),
        "inbox": text(config, "inbox"),
        "note": text(config, "note", required=False),
    }
    return _command("transfer_conversation", values)


CONVERSATION_EFFECTS: dict[str, ScopedCompute] = {
    "reply_to_conversation": reply_to_conversation,
    "close_conversation": close_conversation,
    "reopen_conversation": reopen_conversation,
    "add_conversation_note": add_conversation_note,
    "assign_conversation": assign_conversation,
    "transfer_conversation": transfer_conversation,
}
"""The conversation types, by type; each type's command verb is its own name."""
