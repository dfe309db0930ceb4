import datetime

from beez.api.automation.v1 import automation_pb2 as _automation_pb2
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

class TriggerCategory(_message.Message):
    __slots__ = ("category", "name", "count")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    category: str
    name: str
    count: int
    def __init__(self, category: _Optional[str] = ..., name: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class ListTriggerCategoriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTriggerCategoriesResponse(_message.Message):
    __slots__ = ("categories",)
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[TriggerCategory]
    def __init__(self, categories: _Optional[_Iterable[_Union[TriggerCategory, _Mapping]]] = ...) -> None: ...

class ValidateTriggerRequest(_message.Message):
    __slots__ = ("trigger",)
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    trigger: _workflow_pb2.Trigger
    def __init__(self, trigger: _Optional[_Union[_workflow_pb2.Trigger, _Mapping]] = ...) -> None: ...

class ValidateTriggerResponse(_message.Message):
    __slots__ = ("valid", "issues")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    issues: _containers.RepeatedCompositeFieldContainer[_automation_pb2.ValidationIssue]
    def __init__(self, valid: _Optional[bool] = ..., issues: _Optional[_Iterable[_Union[_automation_pb2.ValidationIssue, _Mapping]]] = ...) -> None: ...

class TestTriggerRequest(_message.Message):
    __slots__ = ("trigger", "automation_id", "event")
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    AUTOMATION_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    trigger: _workflow_pb2.Trigger
    automation_id: str
    event: _events_pb2.Event
    def __init__(self, trigger: _Optional[_Union[_workflow_pb2.Trigger, _Mapping]] = ..., automation_id: _Optional[str] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ...) -> None: ...

class TestTriggerResponse(_message.Message):
    __slots__ = ("fires", "event_type", "reasons")
    FIRES_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    fires: bool
    event_type: str
    reasons: _containers.RepeatedCompositeFieldContainer[_automation_pb2.ValidationIssue]
    def __init__(self, fires: _Optional[bool] = ..., event_type: _Optional[str] = ..., reasons: _Optional[_Iterable[_Union[_automation_pb2.ValidationIssue, _Mapping]]] = ...) -> None: ...

class EvaluateConditionsRequest(_message.Message):
    __slots__ = ("conditions", "data", "now")
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    conditions: _containers.RepeatedCompositeFieldContainer[_workflow_pb2.Condition]
    data: _struct_pb2.Struct
    now: _timestamp_pb2.Timestamp
    def __init__(self, conditions: _Optional[_Iterable[_Union[_workflow_pb2.Condition, _Mapping]]] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConditionResult(_message.Message):
    __slots__ = ("field", "result", "source", "error")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    field: str
    result: bool
    source: str
    error: str
    def __init__(self, field: _Optional[str] = ..., result: _Optional[bool] = ..., source: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class EvaluateConditionsResponse(_message.Message):
    __slots__ = ("result", "source", "error", "results")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    result: bool
    source: str
    error: str
    results: _containers.RepeatedCompositeFieldContainer[ConditionResult]
    def __init__(self, result: _Optional[bool] = ..., source: _Optional[str] = ..., error: _Optional[str] = ..., results: _Optional[_Iterable[_Union[ConditionResult, _Mapping]]] = ...) -> None: ...
