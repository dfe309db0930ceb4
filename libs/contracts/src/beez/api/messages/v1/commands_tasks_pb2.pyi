import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TaskPriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_PRIORITY_UNSPECIFIED: _ClassVar[TaskPriority]
    TASK_PRIORITY_LOW: _ClassVar[TaskPriority]
    TASK_PRIORITY_NORMAL: _ClassVar[TaskPriority]
    TASK_PRIORITY_HIGH: _ClassVar[TaskPriority]
    TASK_PRIORITY_URGENT: _ClassVar[TaskPriority]

class FollowUpKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FOLLOW_UP_KIND_UNSPECIFIED: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_TASK: _ClassVar[FollowUpKind]
    FOLLOW_UP_KIND_REMINDER: _ClassVar[FollowUpKind]

class CallDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALL_DIRECTION_UNSPECIFIED: _ClassVar[CallDirection]
    CALL_DIRECTION_INBOUND: _ClassVar[CallDirection]
    CALL_DIRECTION_OUTBOUND: _ClassVar[CallDirection]
TASK_PRIORITY_UNSPECIFIED: TaskPriority
TASK_PRIORITY_LOW: TaskPriority
TASK_PRIORITY_NORMAL: TaskPriority
TASK_PRIORITY_HIGH: TaskPriority
TASK_PRIORITY_URGENT: TaskPriority
FOLLOW_UP_KIND_UNSPECIFIED: FollowUpKind
FOLLOW_UP_KIND_TASK: FollowUpKind
FOLLOW_UP_KIND_REMINDER: FollowUpKind
CALL_DIRECTION_UNSPECIFIED: CallDirection
CALL_DIRECTION_INBOUND: CallDirection
CALL_DIRECTION_OUTBOUND: CallDirection

class AssignTask(_message.Message):
    __slots__ = ("task_id", "assignee", "team")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    assignee: str
    team: str
    def __init__(self, task_id: _Optional[str] = ..., assignee: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...

class SetTaskDueDate(_message.Message):
    __slots__ = ("task_id", "due_at")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, task_id: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CompleteTask(_message.Message):
    __slots__ = ("task_id", "note")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    note: str
    def __init__(self, task_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class CreateCalendarEvent(_message.Message):
    __slots__ = ("event_id", "title", "description", "start_at", "end_at", "location", "attendees", "calendar")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    END_AT_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    title: str
    description: str
    start_at: _timestamp_pb2.Timestamp
    end_at: _timestamp_pb2.Timestamp
    location: str
    attendees: _containers.RepeatedScalarFieldContainer[str]
    calendar: str
    def __init__(self, event_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., start_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., location: _Optional[str] = ..., attendees: _Optional[_Iterable[str]] = ..., calendar: _Optional[str] = ...) -> None: ...

class SendTaskReminder(_message.Message):
    __slots__ = ("task_id", "message", "user_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    message: str
    user_id: str
    def __init__(self, task_id: _Optional[str] = ..., message: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class UpdateTaskPriority(_message.Message):
    __slots__ = ("task_id", "priority")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    priority: TaskPriority
    def __init__(self, task_id: _Optional[str] = ..., priority: _Optional[_Union[TaskPriority, str]] = ...) -> None: ...

class AddTaskComment(_message.Message):
    __slots__ = ("task_id", "comment_id", "body")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    comment_id: str
    body: str
    def __init__(self, task_id: _Optional[str] = ..., comment_id: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class FollowUpItem(_message.Message):
    __slots__ = ("task_id", "kind", "title", "description", "due_at", "assignee")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    kind: FollowUpKind
    title: str
    description: str
    due_at: _timestamp_pb2.Timestamp
    assignee: str
    def __init__(self, task_id: _Optional[str] = ..., kind: _Optional[_Union[FollowUpKind, str]] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignee: _Optional[str] = ...) -> None: ...

class CreateFollowUpSequence(_message.Message):
    __slots__ = ("sequence_id", "name", "items")
    SEQUENCE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    sequence_id: str
    name: str
    items: _containers.RepeatedCompositeFieldContainer[FollowUpItem]
    def __init__(self, sequence_id: _Optional[str] = ..., name: _Optional[str] = ..., items: _Optional[_Iterable[_Union[FollowUpItem, _Mapping]]] = ...) -> None: ...

class LogPhoneCall(_message.Message):
    __slots__ = ("activity_id", "direction", "outcome", "duration_seconds", "notes", "phone")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    direction: CallDirection
    outcome: str
    duration_seconds: int
    notes: str
    phone: str
    def __init__(self, activity_id: _Optional[str] = ..., direction: _Optional[_Union[CallDirection, str]] = ..., outcome: _Optional[str] = ..., duration_seconds: _Optional[int] = ..., notes: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class LogMeetingNotes(_message.Message):
    __slots__ = ("activity_id", "meeting_id", "title", "notes")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    MEETING_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    meeting_id: str
    title: str
    notes: str
    def __init__(self, activity_id: _Optional[str] = ..., meeting_id: _Optional[str] = ..., title: _Optional[str] = ..., notes: _Optional[str] = ...) -> None: ...

class ScheduleMeeting(_message.Message):
    __slots__ = ("meeting_id", "title", "description", "start_at", "end_at", "organizer", "location", "attendees", "send_invitations")
    MEETING_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    START_AT_FIELD_NUMBER: _ClassVar[int]
    END_AT_FIELD_NUMBER: _ClassVar[int]
    ORGANIZER_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    SEND_INVITATIONS_FIELD_NUMBER: _ClassVar[int]
    meeting_id: str
    title: str
    description: str
    start_at: _timestamp_pb2.Timestamp
    end_at: _timestamp_pb2.Timestamp
    organizer: str
    location: str
    attendees: _containers.RepeatedScalarFieldContainer[str]
    send_invitations: bool
    def __init__(self, meeting_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., start_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., organizer: _Optional[str] = ..., location: _Optional[str] = ..., attendees: _Optional[_Iterable[str]] = ..., send_invitations: _Optional[bool] = ...) -> None: ...
