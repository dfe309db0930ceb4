import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Hook(_message.Message):
    __slots__ = ("id", "name", "event_type", "contact_id_path", "require_signature", "create_time", "rotate_time", "token_prefix")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_PATH_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ROTATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PREFIX_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    event_type: str
    contact_id_path: str
    require_signature: bool
    create_time: _timestamp_pb2.Timestamp
    rotate_time: _timestamp_pb2.Timestamp
    token_prefix: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., event_type: _Optional[str] = ..., contact_id_path: _Optional[str] = ..., require_signature: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rotate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., token_prefix: _Optional[str] = ...) -> None: ...

class HookCredentials(_message.Message):
    __slots__ = ("token", "url", "secret")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    token: str
    url: str
    secret: str
    def __init__(self, token: _Optional[str] = ..., url: _Optional[str] = ..., secret: _Optional[str] = ...) -> None: ...

class CreateHookRequest(_message.Message):
    __slots__ = ("name", "event_type", "contact_id_path", "require_signature")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ID_PATH_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    name: str
    event_type: str
    contact_id_path: str
    require_signature: bool
    def __init__(self, name: _Optional[str] = ..., event_type: _Optional[str] = ..., contact_id_path: _Optional[str] = ..., require_signature: _Optional[bool] = ...) -> None: ...

class CreateHookResponse(_message.Message):
    __slots__ = ("hook", "credentials")
    HOOK_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    hook: Hook
    credentials: HookCredentials
    def __init__(self, hook: _Optional[_Union[Hook, _Mapping]] = ..., credentials: _Optional[_Union[HookCredentials, _Mapping]] = ...) -> None: ...

class ListHooksRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListHooksResponse(_message.Message):
    __slots__ = ("hooks", "next_page_token")
    HOOKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    hooks: _containers.RepeatedCompositeFieldContainer[Hook]
    next_page_token: str
    def __init__(self, hooks: _Optional[_Iterable[_Union[Hook, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetHookRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetHookResponse(_message.Message):
    __slots__ = ("hook",)
    HOOK_FIELD_NUMBER: _ClassVar[int]
    hook: Hook
    def __init__(self, hook: _Optional[_Union[Hook, _Mapping]] = ...) -> None: ...

class RotateHookRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RotateHookResponse(_message.Message):
    __slots__ = ("hook", "credentials")
    HOOK_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    hook: Hook
    credentials: HookCredentials
    def __init__(self, hook: _Optional[_Union[Hook, _Mapping]] = ..., credentials: _Optional[_Union[HookCredentials, _Mapping]] = ...) -> None: ...

class DeleteHookRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteHookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeliverHookRequest(_message.Message):
    __slots__ = ("token", "body", "content_type", "signature", "idempotency_key")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    token: str
    body: bytes
    content_type: str
    signature: str
    idempotency_key: str
    def __init__(self, token: _Optional[str] = ..., body: _Optional[bytes] = ..., content_type: _Optional[str] = ..., signature: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class DeliverHookResponse(_message.Message):
    __slots__ = ("event_id", "hook_id", "accepted")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    hook_id: str
    accepted: bool
    def __init__(self, event_id: _Optional[str] = ..., hook_id: _Optional[str] = ..., accepted: _Optional[bool] = ...) -> None: ...
