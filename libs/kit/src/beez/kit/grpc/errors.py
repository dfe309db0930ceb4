"""Domain errors and their gRPC status, with google.rpc details.

Services raise these; the error interceptor turns them into a ``google.rpc.Status`` with the
right code and, for invalid input, a ``BadRequest`` listing every field violation by path
(``actions[2].config.subject``). The gateway passes the same details on as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One problem with the input, located by its path."""

    field: str
    description: str


class ServiceError(Exception):
    """An error with a gRPC status code."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def details(self) -> list[any_pb2.Any]:
        return []

    def to_status(self) -> status_pb2.Status:
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=self.details())


class InvalidArgument(ServiceError):
    """Bad input; carries every field violation found, not just the first."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, message: str, violations: Iterable[FieldViolation] = ()) -> None:
        super().__init__(message)
        self.violations = list(violations)

    def details(self) -> list[any_pb2.Any]:
        if not self.violations:
            return []
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in self.violations
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad)
        return [packed]


def require(**fields: object) -> None:
    """INVALID_ARGUMENT naming every one of ``fields`` (name=value) that is empty or unset."""
    missing = [name for name, value in fields.items() if not value]
    if missing:
        message = (
            f"{missing[0]} is required"
            if len(missing) == 1
            else "missing required fields: " + ", ".join(missing)
        )
        raise InvalidArgument(message, [FieldViolation(name, "is required") for name in missing])


class NotFound(ServiceError):
    """The object does not exist, or belongs to another organization."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ServiceError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ServiceError):
    """The object is not in a state that allows the operation."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(ServiceError):
    """A rate limit or quota was hit.

    With ``retry_after`` (seconds), the status carries a ``google.rpc.RetryInfo``, which the
    gateway answers as ``Retry-After`` (whole seconds, rounded up).
    """

    code = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def details(self) -> list[any_pb2.Any]:
        if self.retry_after is None:
            return []
        info = error_details_pb2.RetryInfo()
        info.retry_delay.FromNanoseconds(int(max(0.0, self.retry_after) * 1e9))
        packed = any_pb2.Any()
        packed.Pack(info)
        return [packed]


class Unavailable(ServiceError):
    """A dependency (PostgreSQL, NATS, another service) is down; the caller may retry."""

    code = grpc.StatusCode.UNAVAILABLE


class Unauthenticated(ServiceError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ServiceError):
    """The caller is known but may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


assert grpc.StatusCode.INVALID_ARGUMENT.value[0] == code_pb2.INVALID_ARGUMENT
