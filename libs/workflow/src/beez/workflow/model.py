"""Reading and writing the workflow JSON, and giving every step a stable id.

The wire format is proto3 JSON of ``beez.api.workflow.v1.Workflow`` (lowerCamelCase, snake_case
accepted on input). ``google.protobuf.json_format`` does the conversion, but its errors are one
nested sentence; so the input is first walked against the message descriptors here, and every
unknown field or wrongly shaped value becomes an :class:`~beez.workflow.errors.Issue` with its
path (``actions[0].branches[1].weight``), all of them at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct, Value

from beez.api.workflow.v1.workflow_pb2 import Action, Condition, Workflow
from beez.workflow.errors import Issue, WorkflowError, join_path

__all__ = [
    "Step",
    "assign_ids",
    "conditions_from_json",
    "message_from_json",
    "parse_message",
    "plain",
    "struct_to_dict",
    "walk_actions",
    "workflow_from_json",
    "workflow_to_json",
]

M = TypeVar("M", bound=Message)

# Well-known types whose JSON form is not an object of fields.
_FREE_FORM = {"google.protobuf.Value"}
_OBJECT_FORM = {"google.protobuf.Struct"}
_LIST_FORM = {"google.protobuf.ListValue"}
_STRING_FORM = {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}

_INT_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_INT32_TYPES = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_SINT32, FieldDescriptor.TYPE_SFIXED32}
_FLOAT_TYPES = {FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT}


def _load(data: Mapping[str, Any] | str | bytes, what: str) -> dict[str, Any]:
    """Decodes JSON text, or copies a mapping; anything but an object is an issue."""
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise WorkflowError([Issue("", f"invalid JSON: {exc}")]) from exc
    if not isinstance(data, Mapping):
        raise WorkflowError([Issue("", f"{what} must be a JSON object")])
    return dict(data)


def _check_scalar(field: FieldDescriptor, value: Any, path: str) -> Issue | None:
    """Checks one scalar value against its field's type, the way proto3 JSON accepts it."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return None if isinstance(value, str) else Issue(path, "must be a string")
    if kind == FieldDescriptor.TYPE_BOOL:
        return None if isinstance(value, bool) else Issue(path, "must be true or false")
    if kind in _INT_TYPES:
        number: Any = value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            number = int(value)
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int):
            return Issue(path, "must be an integer")
        if kind in _INT32_TYPES and not -(2**31) <= number < 2**31:
            return Issue(path, "is out of range")
        return None
    if kind in _FLOAT_TYPES:
        ok = (isinstance(value, int | float) and not isinstance(value, bool)) or value in (
            "NaN",
            "Infinity",
            "-Infinity",
        )
        return None if ok else Issue(path, "must be a number")
    if kind == FieldDescriptor.TYPE_ENUM:
        ok = isinstance(value, str | int) and not isinstance(value, bool)
        return None if ok else Issue(path, "must be an enum name")
    if kind == FieldDescriptor.TYPE_BYTES:
        return None if isinstance(value, str) else Issue(path, "must be a base64 string")
    return None


def _check_value(field: FieldDescriptor, value: Any, path: str, issues: list[Issue]) -> None:
    """Checks one (non-repeated) value of ``field``."""
    if value is None:
        return  # proto3 JSON: null means "not set"
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        issue = _check_scalar(field, value, path)
        if issue is not None:
            issues.append(issue)
        return
    message_type = field.message_type
    if message_type is None:  # pragma: no cover - a message field always has a type
        return
    name = message_type.full_name
    if name in _FREE_FORM:
        return
    if name in _OBJECT_FORM:
        if not isinstance(value, Mapping):
            issues.append(Issue(path, "must be an object"))
        return
    if name in _LIST_FORM:
        if not isinstance(value, list):
            issues.append(Issue(path, "must be a list"))
        return
    if name in _STRING_FORM:
        if not isinstance(value, str):
            issues.append(Issue(path, "must be a string"))
        return
    _check_object(message_type, value, path, issues)


def _check_object(descriptor: Descriptor, data: Any, path: str, issues: list[Issue]) -> None:
    """Walks ``data`` against a message descriptor, collecting every shape problem."""
    if not isinstance(data, Mapping):
        issues.append(Issue(path, "must be an object"))
        return
    by_name: dict[str, FieldDescriptor] = {}
    for known in descriptor.fields:
        by_name[known.name] = known
        by_name[known.json_name] = known
    seen: dict[str, str] = {}
    for key, value in data.items():
        field = by_name.get(key) if isinstance(key, str) else None
        if field is None:
            issues.append(Issue(join_path(path, str(key)), "unknown field"))
            continue
        field_path = join_path(path, field.json_name)
        if field.name in seen:
            issues.append(Issue(field_path, f"given twice (as {seen[field.name]!r} and {key!r})"))
            continue
        seen[field.name] = key
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            if value is not None and not isinstance(value, Mapping):
                issues.append(Issue(field_path, "must be an object"))
            continue
        if field.is_repeated:
            if value is None:
                continue
            if not isinstance(value, list):
                issues.append(Issue(field_path, "must be a list"))
                continue
            for index, item in enumerate(value):
                _check_value(field, item, join_path(field_path, index), issues)
        else:
            _check_value(field, value, field_path, issues)


def parse_message(data: Any, message: M, path: str = "") -> list[Issue]:
    """Fills ``message`` from JSON ``data``; returns the issues (``message`` is untouched then).

    Both spellings of field names are accepted. Paths in issues use the lowerCamelCase JSON
    names and are prefixed with ``path``.
    """
    issues: list[Issue] = []
    descriptor: Any = message.DESCRIPTOR
    _check_object(descriptor, data, path, issues)
    if issues:
        return issues
    try:
        json_format.ParseDict(data, message)
    except json_format.ParseError as exc:  # a case the walk above did not foresee
        return [Issue(path, str(exc).splitlines()[0])]
    return []


def message_from_json(data: Mapping[str, Any] | str | bytes, message: M, what: str) -> M:
    """Parses JSON (text or an already decoded object) into ``message``, or raises.

    Raises:
        WorkflowError: with one issue per unknown field or badly typed value.
    """
    issues = parse_message(_load(data, what), message)
    if issues:
        raise WorkflowError(issues)
    return message


def workflow_from_json(data: Mapping[str, Any] | str | bytes) -> Workflow:
    """Reads a workflow from its JSON (text or decoded), in either spelling of field names.

    This only checks the shape; :func:`beez.workflow.validate.validate_workflow` checks meaning.

    Raises:
        WorkflowError: listing every unknown field and badly typed value with its path.
    """
    return message_from_json(data, Workflow(), "a workflow")


def conditions_from_json(data: Any, path: str) -> tuple[list[Condition], list[Issue]]:
    """Reads a JSON list of conditions (as found in a step's ``config``) into protos.

    Returns the conditions that parsed and the issues of those that did not, under ``path``.
    """
    if not isinstance(data, list):
        return [], [Issue(path, "must be a list of conditions")]
    conditions: list[Condition] = []
    issues: list[Issue] = []
    for index, item in enumerate(data):
        condition = Condition()
        found = parse_message(item, condition, join_path(path, index))
        issues.extend(found)
        if not found:
            conditions.append(condition)
    return conditions, issues


def plain(value: Any) -> Any:
    """Turns decoded JSON into the tidy form used in output: whole floats become ints.

    protobuf's Struct stores every number as a double, so ``{"value": 1}`` would come back as
    ``1.0``; JSON does not tell them apart, and people (and templates) read ``1`` better.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def struct_to_dict(struct: Struct) -> dict[str, Any]:
    """A ``google.protobuf.Struct`` as a plain dict (whole numbers as ints, as :func:`plain`).

    Read straight off the message rather than through ``json_format`` and :func:`plain`, at
    less than half the cost: the executor reads every step's config this way.
    """
    return {key: _value(item) for key, item in struct.fields.items()}


def _value(value: Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {key: _value(item) for key, item in value.struct_value.fields.items()}
    if kind == "list_value":
        return [_value(item) for item in value.list_value.values]
    return None


def workflow_to_json(workflow: Workflow) -> dict[str, Any]:
    """The workflow as proto3 JSON: lowerCamelCase names, fields at their defaults left out."""
    result = plain(json_format.MessageToDict(workflow))
    return result if isinstance(result, dict) else {}


@dataclass(frozen=True, slots=True)
class Step:
    """One action found by :func:`walk_actions`, with where it sits.

    ``trail`` lists, from the top, the (index, branch name) of every enclosing branching step;
    ``index`` is the action's index in its own list; ``depth`` is ``len(trail)``.
    """

    path: str
    action: Action
    trail: tuple[tuple[int, str], ...]
    index: int

    @property
    def depth(self) -> int:
        """How many branches enclose this step (0 at the top level)."""
        return len(self.trail)


def walk_actions(
    actions: Sequence[Action],
    path: str = "actions",
    trail: tuple[tuple[int, str], ...] = (),
) -> Iterator[Step]:
    """Every action, depth first in document order, with its JSON path.

    Paths use branch indexes (``actions[3].branches[1].actions[0]``), the spelling the API
    reports problems in.
    """
    for index, action in enumerate(actions):
        action_path = join_path(path, index)
        yield Step(action_path, action, trail, index)
        for branch_index, branch in enumerate(action.branches):
            yield from walk_actions(
                branch.actions,
                f"{action_path}.branches[{branch_index}].actions",
                (*trail, (index, branch.name)),
            )


def _slug(text: str) -> str:
    """Lower-case letters, digits and underscores only."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def assign_ids(workflow: Workflow) -> Workflow:
    """Returns a copy in which every action without an ``id`` has one; existing ids stay.

    An id is derived from the step's place and type: ``s3_wait`` for top-level action 3,
    ``s3_timeout_0_send_email`` for action 0 of branch ``timeout`` of action 3, and so on down.
    Because versions are immutable, ids derived this way are stable for a version; a clash with
    an id already in use gets a ``_2``, ``_3``... suffix. Ids given twice by the author are left
    alone (validation reports them).
    """
    result = Workflow()
    result.CopyFrom(workflow)
    steps = list(walk_actions(result.actions))
    taken = {step.action.id for step in steps if step.action.id}
    for step in steps:
        if step.action.id:
            continue
        parts = [f"s{step.trail[0][0]}" if step.trail else f"s{step.index}"]
        for position, (_, branch) in enumerate(step.trail):
            following = step.trail[position + 1][0] if position + 1 < len(step.trail) else step.index
            parts.append(f"{_slug(branch)}_{following}")
        base = "_".join([*parts, _slug(step.action.type or "step")])
        candidate, counter = base, 1
        while candidate in taken:
            counter += 1
            candidate = f"{base}_{counter}"
        taken.add(candidate)
        step.action.id = candidate
    return result
