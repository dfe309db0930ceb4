"""Reading request fields that several RPCs share the shape of.

A time filter is a pair of optional ``google.protobuf.Timestamp`` fields, ``start_time``
(inclusive) and ``end_time`` (exclusive), in list and search requests of every service.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message

from beez.kit.grpc.errors import FieldViolation

__all__ = ["time_range"]


def time_range(
    request: Message, violations: list[FieldViolation], start: str = "start_time", end: str = "end_time"
) -> tuple[datetime | None, datetime | None]:
    """The request's ``start``/``end`` Timestamps as UTC datetimes (None when unset); a violation
    on ``end`` is added to ``violations`` when both are set and ``end`` is not after ``start``."""
    since, before = (
        getattr(request, name).ToDatetime(tzinfo=UTC) if request.HasField(name) else None
        for name in (start, end)
    )
    if since is not None and before is not None and before <= since:
        violations.append(FieldViolation(end, f"must be after {start}"))
    return since, before
