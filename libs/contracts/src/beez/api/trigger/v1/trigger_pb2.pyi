import datetime

from beez.api.messages.v1 import events_pb2 as _events_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PublishEventRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class PublishResult(_message.Message):
    __slots__ = ("event_id", "accepted")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    accepted: bool
    def __init__(self, event_id: _Optional[str] = ..., accepted: _Optional[bool] = ...) -> None: ...

class PublishEventResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: PublishResult
    def __init__(self, result: _Optional[_Union[PublishResult, _Mapping]] = ...) -> None: ...

class PublishEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_events_pb2.Event]
    def __init__(self, events: _Optional[_Iterable[_Union[_events_pb2.Event, _Mapping]]] = ...) -> None: ...

class PublishEventsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[PublishResult]
    def __init__(self, results: _Optional[_Iterable[_Union[PublishResult, _Mapping]]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("type", "contact_id", "since", "page_size", "page_token")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    type: str
    contact_id: str
    since: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, type: _Optional[str] = ..., contact_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class EventRecord(_message.Message):
    __slots__ = ("event", "received_at", "execution_ids")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_IDS_FIELD_NUMBER: _ClassVar[int]
    event: _events_pb2.Event
    received_at: _timestamp_pb2.Timestamp
    execution_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., execution_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[EventRecord]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[EventRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListScheduledFiresRequest(_message.Message):
    __slots__ = ("automation_id", "page_size", "page_token")
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    automation_id: str
    page_size: int
    page_token: str
    def __init__(self, automation_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ScheduledFire(_message.Message):
    __slots__ = ("id", "automation_id", "contact_id", "kind", "due_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    automation_id: str
    contact_id: str
    kind: str
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., automation_id: _Optional[str] = ..., contact_id: _Optional[str] = ..., kind: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListScheduledFiresResponse(_message.Message):
    __slots__ = ("fires", "next_page_token")
    FIRES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    fires: _containers.RepeatedCompositeFieldContainer[ScheduledFire]
    next_page_token: str
    def __init__(self, fires: _Optional[_Iterable[_Union[ScheduledFire, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelScheduledFireRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CancelScheduledFireResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
