from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AlertAdmins(_message.Message):
    __slots__ = ("message", "severity", "failed_step_id", "failed_step_type", "error", "error_category")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    FAILED_STEP_ID_FIELD_NUMBER: _ClassVar[int]
    FAILED_STEP_TYPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    message: str
    severity: str
    failed_step_id: str
    failed_step_type: str
    error: str
    error_category: str
    def __init__(self, message: _Optional[str] = ..., severity: _Optional[str] = ..., failed_step_id: _Optional[str] = ..., failed_step_type: _Optional[str] = ..., error: _Optional[str] = ..., error_category: _Optional[str] = ...) -> None: ...
