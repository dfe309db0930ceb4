import datetime

from beez.api.workflow.v1 import workflow_pb2 as _workflow_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ExecutionEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXECUTION_EVENT_KIND_UNSPECIFIED: _ClassVar[ExecutionEventKind]
    EXECUTION_EVENT_KIND_STARTED: _ClassVar[ExecutionEventKind]
    EXECUTION_EVENT_KIND_STEP_COMPLETED: _ClassVar[ExecutionEventKind]
    EXECUTION_EVENT_KIND_STEP_FAILED: _ClassVar[ExecutionEventKind]
    EXECUTION_EVENT_KIND_WAITING: _ClassVar[ExecutionEventKind]
    EXECUTION_EVENT_KIND_COMPLETED: _ClassVar[ExecutionEventKind]
    EXECUTION_EVENT_KIND_FAILED: _ClassVar[ExecutionEventKind]
    EXECUTION_EVENT_KIND_CANCELLED: _ClassVar[ExecutionEventKind]

class ChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANGE_KIND_UNSPECIFIED: _ClassVar[ChangeKind]
    CHANGE_KIND_UPSERTED: _ClassVar[ChangeKind]
    CHANGE_KIND_DELETED: _ClassVar[ChangeKind]

class WaitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WAIT_KIND_UNSPECIFIED: _ClassVar[WaitKind]
    WAIT_KIND_EVENT: _ClassVar[WaitKind]
    WAIT_KIND_UNTIL: _ClassVar[WaitKind]
    WAIT_KIND_GOAL: _ClassVar[WaitKind]
EXECUTION_EVENT_KIND_UNSPECIFIED: ExecutionEventKind
EXECUTION_EVENT_KIND_STARTED: ExecutionEventKind
EXECUTION_EVENT_KIND_STEP_COMPLETED: ExecutionEventKind
EXECUTION_EVENT_KIND_STEP_FAILED: ExecutionEventKind
EXECUTION_EVENT_KIND_WAITING: ExecutionEventKind
EXECUTION_EVENT_KIND_COMPLETED: ExecutionEventKind
EXECUTION_EVENT_KIND_FAILED: ExecutionEventKind
EXECUTION_EVENT_KIND_CANCELLED: ExecutionEventKind
CHANGE_KIND_UNSPECIFIED: ChangeKind
CHANGE_KIND_UPSERTED: ChangeKind
CHANGE_KIND_DELETED: ChangeKind
WAIT_KIND_UNSPECIFIED: WaitKind
WAIT_KIND_EVENT: WaitKind
WAIT_KIND_UNTIL: WaitKind
WAIT_KIND_GOAL: WaitKind

class ExecutionEvent(_message.Message):
    __slots__ = ("id", "kind", "organization_id", "execution_id", "automation_id", "automation_version", "contact_id", "step_id", "step_type", "error", "error_category", "occurred_at", "duration_ms", "queue_wait_ms", "converted", "steps")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_VERSION_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUE_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: ExecutionEventKind
    organization_id: str
    execution_id: str
    automation_id: str
    automation_version: int
    contact_id: str
    step_id: str
    step_type: str
    error: str
    error_category: str
    occurred_at: _timestamp_pb2.Timestamp
    duration_ms: int
    queue_wait_ms: int
    converted: bool
    steps: _containers.RepeatedCompositeFieldContainer[StepCompleted]
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[ExecutionEventKind, str]] = ..., organization_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., automation_id: _Optional[str] = ..., automation_version: _Optional[int] = ..., contact_id: _Optional[str] = ..., step_id: _Optional[str] = ..., step_type: _Optional[str] = ..., error: _Optional[str] = ..., error_category: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_ms: _Optional[int] = ..., queue_wait_ms: _Optional[int] = ..., converted: _Optional[bool] = ..., steps: _Optional[_Iterable[_Union[StepCompleted, _Mapping]]] = ...) -> None: ...

class StepCompleted(_message.Message):
    __slots__ = ("id", "step_id", "step_type", "occurred_at", "duration_ms")
    ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    id: str
    step_id: str
    step_type: str
    occurred_at: _timestamp_pb2.Timestamp
    duration_ms: int
    def __init__(self, id: _Optional[str] = ..., step_id: _Optional[str] = ..., step_type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_ms: _Optional[int] = ...) -> None: ...

class AutomationChanged(_message.Message):
    __slots__ = ("kind", "organization_id", "automation_id", "version", "active", "workflow", "occurred_at", "revision", "workflow_digest")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_DIGEST_FIELD_NUMBER: _ClassVar[int]
    kind: ChangeKind
    organization_id: str
    automation_id: str
    version: int
    active: bool
    workflow: _workflow_pb2.Workflow
    occurred_at: _timestamp_pb2.Timestamp
    revision: int
    workflow_digest: str
    def __init__(self, kind: _Optional[_Union[ChangeKind, str]] = ..., organization_id: _Optional[str] = ..., automation_id: _Optional[str] = ..., version: _Optional[int] = ..., active: _Optional[bool] = ..., workflow: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revision: _Optional[int] = ..., workflow_digest: _Optional[str] = ...) -> None: ...

class WaitRegistration(_message.Message):
    __slots__ = ("id", "kind", "organization_id", "execution_id", "contact_id", "event_type", "filters", "conditions", "expires_at", "cancel")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: WaitKind
    organization_id: str
    execution_id: str
    contact_id: str
    event_type: str
    filters: _struct_pb2.Struct
    conditions: _containers.RepeatedCompositeFieldContainer[_workflow_pb2.Condition]
    expires_at: _timestamp_pb2.Timestamp
    cancel: bool
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[_Union[WaitKind, str]] = ..., organization_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., event_type: _Optional[str] = ..., filters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., conditions: _Optional[_Iterable[_Union[_workflow_pb2.Condition, _Mapping]]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel: _Optional[bool] = ...) -> None: ...
