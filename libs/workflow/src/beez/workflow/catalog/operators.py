"""The condition operators, in display order."""

from __future__ import annotations

from beez.workflow.catalog.entries import Operator

OPERATORS: tuple[Operator, ...] = (
    Operator("equals", "The field equals the value.", ("string", "number", "boolean", "null", "list")),
    Operator(
        "not_equals",
        "The field is present and differs from the value.",
        ("string", "number", "boolean", "null", "list"),
    ),
    Operator(
        "contains",
        "A text field contains the text, or a list field contains the item.",
        ("string", "number", "boolean"),
    ),
    Operator(
        "not_contains",
        "A text field does not contain the text, or a list field lacks the item.",
        ("string", "number", "boolean"),
    ),
    Operator("starts_with", "A text field starts with the text.", ("string",)),
    Operator("ends_with", "A text field ends with the text.", ("string",)),
    Operator("greater_than", "A number field is greater than the value.", ("number",)),
    Operator("greater_or_equal", "A number field is greater than or equal to the value.", ("number",)),
    Operator("less_than", "A number field is less than the value.", ("number",)),
    Operator("less_or_equal", "A number field is less than or equal to the value.", ("number",)),
    Operator("between", "A number or time field lies within [low, high], both included.", ("range",)),
    Operator("in_list", "The field equals one of the listed values.", ("list",)),
    Operator("not_in_list", "The field is present and equals none of the listed values.", ("list",)),
    Operator(
        "is_empty", "The field is missing, null, empty text, an empty list or an empty object.", ("none",)
    ),
    Operator("is_not_empty", "The field is present and not empty.", ("none",)),
    Operator(
        "matches_regex", "A text field matches the regular expression (RE2 syntax, searched).", ("regex",)
    ),
    Operator("before", "A time field is before the timestamp (dates are midnight UTC).", ("timestamp",)),
    Operator("after", "A time field is after the timestamp (dates are midnight UTC).", ("timestamp",)),
    Operator("within_last", "A time field lies within the last {value, unit} before now.", ("interval",)),
    Operator("has_tag", "The contact has the tag (field defaults to contact.tags).", ("string",), False),
    Operator("has_any_tags", "The contact has at least one of the tags.", ("strings",), False),
    Operator("has_all_tags", "The contact has every one of the tags.", ("strings",), False),
)
