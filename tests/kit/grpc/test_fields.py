"""time_range: the optional start_time/end_time pair of list and search requests."""

from __future__ import annotations

from datetime import UTC, datetime

from beez.api.executor.v1 import dead_letters_pb2, executor_pb2
from beez.kit.grpc.errors import FieldViolation
from beez.kit.grpc.fields import time_range

NOON = datetime(2026, 12, 3, 12, tzinfo=UTC)


def test_unset_times_are_none_and_set_ones_are_utc() -> None:
    request = executor_pb2.SearchExecutionsRequest()
    violations: list[FieldViolation] = []
    assert time_range(request, violations) == (None, None)
    request.start_time.FromDatetime(NOON)
    assert time_range(request, violations) == (NOON, None)
    assert violations == []


def test_an_end_not_after_the_start_is_a_violation_on_the_end() -> None:
    request = dead_letters_pb2.ListDeadLettersRequest()
    request.start_time.FromDatetime(NOON)
    request.end_time.FromDatetime(NOON)
    violations: list[FieldViolation] = []
    time_range(request, violations)
    assert violations == [FieldViolation("end_time", "must be after start_time")]
