"""Small questions about protobuf descriptors, shared by routing, transcoding and OpenAPI.

They keep the three in agreement on what a field path means and which message types a single
string (a path segment or query value) can set.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

# Well-known types whose proto3 JSON form is a string, so one query value can set them.
STRING_WKTS = frozenset(
    {"google.protobuf.Timestamp", "google.protobuf.Duration", "google.protobuf.FieldMask"}
)

# Wrapper types: their JSON form is the wrapped scalar (or null).
WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)


def message_type(field: FieldDescriptor) -> Descriptor:
    """The type of a message field."""
    if field.message_type is None:
        raise TypeError(f"{field.full_name} is not a message field")
    return field.message_type


def enum_type(field: FieldDescriptor) -> EnumDescriptor:
    """The type of an enum field."""
    if field.enum_type is None:
        raise TypeError(f"{field.full_name} is not an enum field")
    return field.enum_type


def is_message(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE


def is_map(field: FieldDescriptor) -> bool:
    return is_message(field) and message_type(field).GetOptions().map_entry


def is_single_value_message(field: FieldDescriptor) -> bool:
    """A message field one string sets: Timestamp, Duration, FieldMask or a wrapper."""
    if not is_message(field):
        return False
    name = message_type(field).full_name
    return name in STRING_WKTS or name in WRAPPERS


def find_field(message: Descriptor, name: str, *, by_json_name: bool) -> FieldDescriptor | None:
    """A field of ``message`` by proto name, or (when ``by_json_name``) by its JSON name too."""
    found = message.fields_by_name.get(name)
    if found is None and by_json_name:
        found = next((f for f in message.fields if f.json_name == name), None)
    return found


def field_chain(message: Descriptor, parts: list[str], *, by_json_name: bool) -> list[FieldDescriptor] | None:
    """The fields along a dotted path, or None when it doesn't name a field.

    Every part but the last must be a singular message field that has fields of its own to
    address (not a single-value type such as Timestamp).
    """
    current = message
    chain: list[FieldDescriptor] = []
    for i, part in enumerate(parts):
        field = find_field(current, part, by_json_name=by_json_name)
        if field is None:
            return None
        chain.append(field)
        if i < len(parts) - 1:
            if not is_message(field) or field.is_repeated or is_single_value_message(field):
                return None
            current = message_type(field)
    return chain
