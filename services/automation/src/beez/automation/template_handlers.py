"""``beez.api.automation.v1.TemplateService``: protobuf in, the template library's calls, protobuf out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2

from beez.api.automation.v1 import automation_pb2, templates_pb2, templates_pb2_grpc
from beez.automation.handlers import _struct as plain_struct
from beez.automation.handlers import automation_to_proto
from beez.automation.models import TemplateRow
from beez.automation.repository.templates import TemplateFilter
from beez.automation.template_service import TemplateService
from beez.kit.grpc.identity import current_identity
from beez.workflow.model import workflow_from_json

Context = Any

_SORTS = {
    templates_pb2.TEMPLATE_SORT_UNSPECIFIED: "popular",
    templates_pb2.TEMPLATE_SORT_POPULAR: "popular",
    templates_pb2.TEMPLATE_SORT_RATING: "rating",
    templates_pb2.TEMPLATE_SORT_NEWEST: "newest",
}


def _value(value: Any) -> struct_pb2.Value:
    message = struct_pb2.Value()
    json_format.ParseDict(value, message)
    return message


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    json_format.ParseDict(dict(value), message)
    return message


def _overrides(values: Mapping[str, struct_pb2.Value]) -> dict[str, Any]:
    return {path: json_format.MessageToDict(value) for path, value in values.items()}


def template_to_proto(row: TemplateRow) -> templates_pb2.Template:
    body = row.body
    message = templates_pb2.Template(
        id=row.id,
        name=row.name,
        description=row.description,
        category=row.category,
        subcategory=row.subcategory,
        industry=row.industry,
        tags=list(row.tags),
        difficulty=row.difficulty,
        setup_minutes=row.setup_minutes,
        featured=row.featured,
        personal=row.org_id is not None,
        integrations=list(row.integrations),
        workflow=workflow_from_json(body["workflow"]),
        customizable=[
            templates_pb2.CustomizableField(
                path=item["path"],
                label=item["label"],
                type=item["type"],
                default_value=_value(item["default"]),
                validation=_struct(item.get("validation") or {}),
            )
            for item in body.get("customizable", [])
        ],
        sample=_struct(body.get("sample") or {}),
        rating=round(row.rating_sum / row.rating_count, 2) if row.rating_count else 0.0,
        rating_count=row.rating_count,
        usage_count=row.usage_count,
        view_count=row.view_count,
    )
    message.create_time.FromDatetime(row.create_time)
    message.update_time.FromDatetime(row.update_time)
    return message


def _scored(items: list[tuple[TemplateRow, float, str]]) -> list[templates_pb2.ScoredTemplate]:
    return [
        templates_pb2.ScoredTemplate(template=template_to_proto(row), score=score, reason=reason)
        for row, score, reason in items
    ]


class TemplateServicer(templates_pb2_grpc.TemplateServiceServicer):
    """``beez.api.automation.v1.TemplateService``."""

    def __init__(self, service: TemplateService) -> None:
        self._service = service

    async def ListTemplates(
        self, request: templates_pb2.ListTemplatesRequest, context: Context
    ) -> templates_pb2.ListTemplatesResponse:
        where = TemplateFilter(
            category=request.category,
            subcategory=request.subcategory,
            industry=request.industry,
            tag=request.tag,
            integration=request.integration,
            difficulty=request.difficulty,
        )
        page = await self._service.list_templates(
            current_identity(),
            where,
            _SORTS.get(request.sort, "popular"),
            request.page_size,
            request.page_token,
        )
        return templates_pb2.ListTemplatesResponse(
            templates=[template_to_proto(row) for row in page.templates],
            next_page_token=page.next_page_token,
            total_size=page.total,
        )

    async def GetTemplate(
        self, request: templates_pb2.GetTemplateRequest, context: Context
    ) -> templates_pb2.GetTemplateResponse:
        row = await self._service.get(current_identity(), request.id)
        return templates_pb2.GetTemplateResponse(template=template_to_proto(row))

    async def ListFeaturedTemplates(
        self, request: templates_pb2.ListFeaturedTemplatesRequest, context: Context
    ) -> templates_pb2.ListFeaturedTemplatesResponse:
        curated, used = await self._service.featured(current_identity(), request.page_size)
        return templates_pb2.ListFeaturedTemplatesResponse(
            curated=[template_to_proto(row) for row in curated],
            most_used=[template_to_proto(row) for row in used],
        )

    async def ListTemplateCategories(
        self, request: templates_pb2.ListTemplateCategoriesRequest, context: Context
    ) -> templates_pb2.ListTemplateCategoriesResponse:
        return templates_pb2.ListTemplateCategoriesResponse(
            categories=[
                templates_pb2.TemplateCategory(
                    slug=item.category.slug,
                    name=item.category.name,
                    description=item.category.description,
                    icon=item.category.icon,
                    count=item.count,
                    subcategories=[
                        templates_pb2.TemplateSubcategory(slug=slug, name=name, count=count)
                        for slug, name, count in item.subcategories
                    ],
                )
                for item in await self._service.categories(current_identity())
            ]
        )

    async def SearchTemplates(
        self, request: templates_pb2.SearchTemplatesRequest, context: Context
    ) -> templates_pb2.SearchTemplatesResponse:
        found = await self._service.search(
            current_identity(), request.query, request.category, request.page_size
        )
        return templates_pb2.SearchTemplatesResponse(
            results=[
                templates_pb2.ScoredTemplate(template=template_to_proto(row), score=round(score, 4))
                for row, score in found
            ]
        )

    async def PreviewTemplate(
        self, request: templates_pb2.PreviewTemplateRequest, context: Context
    ) -> templates_pb2.PreviewTemplateResponse:
        result, workflow = await self._service.preview(
            current_identity(),
            request.id,
            request.event if request.HasField("event") else None,
            _overrides(request.overrides),
            dict(request.wait_outcomes),
        )
        return templates_pb2.PreviewTemplateResponse(
            would_start=result.would_start,
            reason=result.reason,
            steps=[
                automation_pb2.TestStep(
                    step_id=step.step_id,
                    type=step.type,
                    path=step.path,
                    outcome=step.outcome,
                    detail=plain_struct(step.detail),
                )
                for step in result.steps
            ],
            workflow=workflow,
        )

    async def ActivateTemplate(
        self, request: templates_pb2.ActivateTemplateRequest, context: Context
    ) -> templates_pb2.ActivateTemplateResponse:
        view = await self._service.create_from(
            current_identity(), request.id, {}, request.name, not request.inactive
        )
        return templates_pb2.ActivateTemplateResponse(automation=automation_to_proto(view))

    async def CustomizeTemplate(
        self, request: templates_pb2.CustomizeTemplateRequest, context: Context
    ) -> templates_pb2.CustomizeTemplateResponse:
        active = request.active if request.HasField("active") else True
        view = await self._service.create_from(
            current_identity(), request.id, _overrides(request.overrides), request.name, active
        )
        return templates_pb2.CustomizeTemplateResponse(automation=automation_to_proto(view))

    async def CreateFromTemplate(
        self, request: templates_pb2.CreateFromTemplateRequest, context: Context
    ) -> templates_pb2.CreateFromTemplateResponse:
        active = request.active if request.HasField("active") else True
        view = await self._service.create_from(
            current_identity(), request.id, _overrides(request.overrides), request.name, active
        )
        return templates_pb2.CreateFromTemplateResponse(automation=automation_to_proto(view))

    async def RateTemplate(
        self, request: templates_pb2.RateTemplateRequest, context: Context
    ) -> templates_pb2.RateTemplateResponse:
        rating, average, count = await self._service.rate(
            current_identity(), request.id, request.rating, request.review
        )
        return templates_pb2.RateTemplateResponse(rating=rating, average=round(average, 2), count=count)

    async def ListSimilarTemplates(
        self, request: templates_pb2.ListSimilarTemplatesRequest, context: Context
    ) -> templates_pb2.ListSimilarTemplatesResponse:
        found = await self._service.similar(current_identity(), request.id, request.page_size)
        return templates_pb2.ListSimilarTemplatesResponse(templates=_scored(found))

    async def ListTemplateRecommendations(
        self, request: templates_pb2.ListTemplateRecommendationsRequest, context: Context
    ) -> templates_pb2.ListTemplateRecommendationsResponse:
        found = await self._service.recommendations(current_identity(), request.page_size)
        return templates_pb2.ListTemplateRecommendationsResponse(templates=_scored(found))

    async def SaveAsTemplate(
        self, request: templates_pb2.SaveAsTemplateRequest, context: Context
    ) -> templates_pb2.SaveAsTemplateResponse:
        row = await self._service.save_as_template(
            current_identity(),
            request.id,
            name=request.name,
            description=request.description,
            category=request.category,
            subcategory=request.subcategory,
            industry=request.industry,
            tags=list(request.tags),
        )
        return templates_pb2.SaveAsTemplateResponse(template=template_to_proto(row))
