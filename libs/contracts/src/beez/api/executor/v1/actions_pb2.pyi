import datetime

from beez.api.messages.v1 import commands_pb2 as _commands_pb2
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

class ActionCategory(_message.Message):
    __slots__ = ("category", "name", "count")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    category: str
    name: str
    count: int
    def __init__(self, category: _Optional[str] = ..., name: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class ListActionCategoriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListActionCategoriesResponse(_message.Message):
    __slots__ = ("categories",)
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[ActionCategory]
    def __init__(self, categories: _Optional[_Iterable[_Union[ActionCategory, _Mapping]]] = ...) -> None: ...

class ActionIssue(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ValidateActionRequest(_message.Message):
    __slots__ = ("action",)
    ACTION_FIELD_NUMBER: _ClassVar[int]
    action: _workflow_pb2.Action
    def __init__(self, action: _Optional[_Union[_workflow_pb2.Action, _Mapping]] = ...) -> None: ...

class ValidateActionResponse(_message.Message):
    __slots__ = ("valid", "issues")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    issues: _containers.RepeatedCompositeFieldContainer[ActionIssue]
    def __init__(self, valid: _Optional[bool] = ..., issues: _Optional[_Iterable[_Union[ActionIssue, _Mapping]]] = ...) -> None: ...

class TestActionRequest(_message.Message):
    __slots__ = ("action", "contact", "event", "vars")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    VARS_FIELD_NUMBER: _ClassVar[int]
    action: _workflow_pb2.Action
    contact: _events_pb2.Contact
    event: _events_pb2.Event
    vars: _struct_pb2.Struct
    def __init__(self, action: _Optional[_Union[_workflow_pb2.Action, _Mapping]] = ..., contact: _Optional[_Union[_events_pb2.Contact, _Mapping]] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., vars: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PreviewedRequest(_message.Message):
    __slots__ = ("kind", "method", "url", "headers", "body", "details")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    method: str
    url: str
    headers: _containers.ScalarMap[str, str]
    body: str
    details: _struct_pb2.Struct
    def __init__(self, kind: _Optional[str] = ..., method: _Optional[str] = ..., url: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[str] = ..., details: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PreviewedCommand(_message.Message):
    __slots__ = ("subject", "command")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    subject: str
    command: _commands_pb2.PlatformCommand
    def __init__(self, subject: _Optional[str] = ..., command: _Optional[_Union[_commands_pb2.PlatformCommand, _Mapping]] = ...) -> None: ...

class TestActionResponse(_message.Message):
    __slots__ = ("type", "config", "request", "commands", "events", "vars", "skipped_reason")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    COMMANDS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    VARS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_REASON_FIELD_NUMBER: _ClassVar[int]
    type: str
    config: _struct_pb2.Struct
    request: PreviewedRequest
    commands: _containers.RepeatedCompositeFieldContainer[PreviewedCommand]
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.Event]
    vars: _struct_pb2.Struct
    skipped_reason: str
    def __init__(self, type: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., request: _Optional[_Union[PreviewedRequest, _Mapping]] = ..., commands: _Optional[_Iterable[_Union[PreviewedCommand, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[_events_pb2.Event, _Mapping]]] = ..., vars: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., skipped_reason: _Optional[str] = ...) -> None: ...

class GetProviderMessageRequest(_message.Message):
    __slots__ = ("provider", "provider_message_id")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    provider: str
    provider_message_id: str
    def __init__(self, provider: _Optional[str] = ..., provider_message_id: _Optional[str] = ...) -> None: ...

class ProviderMessage(_message.Message):
    __slots__ = ("provider", "provider_message_id", "execution_id", "automation_id", "step_id", "step_path", "contact_id", "sent_at")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_PATH_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    provider: str
    provider_message_id: str
    execution_id: str
    automation_id: str
    step_id: str
    step_path: str
    contact_id: str
    sent_at: _timestamp_pb2.Timestamp
    def __init__(self, provider: _Optional[str] = ..., provider_message_id: _Optional[str] = ..., execution_id: _Optional[str] = ..., automation_id: _Optional[str] = ..., step_id: _Optional[str] = ..., step_path: _Optional[str] = ..., contact_id: _Optional[str] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetProviderMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: ProviderMessage
    def __init__(self, message: _Optional[_Union[ProviderMessage, _Mapping]] = ...) -> None: ...
