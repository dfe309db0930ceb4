import datetime

from beez.api.messages.v1 import events_pb2 as _events_pb2
from beez.api.workflow.v1 import workflow_pb2 as _workflow_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_REASON_UNSPECIFIED: _ClassVar[JobReason]
    JOB_REASON_START: _ClassVar[JobReason]
    JOB_REASON_RESUME: _ClassVar[JobReason]
    JOB_REASON_TIMER: _ClassVar[JobReason]
    JOB_REASON_SIGNAL: _ClassVar[JobReason]
    JOB_REASON_RETRY: _ClassVar[JobReason]
JOB_REASON_UNSPECIFIED: JobReason
JOB_REASON_START: JobReason
JOB_REASON_RESUME: JobReason
JOB_REASON_TIMER: JobReason
JOB_REASON_SIGNAL: JobReason
JOB_REASON_RETRY: JobReason

class Job(_message.Message):
    __slots__ = ("execution_id", "reason", "organization_id", "enqueued_at", "signal", "start", "event", "token")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    reason: JobReason
    organization_id: str
    enqueued_at: _timestamp_pb2.Timestamp
    signal: str
    start: ExecutionStart
    event: _events_pb2.Event
    token: str
    def __init__(self, execution_id: _Optional[str] = ..., reason: _Optional[_Union[JobReason, str]] = ..., organization_id: _Optional[str] = ..., enqueued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signal: _Optional[str] = ..., start: _Optional[_Union[ExecutionStart, _Mapping]] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., token: _Optional[str] = ...) -> None: ...

class ExecutionStart(_message.Message):
    __slots__ = ("automation_id", "automation_version", "workflow", "event", "contact_id", "created_at", "priority")
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    automation_id: str
    automation_version: int
    workflow: _workflow_pb2.Workflow
    event: _events_pb2.Event
    contact_id: str
    created_at: _timestamp_pb2.Timestamp
    priority: str
    def __init__(self, automation_id: _Optional[str] = ..., automation_version: _Optional[int] = ..., workflow: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., contact_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[str] = ...) -> None: ...
