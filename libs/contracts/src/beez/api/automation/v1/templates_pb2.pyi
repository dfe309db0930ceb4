import datetime

from beez.api.automation.v1 import automation_pb2 as _automation_pb2
from beez.api.messages.v1 import events_pb2 as _events_pb2
from beez.api.workflow.v1 import workflow_pb2 as _workflow_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TemplateSort(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEMPLATE_SORT_UNSPECIFIED: _ClassVar[TemplateSort]
    TEMPLATE_SORT_POPULAR: _ClassVar[TemplateSort]
    TEMPLATE_SORT_RATING: _ClassVar[TemplateSort]
    TEMPLATE_SORT_NEWEST: _ClassVar[TemplateSort]
TEMPLATE_SORT_UNSPECIFIED: TemplateSort
TEMPLATE_SORT_POPULAR: TemplateSort
TEMPLATE_SORT_RATING: TemplateSort
TEMPLATE_SORT_NEWEST: TemplateSort

class CustomizableField(_message.Message):
    __slots__ = ("path", "label", "type", "default_value", "validation")
    PATH_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    path: str
    label: str
    type: str
    default_value: _struct_pb2.Value
    validation: _struct_pb2.Struct
    def __init__(self, path: _Optional[str] = ..., label: _Optional[str] = ..., type: _Optional[str] = ..., default_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., validation: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Template(_message.Message):
    __slots__ = ("id", "name", "description", "category", "subcategory", "industry", "tags", "difficulty", "setup_minutes", "featured", "personal", "integrations", "workflow", "customizable", "sample", "rating", "rating_count", "usage_count", "view_count", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SUBCATEGORY_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DIFFICULTY_FIELD_NUMBER: _ClassVar[int]
    SETUP_MINUTES_FIELD_NUMBER: _ClassVar[int]
    FEATURED_FIELD_NUMBER: _ClassVar[int]
    PERSONAL_FIELD_NUMBER: _ClassVar[int]
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    CUSTOMIZABLE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    RATING_COUNT_FIELD_NUMBER: _ClassVar[int]
    USAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    VIEW_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    category: str
    subcategory: str
    industry: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    difficulty: str
    setup_minutes: int
    featured: bool
    personal: bool
    integrations: _containers.RepeatedScalarFieldContainer[str]
    workflow: _workflow_pb2.Workflow
    customizable: _containers.RepeatedCompositeFieldContainer[CustomizableField]
    sample: _struct_pb2.Struct
    rating: float
    rating_count: int
    usage_count: int
    view_count: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., category: _Optional[str] = ..., subcategory: _Optional[str] = ..., industry: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., difficulty: _Optional[str] = ..., setup_minutes: _Optional[int] = ..., featured: _Optional[bool] = ..., personal: _Optional[bool] = ..., integrations: _Optional[_Iterable[str]] = ..., workflow: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ..., customizable: _Optional[_Iterable[_Union[CustomizableField, _Mapping]]] = ..., sample: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., rating: _Optional[float] = ..., rating_count: _Optional[int] = ..., usage_count: _Optional[int] = ..., view_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ("category", "subcategory", "industry", "tag", "integration", "difficulty", "sort", "page_size", "page_token")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SUBCATEGORY_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_FIELD_NUMBER: _ClassVar[int]
    DIFFICULTY_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    category: str
    subcategory: str
    industry: str
    tag: str
    integration: str
    difficulty: str
    sort: TemplateSort
    page_size: int
    page_token: str
    def __init__(self, category: _Optional[str] = ..., subcategory: _Optional[str] = ..., industry: _Optional[str] = ..., tag: _Optional[str] = ..., integration: _Optional[str] = ..., difficulty: _Optional[str] = ..., sort: _Optional[_Union[TemplateSort, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates", "next_page_token", "total_size")
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[Template]
    next_page_token: str
    total_size: int
    def __init__(self, templates: _Optional[_Iterable[_Union[Template, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetTemplateRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetTemplateResponse(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: Template
    def __init__(self, template: _Optional[_Union[Template, _Mapping]] = ...) -> None: ...

class ListFeaturedTemplatesRequest(_message.Message):
    __slots__ = ("page_size",)
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    def __init__(self, page_size: _Optional[int] = ...) -> None: ...

class ListFeaturedTemplatesResponse(_message.Message):
    __slots__ = ("curated", "most_used")
    CURATED_FIELD_NUMBER: _ClassVar[int]
    MOST_USED_FIELD_NUMBER: _ClassVar[int]
    curated: _containers.RepeatedCompositeFieldContainer[Template]
    most_used: _containers.RepeatedCompositeFieldContainer[Template]
    def __init__(self, curated: _Optional[_Iterable[_Union[Template, _Mapping]]] = ..., most_used: _Optional[_Iterable[_Union[Template, _Mapping]]] = ...) -> None: ...

class ListTemplateCategoriesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TemplateSubcategory(_message.Message):
    __slots__ = ("slug", "name", "count")
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    slug: str
    name: str
    count: int
    def __init__(self, slug: _Optional[str] = ..., name: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class TemplateCategory(_message.Message):
    __slots__ = ("slug", "name", "description", "icon", "count", "subcategories")
    SLUG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ICON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SUBCATEGORIES_FIELD_NUMBER: _ClassVar[int]
    slug: str
    name: str
    description: str
    icon: str
    count: int
    subcategories: _containers.RepeatedCompositeFieldContainer[TemplateSubcategory]
    def __init__(self, slug: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., icon: _Optional[str] = ..., count: _Optional[int] = ..., subcategories: _Optional[_Iterable[_Union[TemplateSubcategory, _Mapping]]] = ...) -> None: ...

class ListTemplateCategoriesResponse(_message.Message):
    __slots__ = ("categories",)
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    categories: _containers.RepeatedCompositeFieldContainer[TemplateCategory]
    def __init__(self, categories: _Optional[_Iterable[_Union[TemplateCategory, _Mapping]]] = ...) -> None: ...

class SearchTemplatesRequest(_message.Message):
    __slots__ = ("query", "category", "page_size")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    query: str
    category: str
    page_size: int
    def __init__(self, query: _Optional[str] = ..., category: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class ScoredTemplate(_message.Message):
    __slots__ = ("template", "score", "reason")
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    template: Template
    score: float
    reason: str
    def __init__(self, template: _Optional[_Union[Template, _Mapping]] = ..., score: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...

class SearchTemplatesResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ScoredTemplate]
    def __init__(self, results: _Optional[_Iterable[_Union[ScoredTemplate, _Mapping]]] = ...) -> None: ...

class PreviewTemplateRequest(_message.Message):
    __slots__ = ("id", "event", "overrides", "wait_outcomes")
    class OverridesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    class WaitOutcomesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    WAIT_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    id: str
    event: _events_pb2.Event
    overrides: _containers.MessageMap[str, _struct_pb2.Value]
    wait_outcomes: _containers.ScalarMap[str, str]
    def __init__(self, id: _Optional[str] = ..., event: _Optional[_Union[_events_pb2.Event, _Mapping]] = ..., overrides: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., wait_outcomes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PreviewTemplateResponse(_message.Message):
    __slots__ = ("would_start", "reason", "steps", "workflow")
    WOULD_START_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_FIELD_NUMBER: _ClassVar[int]
    would_start: bool
    reason: str
    steps: _containers.RepeatedCompositeFieldContainer[_automation_pb2.TestStep]
    workflow: _workflow_pb2.Workflow
    def __init__(self, would_start: _Optional[bool] = ..., reason: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[_automation_pb2.TestStep, _Mapping]]] = ..., workflow: _Optional[_Union[_workflow_pb2.Workflow, _Mapping]] = ...) -> None: ...

class ActivateTemplateRequest(_message.Message):
    __slots__ = ("id", "name", "inactive")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    inactive: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., inactive: _Optional[bool] = ...) -> None: ...

class ActivateTemplateResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: _automation_pb2.Automation
    def __init__(self, automation: _Optional[_Union[_automation_pb2.Automation, _Mapping]] = ...) -> None: ...

class CustomizeTemplateRequest(_message.Message):
    __slots__ = ("id", "overrides", "name", "active")
    class OverridesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    overrides: _containers.MessageMap[str, _struct_pb2.Value]
    name: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., overrides: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., name: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class CustomizeTemplateResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: _automation_pb2.Automation
    def __init__(self, automation: _Optional[_Union[_automation_pb2.Automation, _Mapping]] = ...) -> None: ...

class RateTemplateRequest(_message.Message):
    __slots__ = ("id", "rating", "review")
    ID_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    id: str
    rating: int
    review: str
    def __init__(self, id: _Optional[str] = ..., rating: _Optional[int] = ..., review: _Optional[str] = ...) -> None: ...

class RateTemplateResponse(_message.Message):
    __slots__ = ("rating", "average", "count")
    RATING_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    rating: int
    average: float
    count: int
    def __init__(self, rating: _Optional[int] = ..., average: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class ListSimilarTemplatesRequest(_message.Message):
    __slots__ = ("id", "page_size")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    id: str
    page_size: int
    def __init__(self, id: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListSimilarTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[ScoredTemplate]
    def __init__(self, templates: _Optional[_Iterable[_Union[ScoredTemplate, _Mapping]]] = ...) -> None: ...

class ListTemplateRecommendationsRequest(_message.Message):
    __slots__ = ("page_size",)
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    def __init__(self, page_size: _Optional[int] = ...) -> None: ...

class ListTemplateRecommendationsResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[ScoredTemplate]
    def __init__(self, templates: _Optional[_Iterable[_Union[ScoredTemplate, _Mapping]]] = ...) -> None: ...

class SaveAsTemplateRequest(_message.Message):
    __slots__ = ("id", "name", "description", "category", "subcategory", "industry", "tags")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SUBCATEGORY_FIELD_NUMBER: _ClassVar[int]
    INDUSTRY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    category: str
    subcategory: str
    industry: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., category: _Optional[str] = ..., subcategory: _Optional[str] = ..., industry: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class SaveAsTemplateResponse(_message.Message):
    __slots__ = ("template",)
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    template: Template
    def __init__(self, template: _Optional[_Union[Template, _Mapping]] = ...) -> None: ...

class CreateFromTemplateRequest(_message.Message):
    __slots__ = ("id", "overrides", "name", "active")
    class OverridesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    overrides: _containers.MessageMap[str, _struct_pb2.Value]
    name: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., overrides: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., name: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class CreateFromTemplateResponse(_message.Message):
    __slots__ = ("automation",)
    AUTOMATION_FIELD_NUMBER: _ClassVar[int]
    automation: _automation_pb2.Automation
    def __init__(self, automation: _Optional[_Union[_automation_pb2.Automation, _Mapping]] = ...) -> None: ...
