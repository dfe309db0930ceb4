import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Consent(_message.Message):
    __slots__ = ("email", "sms", "whatsapp", "push")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SMS_FIELD_NUMBER: _ClassVar[int]
    WHATSAPP_FIELD_NUMBER: _ClassVar[int]
    PUSH_FIELD_NUMBER: _ClassVar[int]
    email: bool
    sms: bool
    whatsapp: bool
    push: bool
    def __init__(self, email: _Optional[bool] = ..., sms: _Optional[bool] = ..., whatsapp: _Optional[bool] = ..., push: _Optional[bool] = ...) -> None: ...

class Contact(_message.Message):
    __slots__ = ("id", "email", "phone", "first_name", "last_name", "tags", "lists", "score", "timezone", "consent", "fields")
    ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LISTS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    email: str
    phone: str
    first_name: str
    last_name: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    lists: _containers.RepeatedScalarFieldContainer[str]
    score: int
    timezone: str
    consent: Consent
    fields: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., lists: _Optional[_Iterable[str]] = ..., score: _Optional[int] = ..., timezone: _Optional[str] = ..., consent: _Optional[_Union[Consent, _Mapping]] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "type", "occurred_at", "contact_id", "data", "contact", "organization_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    occurred_at: _timestamp_pb2.Timestamp
    contact_id: str
    data: _struct_pb2.Struct
    contact: Contact
    organization_id: str
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_id: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., contact: _Optional[_Union[Contact, _Mapping]] = ..., organization_id: _Optional[str] = ...) -> None: ...
