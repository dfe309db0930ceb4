from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CustomFieldType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CUSTOM_FIELD_TYPE_UNSPECIFIED: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_TEXT: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_NUMBER: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_BOOLEAN: _ClassVar[CustomFieldType]
    CUSTOM_FIELD_TYPE_DATE: _ClassVar[CustomFieldType]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]

class ReplyErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLY_ERROR_CODE_UNSPECIFIED: _ClassVar[ReplyErrorCode]
    REPLY_ERROR_CODE_INVALID: _ClassVar[ReplyErrorCode]
    REPLY_ERROR_CODE_NOT_FOUND: _ClassVar[ReplyErrorCode]
    REPLY_ERROR_CODE_UNAVAILABLE: _ClassVar[ReplyErrorCode]
CUSTOM_FIELD_TYPE_UNSPECIFIED: CustomFieldType
CUSTOM_FIELD_TYPE_TEXT: CustomFieldType
CUSTOM_FIELD_TYPE_NUMBER: CustomFieldType
CUSTOM_FIELD_TYPE_BOOLEAN: CustomFieldType
CUSTOM_FIELD_TYPE_DATE: CustomFieldType
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_JSON: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
REPLY_ERROR_CODE_UNSPECIFIED: ReplyErrorCode
REPLY_ERROR_CODE_INVALID: ReplyErrorCode
REPLY_ERROR_CODE_NOT_FOUND: ReplyErrorCode
REPLY_ERROR_CODE_UNAVAILABLE: ReplyErrorCode

class CreateContact(_message.Message):
    __slots__ = ("email", "phone", "first_name", "last_name", "fields", "tags", "lists")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    LISTS_FIELD_NUMBER: _ClassVar[int]
    email: str
    phone: str
    first_name: str
    last_name: str
    fields: _struct_pb2.Struct
    tags: _containers.RepeatedScalarFieldContainer[str]
    lists: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, email: _Optional[str] = ..., phone: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., lists: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteContact(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class MergeContacts(_message.Message):
    __slots__ = ("duplicate_contact_id",)
    DUPLICATE_CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    duplicate_contact_id: str
    def __init__(self, duplicate_contact_id: _Optional[str] = ...) -> None: ...

class UpdateLifecycleStage(_message.Message):
    __slots__ = ("stage",)
    STAGE_FIELD_NUMBER: _ClassVar[int]
    stage: str
    def __init__(self, stage: _Optional[str] = ...) -> None: ...

class CalculateLeadScore(_message.Message):
    __slots__ = ("score", "matched_rules")
    SCORE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_RULES_FIELD_NUMBER: _ClassVar[int]
    score: int
    matched_rules: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, score: _Optional[int] = ..., matched_rules: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateCustomField(_message.Message):
    __slots__ = ("field", "value", "type")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    field: str
    value: _struct_pb2.Value
    type: CustomFieldType
    def __init__(self, field: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., type: _Optional[_Union[CustomFieldType, str]] = ...) -> None: ...

class CopyField(_message.Message):
    __slots__ = ("from_field", "to_field", "value")
    FROM_FIELD_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    from_field: str
    to_field: str
    value: _struct_pb2.Value
    def __init__(self, from_field: _Optional[str] = ..., to_field: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class AppendToField(_message.Message):
    __slots__ = ("field", "text", "separator")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SEPARATOR_FIELD_NUMBER: _ClassVar[int]
    field: str
    text: str
    separator: str
    def __init__(self, field: _Optional[str] = ..., text: _Optional[str] = ..., separator: _Optional[str] = ...) -> None: ...

class SubscribeNewsletter(_message.Message):
    __slots__ = ("newsletter",)
    NEWSLETTER_FIELD_NUMBER: _ClassVar[int]
    newsletter: str
    def __init__(self, newsletter: _Optional[str] = ...) -> None: ...

class Unsubscribe(_message.Message):
    __slots__ = ("channels", "reason")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    def __init__(self, channels: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ...) -> None: ...

class UpdateConsent(_message.Message):
    __slots__ = ("email", "sms", "whatsapp")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SMS_FIELD_NUMBER: _ClassVar[int]
    WHATSAPP_FIELD_NUMBER: _ClassVar[int]
    email: bool
    sms: bool
    whatsapp: bool
    def __init__(self, email: _Optional[bool] = ..., sms: _Optional[bool] = ..., whatsapp: _Optional[bool] = ...) -> None: ...

class SetDoNotContact(_message.Message):
    __slots__ = ("do_not_contact", "reason")
    DO_NOT_CONTACT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    do_not_contact: bool
    reason: str
    def __init__(self, do_not_contact: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...

class CreateRelationship(_message.Message):
    __slots__ = ("related_contact_id", "relationship")
    RELATED_CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIP_FIELD_NUMBER: _ClassVar[int]
    related_contact_id: str
    relationship: str
    def __init__(self, related_contact_id: _Optional[str] = ..., relationship: _Optional[str] = ...) -> None: ...

class LogActivity(_message.Message):
    __slots__ = ("activity_type", "description")
    ACTIVITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    activity_type: str
    description: str
    def __init__(self, activity_type: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class UploadDocument(_message.Message):
    __slots__ = ("url", "name")
    URL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    url: str
    name: str
    def __init__(self, url: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ExportContactData(_message.Message):
    __slots__ = ("format",)
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    format: ExportFormat
    def __init__(self, format: _Optional[_Union[ExportFormat, str]] = ...) -> None: ...

class RequestGdprDeletion(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class CreateContactResult(_message.Message):
    __slots__ = ("contact_id", "created")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    created: bool
    def __init__(self, contact_id: _Optional[str] = ..., created: _Optional[bool] = ...) -> None: ...

class ExportContactDataResult(_message.Message):
    __slots__ = ("export_id", "download_url")
    EXPORT_ID_FIELD_NUMBER: _ClassVar[int]
    DOWNLOAD_URL_FIELD_NUMBER: _ClassVar[int]
    export_id: str
    download_url: str
    def __init__(self, export_id: _Optional[str] = ..., download_url: _Optional[str] = ...) -> None: ...

class ReplyError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: ReplyErrorCode
    message: str
    def __init__(self, code: _Optional[_Union[ReplyErrorCode, str]] = ..., message: _Optional[str] = ...) -> None: ...

class PlatformReply(_message.Message):
    __slots__ = ("idempotency_key", "error", "create_contact", "export_contact_data")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATE_CONTACT_FIELD_NUMBER: _ClassVar[int]
    EXPORT_CONTACT_DATA_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    error: ReplyError
    create_contact: CreateContactResult
    export_contact_data: ExportContactDataResult
    def __init__(self, idempotency_key: _Optional[str] = ..., error: _Optional[_Union[ReplyError, _Mapping]] = ..., create_contact: _Optional[_Union[CreateContactResult, _Mapping]] = ..., export_contact_data: _Optional[_Union[ExportContactDataResult, _Mapping]] = ...) -> None: ...
