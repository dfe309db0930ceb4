from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TriggerType(_message.Message):
    __slots__ = ("type", "name", "description", "category", "event")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    type: str
    name: str
    description: str
    category: str
    event: str
    def __init__(self, type: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., category: _Optional[str] = ..., event: _Optional[str] = ...) -> None: ...

class ActionType(_message.Message):
    __slots__ = ("type", "name", "description", "category", "branches")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BRANCHES_FIELD_NUMBER: _ClassVar[int]
    type: str
    name: str
    description: str
    category: str
    branches: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, type: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., category: _Optional[str] = ..., branches: _Optional[_Iterable[str]] = ...) -> None: ...

class ConditionOperator(_message.Message):
    __slots__ = ("operator", "description", "value_types")
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VALUE_TYPES_FIELD_NUMBER: _ClassVar[int]
    operator: str
    description: str
    value_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, operator: _Optional[str] = ..., description: _Optional[str] = ..., value_types: _Optional[_Iterable[str]] = ...) -> None: ...

class ListTriggerTypesRequest(_message.Message):
    __slots__ = ("category",)
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    category: str
    def __init__(self, category: _Optional[str] = ...) -> None: ...

class ListTriggerTypesResponse(_message.Message):
    __slots__ = ("trigger_types",)
    TRIGGER_TYPES_FIELD_NUMBER: _ClassVar[int]
    trigger_types: _containers.RepeatedCompositeFieldContainer[TriggerType]
    def __init__(self, trigger_types: _Optional[_Iterable[_Union[TriggerType, _Mapping]]] = ...) -> None: ...

class GetTriggerTypeSchemaRequest(_message.Message):
    __slots__ = ("type",)
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: str
    def __init__(self, type: _Optional[str] = ...) -> None: ...

class GetTriggerTypeSchemaResponse(_message.Message):
    __slots__ = ("schema",)
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    schema: _struct_pb2.Struct
    def __init__(self, schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListActionTypesRequest(_message.Message):
    __slots__ = ("category",)
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    category: str
    def __init__(self, category: _Optional[str] = ...) -> None: ...

class ListActionTypesResponse(_message.Message):
    __slots__ = ("action_types",)
    ACTION_TYPES_FIELD_NUMBER: _ClassVar[int]
    action_types: _containers.RepeatedCompositeFieldContainer[ActionType]
    def __init__(self, action_types: _Optional[_Iterable[_Union[ActionType, _Mapping]]] = ...) -> None: ...

class GetActionTypeSchemaRequest(_message.Message):
    __slots__ = ("type",)
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: str
    def __init__(self, type: _Optional[str] = ...) -> None: ...

class GetActionTypeSchemaResponse(_message.Message):
    __slots__ = ("schema",)
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    schema: _struct_pb2.Struct
    def __init__(self, schema: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ListConditionOperatorsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListConditionOperatorsResponse(_message.Message):
    __slots__ = ("operators",)
    OPERATORS_FIELD_NUMBER: _ClassVar[int]
    operators: _containers.RepeatedCompositeFieldContainer[ConditionOperator]
    def __init__(self, operators: _Optional[_Iterable[_Union[ConditionOperator, _Mapping]]] = ...) -> None: ...
