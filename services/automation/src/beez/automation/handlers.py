"""gRPC servicers: protobuf in, the service's domain calls, protobuf out, nothing else.

Errors are the kit's ``ServiceError`` subclasses raised by the service; the server interceptor
turns them into statuses with ``BadRequest`` details. The caller's identity comes from the
interceptor too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc, catalog_pb2, catalog_pb2_grpc
from beez.automation.builder import BuilderService
from beez.automation.service import AutomationService, AutomationView, CatalogService, ListQuery
from beez.kit.grpc.errors import PermissionDenied
from beez.kit.grpc.identity import current_identity
from beez.kit.grpc.peers import peer_name
from beez.workflow.model import struct_to_dict

Context = Any
"""``grpc.aio.ServicerContext``; unused here, errors are raised and mapped by the interceptor."""


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(_plain(value))
    return struct


def _plain(value: Any) -> Any:
    """Tuples as lists and keys as text, as ``Struct.update`` wants them."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def automation_to_proto(view: AutomationView) -> automation_pb2.Automation:
    message = automation_pb2.Automation(
        id=view.id,
        workflow=view.workflow,
        active=view.active,
        version=view.version,
        create_time=_timestamp(view.create_time),
        update_time=_timestamp(view.update_time),
        created_by=view.created_by,
    )
    if view.stats is not None:
        stats = view.stats
        message.stats.CopyFrom(
            automation_pb2.AutomationStats(
                total=stats.total,
                succeeded=stats.succeeded,
                failed=stats.failed,
                cancelled=stats.cancelled,
                success_rate=stats.success_rate,
                duration_p50_ms=stats.duration_p50_ms,
                duration_p95_ms=stats.duration_p95_ms,
                duration_p99_ms=stats.duration_p99_ms,
            )
        )
    return message


class AutomationServicer(automation_pb2_grpc.AutomationServiceServicer):
    """``beez.api.automation.v1.AutomationService``."""

    def __init__(
        self,
        service: AutomationService,
        *,
        internal_callers: frozenset[str] = frozenset({"trigger"}),
        local_mode: bool = False,
    ) -> None:
        self._service = service
        self._internal_callers = internal_callers
        self._local_mode = local_mode

    async def CreateAutomation(
        self, request: automation_pb2.CreateAutomationRequest, context: Context
    ) -> automation_pb2.CreateAutomationResponse:
        active = request.active if request.HasField("active") else True
        view = await self._service.create(current_identity(), request.automation, active)
        return automation_pb2.CreateAutomationResponse(automation=automation_to_proto(view))

    async def GetAutomation(
        self, request: automation_pb2.GetAutomationRequest, context: Context
    ) -> automation_pb2.GetAutomationResponse:
        view = await self._service.get(current_identity(), request.id, request.version)
        return automation_pb2.GetAutomationResponse(automation=automation_to_proto(view))

    async def ListAutomations(
        self, request: automation_pb2.ListAutomationsRequest, context: Context
    ) -> automation_pb2.ListAutomationsResponse:
        query = ListQuery(
            active=request.active if request.HasField("active") else None,
            trigger_type=request.trigger_type,
            name=request.name,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await self._service.list_automations(current_identity(), query)
        return automation_pb2.ListAutomationsResponse(
            automations=[automation_to_proto(view) for view in page.automations],
            next_page_token=page.next_page_token,
        )

    async def UpdateAutomation(
        self, request: automation_pb2.UpdateAutomationRequest, context: Context
    ) -> automation_pb2.UpdateAutomationResponse:
        view = await self._service.update(current_identity(), request.id, request.automation)
        return automation_pb2.UpdateAutomationResponse(automation=automation_to_proto(view))

    async def DeleteAutomation(
        self, request: automation_pb2.DeleteAutomationRequest, context: Context
    ) -> automation_pb2.DeleteAutomationResponse:
        await self._service.delete(current_identity(), request.id)
        return automation_pb2.DeleteAutomationResponse()

    async def ToggleAutomation(
        self, request: automation_pb2.ToggleAutomationRequest, context: Context
    ) -> automation_pb2.ToggleAutomationResponse:
        active = request.active if request.HasField("active") else None
        view = await self._service.toggle(current_identity(), request.id, active)
        return automation_pb2.ToggleAutomationResponse(automation=automation_to_proto(view))

    async def CloneAutomation(
        self, request: automation_pb2.CloneAutomationRequest, context: Context
    ) -> automation_pb2.CloneAutomationResponse:
        view = await self._service.clone(current_identity(), request.id, request.name)
        return automation_pb2.CloneAutomationResponse(automation=automation_to_proto(view))

    async def TestAutomation(
        self, request: automation_pb2.TestAutomationRequest, context: Context
    ) -> automation_pb2.TestAutomationResponse:
        result = await self._service.test(
            current_identity(), request.id, request.event, dict(request.wait_outcomes)
        )
        return automation_pb2.TestAutomationResponse(
            would_start=result.would_start,
            reason=result.reason,
            steps=[
                automation_pb2.TestStep(
                    step_id=step.step_id,
                    type=step.type,
                    path=step.path,
                    outcome=step.outcome,
                    detail=_struct(step.detail),
                )
                for step in result.steps
            ],
        )

    async def ValidateAutomation(
        self, request: automation_pb2.ValidateAutomationRequest, context: Context
    ) -> automation_pb2.ValidateAutomationResponse:
        issues = await self._service.validate(current_identity(), request.automation)
        return automation_pb2.ValidateAutomationResponse(
            valid=not issues,
            issues=[automation_pb2.ValidationIssue(field=i.field, description=i.description) for i in issues],
        )

    async def ResyncAutomations(
        self, request: automation_pb2.ResyncAutomationsRequest, context: Context
    ) -> automation_pb2.ResyncAutomationsResponse:
        org_id: str | None = current_identity().org_id
        if request.all_organizations:
            self._require_internal(context)
            org_id = None
        return automation_pb2.ResyncAutomationsResponse(announced=await self._service.resync(org_id))

    def _require_internal(self, context: Context) -> None:
        """Only an internal caller (by its certificate; anyone in plaintext local mode) may act
        for every organization: the gateway, which carries users' calls, may not."""
        caller = peer_name(context)
        if caller in self._internal_callers or (caller is None and self._local_mode):
            return
        raise PermissionDenied("all_organizations is for internal callers only")


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    """``beez.api.automation.v1.CatalogService``."""

    def __init__(self, service: CatalogService, builder: BuilderService) -> None:
        self._service = service
        self._builder = builder

    async def ListTriggerCategories(
        self, request: catalog_pb2.ListTriggerCategoriesRequest, context: Context
    ) -> catalog_pb2.ListTriggerCategoriesResponse:
        return catalog_pb2.ListTriggerCategoriesResponse(
            categories=[
                catalog_pb2.TriggerCategory(category=item.category, name=item.name, count=item.count)
                for item in self._builder.categories()
            ]
        )

    async def ValidateTrigger(
        self, request: catalog_pb2.ValidateTriggerRequest, context: Context
    ) -> catalog_pb2.ValidateTriggerResponse:
        issues = self._builder.validate_trigger(request.trigger if request.HasField("trigger") else None)
        return catalog_pb2.ValidateTriggerResponse(
            valid=not issues,
            issues=[automation_pb2.ValidationIssue(field=i.field, description=i.description) for i in issues],
        )

    async def TestTrigger(
        self, request: catalog_pb2.TestTriggerRequest, context: Context
    ) -> catalog_pb2.TestTriggerResponse:
        tested = await self._builder.test_trigger(
            current_identity(),
            request.trigger if request.HasField("trigger") else None,
            request.automation_id,
            request.event if request.HasField("event") else None,
        )
        return catalog_pb2.TestTriggerResponse(
            fires=tested.fires,
            event_type=tested.event_type,
            reasons=[
                automation_pb2.ValidationIssue(field=i.field, description=i.description)
                for i in tested.reasons
            ],
        )

    async def EvaluateConditions(
        self, request: catalog_pb2.EvaluateConditionsRequest, context: Context
    ) -> catalog_pb2.EvaluateConditionsResponse:
        evaluation = self._builder.evaluate_conditions(
            list(request.conditions),
            struct_to_dict(request.data),
            request.now.ToDatetime(tzinfo=UTC) if request.HasField("now") else None,
        )
        return catalog_pb2.EvaluateConditionsResponse(
            result=evaluation.result,
            source=evaluation.source,
            error=evaluation.error,
            results=[
                catalog_pb2.ConditionResult(
                    field=part.path, result=part.result, source=part.source, error=part.error
                )
                for part in evaluation.parts
            ],
        )

    async def ListTriggerTypes(
        self, request: catalog_pb2.ListTriggerTypesRequest, context: Context
    ) -> catalog_pb2.ListTriggerTypesResponse:
        return catalog_pb2.ListTriggerTypesResponse(
            trigger_types=[
                catalog_pb2.TriggerType(
                    type=entry.type,
                    name=entry.name,
                    description=entry.description,
                    category=entry.category,
                    event=entry.event or "",
                )
                for entry in self._service.trigger_types(request.category)
            ]
        )

    async def GetTriggerTypeSchema(
        self, request: catalog_pb2.GetTriggerTypeSchemaRequest, context: Context
    ) -> catalog_pb2.GetTriggerTypeSchemaResponse:
        return catalog_pb2.GetTriggerTypeSchemaResponse(
            schema=_struct(self._service.trigger_schema(request.type))
        )

    async def ListActionTypes(
        self, request: catalog_pb2.ListActionTypesRequest, context: Context
    ) -> catalog_pb2.ListActionTypesResponse:
        return catalog_pb2.ListActionTypesResponse(
            action_types=[
                catalog_pb2.ActionType(
                    type=entry.type,
                    name=entry.name,
                    description=entry.description,
                    category=entry.category,
                    branches=list(entry.branches),
                )
                for entry in self._service.action_types(request.category)
            ]
        )

    async def GetActionTypeSchema(
        self, request: catalog_pb2.GetActionTypeSchemaRequest, context: Context
    ) -> catalog_pb2.GetActionTypeSchemaResponse:
        return catalog_pb2.GetActionTypeSchemaResponse(
            schema=_struct(self._service.action_schema(request.type))
        )

    async def ListConditionOperators(
        self, request: catalog_pb2.ListConditionOperatorsRequest, context: Context
    ) -> catalog_pb2.ListConditionOperatorsResponse:
        return catalog_pb2.ListConditionOperatorsResponse(
            operators=[
                catalog_pb2.ConditionOperator(
                    operator=entry.name, description=entry.description, value_types=list(entry.value_types)
                )
                for entry in self._service.operators()
            ]
        )
