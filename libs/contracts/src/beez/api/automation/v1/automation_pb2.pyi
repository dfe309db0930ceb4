import datetime

from beez.api.messages.v1 import events_pb2 as _events_pb2
from beez.api.workflow.v1 import workflow_pb2 as _workflow_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AutomationStats(_message.Message):
    __slots__ = ("total", "succeeded", "failed", "cancelled", "success_rate", "duration_p50_ms", "duration_p95_ms", "duration_p99_ms")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_RATE_FIELD_NUMBER: _ClassVar[int]
    DURATION_P50_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_P95_MS_FIELD_NUMBER: _ClassVar[int]
    DURATION_P99_MS_FIELD_NUMBER: _ClassVar[int]
    total: int
    succeeded: int
    failed: int
    cancelled: int
    success_rate: float
    duration_p50_ms: float
    duration_p95_ms: float
    duration_p99_ms: float
    def __init__(self, total: _Optional[int] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ..., cancelled: _Optional[int] = ..., success_rate: _Optional[float] = ..., duration_p50_ms: _Optional[float] = ..., duration_p95_ms: _Optional[float] = ..., duration_p99_ms: _Optional[float] = ...) -> None: ...

class Automation(_message.Message):
    __slots__ = ("id", "workflow", "active", "version", "create_time", "update_time", "created_by", "stats")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    id: str
    workflow: _workflow_pb2.Workflow
    active: bool
    version: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    created_by: str
    stats: AutomationStats
    def __init__(self, id: _Optional[str] = ..., workflow: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ..., active: _Optional[bool] = ..., version: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., stats: _Optional[_Union[AutomationStats, _Mapping]] = ...) -> None: ...

class CreateAutomationRequest(_message.Message):
    __slots__ = ("automation", "active")
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    automation: _workflow_pb2.Workflow
    active: bool
    def __init__(self, automation: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ..., active: _Optional[bool] = ...) -> None: ...

class CreateAutomationResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: Automation
    def __init__(self, automation: _Optional[_Union[Automation, _Mapping]] = ...) -> None: ...

class GetAutomationRequest(_message.Message):
    __slots__ = ("id", "version")
    ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    version: int
    def __init__(self, id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetAutomationResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: Automation
    def __init__(self, automation: _Optional[_Union[Automation, _Mapping]] = ...) -> None: ...

class ListAutomationsRequest(_message.Message):
    __slots__ = ("active", "trigger_type", "name", "page_size", "page_token")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    active: bool
    trigger_type: str
    name: str
    page_size: int
    page_token: str
    def __init__(self, active: _Optional[bool] = ..., trigger_type: _Optional[str] = ..., name: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAutomationsResponse(_message.Message):
    __slots__ = ("automations", "next_page_token")
    AUTOMATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    automations: _containers.RepeatedCompositeFieldContainer[Automation]
    next_page_token: str
    def __init__(self, automations: _Optional[_Iterable[_Union[Automation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateAutomationRequest(_message.Message):
    __slots__ = ("id", "automation")
    ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    id: str
    automation: _workflow_pb2.Workflow
    def __init__(self, id: _Optional[str] = ..., automation: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ...) -> None: ...

class UpdateAutomationResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: Automation
    def __init__(self, automation: _Optional[_Union[Automation, _Mapping]] = ...) -> None: ...

class DeleteAutomationRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteAutomationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ToggleAutomationRequest(_message.Message):
    __slots__ = ("id", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class ToggleAutomationResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: Automation
    def __init__(self, automation: _Optional[_Union[Automation, _Mapping]] = ...) -> None: ...

class CloneAutomationRequest(_message.Message):
    __slots__ = ("id", "name")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CloneAutomationResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: Automation
    def __init__(self, automation: _Optional[_Union[Automation, _Mapping]] = ...) -> None: ...

class TestAutomationRequest(_message.Message):
    __slots__ = ("id", "event", "wait_outcomes")
    class WaitOutcomesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    WAIT_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    id: str
    event: _events_pb2.Event
    wait_outcomes: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., wait_outcomes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TestStep(_message.Message):
    __slots__ = ("step_id", "type", "path", "outcome", "detail")
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    step_id: str
    type: str
    path: str
    outcome: str
    detail: _struct_pb2.Struct
    def __init__(self, step_id: _Optional[str] = ..., type: _Optional[str] = ..., path: _Optional[str] = ..., outcome: _Optional[str] = ..., detail: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class TestAutomationResponse(_message.Message):
    __slots__ = ("would_start", "reason", "steps")
    WOULD_START_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    would_start: bool
    reason: str
    steps: _containers.RepeatedCompositeFieldContainer[TestStep]
    def __init__(self, would_start: _Optional[bool] = ..., reason: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[TestStep, _Mapping]]] = ...) -> None: ...

class ValidateAutomationRequest(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: _workflow_pb2.Workflow
    def __init__(self, automation: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ...) -> None: ...

class ResyncAutomationsRequest(_message.Message):
    __slots__ = ("all_organizations",)
    ALL_ORGANIZATIONS_FIELD_NUMBER: _ClassVar[int]
    all_organizations: bool
    def __init__(self, all_organizations: _Optional[bool] = ...) -> None: ...

class ResyncAutomationsResponse(_message.Message):
    __slots__ = ("announced",)
    ANNOUNCED_FIELD_NUMBER: _ClassVar[int]
    announced: int
    def __init__(self, announced: _Optional[int] = ...) -> None: ...

class ValidationIssue(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ValidateAutomationResponse(_message.Message):
    __slots__ = ("valid", "issues")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    issues: _containers.RepeatedCompositeFieldContainer[ValidationIssue]
    def __init__(self, valid: _Optional[bool] = ..., issues: _Optional[_Iterable[_Union[ValidationIssue, _Mapping]]] = ...) -> None: ...
