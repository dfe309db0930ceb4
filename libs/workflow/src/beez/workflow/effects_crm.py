"""What the CRM's verbs beyond tags, lists, fields and score do (decision 0042), as :class:`Effect`.

Like :mod:`beez.workflow.effects`, each function reads a step's rendered ``config`` and the
execution's contact snapshot and returns the platform command (verb and fields of its message in
``commands_crm.proto``), the step log's ``output``, and the change to the snapshot. The executor
turns the effect into a ``PlatformCommand``; the dry run applies the same changes; so both see
the same contact afterwards.

Two verbs answer (request-reply, :data:`REPLY_VARS`): ``create_contact`` and
``export_contact_data``. Their effect here carries placeholder variables (``dry-run:...``), which
the executor replaces with the owner's reply.

``calculate_lead_score`` reads the whole context (its rules are conditions): it is
:mod:`beez.workflow.lead_score`.

Snapshot changes used here besides those of :mod:`.effects`: ``fields`` (lifecycle stage,
copies, appends, subscriptions, do_not_contact), ``consent`` (merged per channel), ``score``,
``deleted``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from google.protobuf import json_format, struct_pb2

from beez.workflow.catalog.actions_crm import (
    CHANNELS,
    CUSTOM_FIELD_TYPES,
    EXPORT_FORMATS,
    LIFECYCLE_STAGES,
)
from beez.workflow.effects import Effect, StepError, text
from beez.workflow.model import plain

__all__ = [
    "CRM_EFFECTS",
    "REPLY_VARS",
    "crm_types",
]

REPLY_VARS: dict[str, dict[str, str]] = {
    "create_contact": {"contact_id": "contact_id"},
    "export_contact_data": {"export_id": "export_id", "export_url": "download_url"},
}
"""The verbs sent by request-reply: each variable they set and the reply field it takes."""

_SUBSCRIPTIONS = "subscriptions"
_DO_NOT_CONTACT = "do_not_contact"


def _custom_name(config: Mapping[str, Any], key: str) -> str:
    """A custom field's name from ``config[key]``, without a leading ``contact.fields.``/``fields.``."""
    name = text(config, key)
    for prefix in ("contact.fields.", "fields."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if not name:
        raise StepError(f"`{key}` is empty")
    return name


def _json_value(value: Any, key: str) -> Any:
    try:
        json_format.ParseDict(cast(Any, value), struct_pb2.Value())
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise StepError(f"`{key}` is not a JSON value: {exc}") from exc
    return plain(value) if isinstance(value, Mapping | list) else value


def _texts(config: Mapping[str, Any], key: str) -> list[str]:
    raw = config.get(key) or []
    if not isinstance(raw, list):
        raise StepError(f"`{key}` must be a list")
    return [str(item).strip() for item in raw if str(item).strip()]


def create_contact(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``create_contact {email?, phone?, first_name?, last_name?, fields?, tags?, lists?}``.

    Needs no contact; the CRM answers with the contact's id (``vars.contact_id``).

    Raises:
        StepError: neither an email nor a phone rendered.
    """
    values: dict[str, Any] = {
        key: text(config, key, required=False) for key in ("email", "phone", "first_name", "last_name")
    }
    if not values["email"] and not values["phone"]:
        raise StepError("`email` and `phone` are both empty")
    fields = config.get("fields") or {}
    if not isinstance(fields, Mapping):
        raise StepError("`fields` must be an object")
    if fields:
        values["fields"] = _json_value(dict(fields), "fields")
    values["tags"] = _texts(config, "tags")
    values["lists"] = _texts(config, "lists")
    shown = {k: v for k, v in values.items() if v not in ("", [], {})}
    placeholder = {name: f"dry-run:{name}" for name in REPLY_VARS["create_contact"]}
    return Effect(
        "create_contact",
        values,
        {"command": "create_contact", **shown},
        vars=placeholder,
        needs_contact=False,
    )


def delete_contact(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``delete_contact {reason?}``: the snapshot is marked ``deleted``."""
    reason = text(config, "reason", required=False)
    return Effect(
        "delete_contact",
        {"reason": reason},
        {"command": "delete_contact", "reason": reason},
        {"deleted": True},
    )


def merge_contacts(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``merge_contacts {duplicate_contact_id}``: the duplicate merges into the execution's contact.

    Raises:
        StepError: the duplicate is the contact itself.
    """
    duplicate = text(config, "duplicate_contact_id")
    if duplicate == str(contact.get("id") or ""):
        raise StepError("`duplicate_contact_id` is the contact itself")
    values = {"duplicate_contact_id": duplicate}
    return Effect("merge_contacts", values, {"command": "merge_contacts", **values})


def update_lifecycle_stage(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``update_lifecycle_stage {stage}``: ``contact.fields.lifecycle_stage``.

    Raises:
        StepError: a stage outside :data:`LIFECYCLE_STAGES`.
    """
    stage = text(config, "stage").lower()
    if stage not in LIFECYCLE_STAGES:
        raise StepError(f"`stage` {stage!r} is not one of {', '.join(LIFECYCLE_STAGES)}")
    return Effect(
        "update_lifecycle_stage",
        {"stage": stage},
        {"command": "update_lifecycle_stage", "stage": stage},
        {"fields": {"lifecycle_stage": stage}},
    )


def _coerce(value: Any, type_: str) -> Any:
    """``value`` as a custom field of ``type_`` (text from a template included)."""
    if value is None:
        return None
    if type_ == "text":
        return value if isinstance(value, str) else json.dumps(value)
    if type_ == "number":
        if isinstance(value, bool):
            raise StepError("`value` is not a number")
        if isinstance(value, int | float):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise StepError(f"`value` {value!r} is not a number") from None
        return int(number) if number.is_integer() else number
    if type_ == "boolean":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise StepError(f"`value` {value!r} is not a boolean")
    try:
        return datetime.fromisoformat(str(value).strip()).date().isoformat()
    except ValueError:
        raise StepError(f"`value` {value!r} is not an ISO date") from None


def update_custom_field(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``update_custom_field {field, value, type}``: a custom field set to ``value`` coerced to
    ``type`` (text, number, boolean, date), so ``"42"`` rendered from a template is stored as 42.

    Raises:
        StepError: an unknown type, or a value that is not of it.
    """
    name = _custom_name(config, "field")
    type_ = text(config, "type", required=False) or "text"
    if type_ not in CUSTOM_FIELD_TYPES:
        raise StepError(f"`type` {type_!r} is not one of {', '.join(CUSTOM_FIELD_TYPES)}")
    value = _coerce(config.get("value"), type_)
    values = {"field": name, "value": value, "type": CUSTOM_FIELD_TYPES[type_]}
    output = {"command": "update_custom_field", "field": name, "value": value, "type": type_}
    return Effect("update_custom_field", values, output, {"fields": {name: value}})


def _read_field(contact: Mapping[str, Any], name: str) -> Any:
    """A contact field by the name conditions use: standard, ``consent.<channel>`` or custom."""
    path = name.removeprefix("contact.")
    if path.startswith("fields."):
        return (contact.get("fields") or {}).get(path[len("fields.") :])
    if path.startswith("consent."):
        return (contact.get("consent") or {}).get(path[len("consent.") :])
    if path in contact and path != "fields":
        return contact[path]
    return (contact.get("fields") or {}).get(path)


def copy_field(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``copy_field {from, to}``: the snapshot's value of ``from`` (any field) set on custom ``to``.

    The command carries the value copied, so the owner and the trigger's projection store what
    the workflow saw; a missing source copies null.
    """
    source = text(config, "from")
    target = _custom_name(config, "to")
    value = _json_value(_read_field(contact, source), "from")
    values = {"from_field": source, "to_field": target, "value": value}
    return Effect("copy_field", values, {"command": "copy_field", **values}, {"fields": {target: value}})


def append_to_field(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``append_to_field {field, value, separator?}``: ``value`` added at the end of a custom text
    field (notes), after ``separator`` (default a newline) when the field is not empty."""
    name = _custom_name(config, "field")
    addition = text(config, "value")
    separator = config.get("separator")
    separator = "\n" if separator is None else str(separator)
    current = (contact.get("fields") or {}).get(name)
    current_text = "" if current is None else current if isinstance(current, str) else str(current)
    result = f"{current_text}{separator}{addition}" if current_text else addition
    values = {"field": name, "text": addition, "separator": separator}
    return Effect(
        "append_to_field", values, {"command": "append_to_field", **values}, {"fields": {name: result}}
    )


def subscribe_newsletter(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``subscribe_newsletter {newsletter}``: added once to ``contact.fields.subscriptions``."""
    newsletter = text(config, "newsletter")
    current = (contact.get("fields") or {}).get(_SUBSCRIPTIONS)
    subscriptions = [str(s) for s in current] if isinstance(current, list) else []
    if newsletter not in subscriptions:
        subscriptions.append(newsletter)
    return Effect(
        "subscribe_newsletter",
        {"newsletter": newsletter},
        {"command": "subscribe_newsletter", "newsletter": newsletter},
        {"fields": {_SUBSCRIPTIONS: subscriptions}},
    )


def _channels(config: Mapping[str, Any]) -> list[str]:
    chosen = _texts(config, "channels") or list(CHANNELS)
    unknown = [c for c in chosen if c not in CHANNELS]
    if unknown:
        raise StepError(f"`channels` {unknown} are not among {', '.join(CHANNELS)}")
    return [c for c in CHANNELS if c in chosen]


def unsubscribe(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``unsubscribe {channels?, reason?}``: consent withdrawn on ``channels`` (default all)."""
    channels = _channels(config)
    reason = text(config, "reason", required=False)
    values = {"channels": channels, "reason": reason}
    return Effect(
        "unsubscribe",
        values,
        {"command": "unsubscribe", **values},
        {"consent": dict.fromkeys(channels, False)},
    )


def update_consent(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``update_consent {email?, sms?, whatsapp?}``: each channel given set; others left alone.

    Raises:
        StepError: no channel given, or one that is not a boolean.
    """
    given: dict[str, bool] = {}
    for channel in CHANNELS:
        value = config.get(channel)
        if value is None:
            continue
        if not isinstance(value, bool):
            raise StepError(f"`{channel}` must be true or false")
        given[channel] = value
    if not given:
        raise StepError("give the consent of at least one channel (email, sms, whatsapp)")
    return Effect(
        "update_consent", dict(given), {"command": "update_consent", **given}, {"consent": dict(given)}
    )


def set_do_not_contact(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``set_do_not_contact {do_not_contact?, reason?}`` (default true): when set, every channel's
    consent is withdrawn, so no communication step reaches the contact; lifting it restores none."""
    flag = config.get("do_not_contact", True)
    if not isinstance(flag, bool):
        raise StepError("`do_not_contact` must be true or false")
    reason = text(config, "reason", required=False)
    changes: dict[str, Any] = {"fields": {_DO_NOT_CONTACT: flag}}
    if flag:
        changes["consent"] = dict.fromkeys(CHANNELS, False)
    values = {"do_not_contact": flag, "reason": reason}
    return Effect("set_do_not_contact", values, {"command": "set_do_not_contact", **values}, changes)


def create_relationship(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``create_relationship {related_contact_id, relationship}``; the snapshot is unchanged.

    Raises:
        StepError: the related contact is the contact itself.
    """
    related = text(config, "related_contact_id")
    if related == str(contact.get("id") or ""):
        raise StepError("`related_contact_id` is the contact itself")
    values = {"related_contact_id": related, "relationship": text(config, "relationship")}
    return Effect("create_relationship", values, {"command": "create_relationship", **values})


def log_activity(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``log_activity {activity_type, description?}``: an entry on the contact's timeline."""
    values = {
        "activity_type": text(config, "activity_type"),
        "description": text(config, "description", required=False),
    }
    return Effect("log_activity", values, {"command": "log_activity", **values})


def upload_document(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``upload_document {url, name?}``: the CRM fetches ``url`` (https) and attaches it.

    Raises:
        StepError: a URL that is not absolute https.
    """
    url = text(config, "url")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise StepError("`url` must be an absolute https URL")
    name = text(config, "name", required=False) or parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.hostname
    values = {"url": url, "name": name}
    return Effect("upload_document", values, {"command": "upload_document", **values})


def export_contact_data(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``export_contact_data {format?}`` (json by default); the CRM answers with where to get it
    (``vars.export_id``, ``vars.export_url``)."""
    format_ = text(config, "format", required=False) or "json"
    if format_ not in EXPORT_FORMATS:
        raise StepError(f"`format` {format_!r} is not one of {', '.join(EXPORT_FORMATS)}")
    placeholder = {name: f"dry-run:{name}" for name in REPLY_VARS["export_contact_data"]}
    return Effect(
        "export_contact_data",
        {"format": EXPORT_FORMATS[format_]},
        {"command": "export_contact_data", "format": format_},
        vars=placeholder,
    )


def request_gdpr_deletion(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``request_gdpr_deletion {reason?}``: the CRM erases the contact everywhere (decision 0042)."""
    reason = text(config, "reason", required=False)
    return Effect(
        "request_gdpr_deletion", {"reason": reason}, {"command": "request_gdpr_deletion", "reason": reason}
    )


CRM_EFFECTS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Effect]] = {
    "create_contact": create_contact,
    "delete_contact": delete_contact,
    "merge_contacts": merge_contacts,
    "update_lifecycle_stage": update_lifecycle_stage,
    "update_custom_field": update_custom_field,
    "copy_field": copy_field,
    "append_to_field": append_to_field,
    "subscribe_newsletter": subscribe_newsletter,
    "unsubscribe": unsubscribe,
    "update_consent": update_consent,
    "set_do_not_contact": set_do_not_contact,
    "create_relationship": create_relationship,
    "log_activity": log_activity,
    "upload_document": upload_document,
    "export_contact_data": export_contact_data,
    "request_gdpr_deletion": request_gdpr_deletion,
}
"""The CRM verbs whose effect needs only the config and the contact snapshot."""


def crm_types() -> Sequence[str]:
    """Every verb of this module."""
    return (*CRM_EFFECTS, "calculate_lead_score")
