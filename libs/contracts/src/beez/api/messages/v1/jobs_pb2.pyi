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

class JobSignal(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_SIGNAL_UNSPECIFIED: _ClassVar[JobSignal]
    JOB_SIGNAL_EVENT: _ClassVar[JobSignal]
    JOB_SIGNAL_MET: _ClassVar[JobSignal]
    JOB_SIGNAL_GOAL: _ClassVar[JobSignal]
    JOB_SIGNAL_TIMEOUT: _ClassVar[JobSignal]

class JobPriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_PRIORITY_UNSPECIFIED: _ClassVar[JobPriority]
    JOB_PRIORITY_CRITICAL: _ClassVar[JobPriority]
    JOB_PRIORITY_HIGH: _ClassVar[JobPriority]
    JOB_PRIORITY_NORMAL: _ClassVar[JobPriority]
    JOB_PRIORITY_LOW: _ClassVar[JobPriority]
JOB_REASON_UNSPECIFIED: JobReason
JOB_REASON_START: JobReason
JOB_REASON_RESUME: JobReason
JOB_REASON_TIMER: JobReason
JOB_REASON_SIGNAL: JobReason
JOB_REASON_RETRY: JobReason
JOB_SIGNAL_UNSPECIFIED: JobSignal
JOB_SIGNAL_EVENT: JobSignal
JOB_SIGNAL_MET: JobSignal
JOB_SIGNAL_GOAL: JobSignal
JOB_SIGNAL_TIMEOUT: JobSignal
JOB_PRIORITY_UNSPECIFIED: JobPriority
JOB_PRIORITY_CRITICAL: JobPriority
JOB_PRIORITY_HIGH: JobPriority
JOB_PRIORITY_NORMAL: JobPriority
JOB_PRIORITY_LOW: JobPriority

class Job(_message.Message):
    __slots__ = ("execution_id", "reason", "organization_id", "enqueued_at", "start", "event", "token", "signal_kind")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_KIND_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    reason: JobReason
    organization_id: str
    enqueued_at: _timestamp_pb2.Timestamp
    start: ExecutionStart
    event: _events_pb2.Event
    token: str
    signal_kind: JobSignal
    def __init__(self, execution_id: _Optional[str] = ..., reason: _Optional[_Union[JobReason, str]] = ..., organization_id: _Optional[str] = ..., enqueued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start: _Optional[_Union[ExecutionStart, _Mapping]] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., token: _Optional[str] = ..., signal_kind: _Optional[_Union[JobSignal, str]] = ...) -> None: ...

class ExecutionStart(_message.Message):
    __slots__ = ("automation_id", "automation_version", "workflow", "event", "contact_id", "created_at", "priority_level")
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_LEVEL_FIELD_NUMBER: _ClassVar[int]
    automation_id: str
    automation_version: int
    workflow: _workflow_pb2.Workflow
    event: _events_pb2.Event
    contact_id: str
    created_at: _timestamp_pb2.Timestamp
    priority_level: JobPriority
    def __init__(self, automation_id: _Optional[str] = ..., automation_version: _Optional[int] = ..., workflow: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., contact_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority_level: _Optional[_Union[JobPriority, str]] = ...) -> None: ...
