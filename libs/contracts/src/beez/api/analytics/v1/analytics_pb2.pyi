from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetAutomationStatsRequest(_message.Message):
    __slots__ = ("automation_id",)
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    automation_id: str
    def __init__(self, automation_id: _Optional[str] = ...) -> None: ...

class GetAutomationStatsResponse(_message.Message):
    __slots__ = ("automation_id", "total", "succeeded", "failed", "cancelled", "success_rate", "duration_p50_ms", "duration_p95_ms", "duration_p99_ms")
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_P50_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_P95_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_P99_MS_FIELD_NUMBER: _ClassVar[int]
    automation_id: str
    total: int
    succeeded: int
    failed: int
    cancelled: int
    success_rate: float
    duration_p50_ms: float
    duration_p95_ms: float
    duration_p99_ms: float
    def __init__(self, automation_id: _Optional[str] = ..., total: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., cancelled: _Optional[int] = ..., success_rate: _Optional[float] = ..., duration_p50_ms: _Optional[float] = ..., duration_p95_ms: _Optional[float] = ..., duration_p99_ms: _Optional[float] = ...) -> None: ...
