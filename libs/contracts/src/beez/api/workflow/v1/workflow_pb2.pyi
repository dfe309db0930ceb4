from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Workflow(_message.Message):
    __slots__ = ("name", "description", "trigger", "conditions", "actions", "goal", "settings")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    GOAL_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    trigger: Trigger
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    actions: _containers.RepeatedCompositeFieldContainer[Action]
    goal: Goal
    settings: Settings
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., trigger: _Optional[_Union[Trigger, _Mapping]] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., actions: _Optional[_Iterable[_Union[Action, _Mapping]]] = ..., goal: _Optional[_Union[Goal, _Mapping]] = ..., settings: _Optional[_Union[Settings, _Mapping]] = ...) -> None: ...

class Trigger(_message.Message):
    __slots__ = ("type", "event", "filters", "config")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    type: str
    event: str
    filters: _struct_pb2.Struct
    config: _struct_pb2.Struct
    def __init__(self, type: _Optional[str] = ..., event: _Optional[str] = ..., filters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("field", "operator", "value", "logic", "all", "any", "negated", "expression")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    ANY_FIELD_NUMBER: _ClassVar[int]
    NEGATED_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    field: str
    operator: str
    value: _struct_pb2.Value
    logic: str
    all: _containers.RepeatedCompositeFieldContainer[Condition]
    any: _containers.RepeatedCompositeFieldContainer[Condition]
    negated: Condition
    expression: str
    def __init__(self, field: _Optional[str] = ..., operator: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., logic: _Optional[str] = ..., all: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., any: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., negated: _Optional[_Union[Condition, _Mapping]] = ..., expression: _Optional[str] = ...) -> None: ...

class Interval(_message.Message):
    __slots__ = ("value", "unit")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    value: int
    unit: str
    def __init__(self, value: _Optional[int] = ..., unit: _Optional[str] = ...) -> None: ...

class Action(_message.Message):
    __slots__ = ("id", "type", "config", "delay", "branches")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    BRANCHES_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    config: _struct_pb2.Struct
    delay: Interval
    branches: _containers.RepeatedCompositeFieldContainer[Branch]
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., delay: _Optional[_Union[Interval, _Mapping]] = ..., branches: _Optional[_Iterable[_Union[Branch, _Mapping]]] = ...) -> None: ...

class Branch(_message.Message):
    __slots__ = ("name", "actions", "conditions", "weight")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    name: str
    actions: _containers.RepeatedCompositeFieldContainer[Action]
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    weight: int
    def __init__(self, name: _Optional[str] = ..., actions: _Optional[_Iterable[_Union[Action, _Mapping]]] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., weight: _Optional[int] = ...) -> None: ...

class Goal(_message.Message):
    __slots__ = ("event", "filters", "conditions")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    event: str
    filters: _struct_pb2.Struct
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    def __init__(self, event: _Optional[str] = ..., filters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ...) -> None: ...

class QuietHours(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class Settings(_message.Message):
    __slots__ = ("run_once", "max_executions", "reentry", "max_concurrent_per_contact", "timezone", "quiet_hours", "priority")
    RUN_ONCE_FIELD_NUMBER: _ClassVar[int]
    MAX_EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    REENTRY_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_PER_CONTACT_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    QUIET_HOURS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    run_once: bool
    max_executions: int
    reentry: str
    max_concurrent_per_contact: int
    timezone: str
    quiet_hours: QuietHours
    priority: str
    def __init__(self, run_once: _Optional[bool] = ..., max_executions: _Optional[int] = ..., reentry: _Optional[str] = ..., max_concurrent_per_contact: _Optional[int] = ..., timezone: _Optional[str] = ..., quiet_hours: _Optional[_Union[QuietHours, _Mapping]] = ..., priority: _Optional[str] = ...) -> None: ...
