"""ActionService over gRPC: requests to calls of :mod:`.service`, results to protos."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import struct_pb2

from beez.api.executor.v1 import actions_pb2, actions_pb2_grpc
from beez.executor.builder.service import ActionTools
from beez.executor.messages import timestamp
from beez.kit.clock import Clock
from beez.kit.grpc.errors import require
from beez.kit.grpc.identity import current_identity
from beez.workflow.model import struct_to_dict


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


class ActionServicer(actions_pb2_grpc.ActionServiceServicer):
    """The builder's action tools and provider message lookups, for the caller's organization."""

    def __init__(self, tools: ActionTools, clock: Clock) -> None:
        self.tools = tools
        self.clock = clock

    async def ListActionCategories(
        self, request: actions_pb2.ListActionCategoriesRequest, context: grpc.aio.ServicerContext
    ) -> actions_pb2.ListActionCategoriesResponse:
        return actions_pb2.ListActionCategoriesResponse(
            categories=[
                actions_pb2.ActionCategory(category=c.category, name=c.name, count=c.count)
                for c in self.tools.categories()
            ]
        )

    async def ValidateAction(
        self, request: actions_pb2.ValidateActionRequest, context: grpc.aio.ServicerContext
    ) -> actions_pb2.ValidateActionResponse:
        issues = self.tools.validate(request.action)
        return actions_pb2.ValidateActionResponse(
            valid=not issues,
            issues=[actions_pb2.ActionIssue(field=i.field, description=i.description) for i in issues],
        )

    async def TestAction(
        self, request: actions_pb2.TestActionRequest, context: grpc.aio.ServicerContext
    ) -> actions_pb2.TestActionResponse:
        outcome = await self.tools.test(
            current_identity().org_id,
            request.action,
            request.contact if request.HasField("contact") else None,
            request.event if request.HasField("event") else None,
            struct_to_dict(request.vars),
            self.clock.now(),
        )
        response = actions_pb2.TestActionResponse(
            type=outcome.type,
            config=_struct(outcome.config),
            skipped_reason=outcome.skipped_reason,
            events=outcome.events,
        )
        if outcome.vars:
            response.vars.CopyFrom(_struct(outcome.vars))
        if outcome.request is not None:
            shown = outcome.request
            response.request.CopyFrom(
                actions_pb2.PreviewedRequest(
                    kind=shown.kind,
                    method=shown.method,
                    url=shown.url,
                    headers=shown.headers,
                    body=shown.body,
                    details=_struct(shown.details),
                )
            )
        for subject, command in outcome.commands:
            response.commands.append(actions_pb2.PreviewedCommand(subject=subject, command=command))
        return response

    async def GetProviderMessage(
        self, request: actions_pb2.GetProviderMessageRequest, context: grpc.aio.ServicerContext
    ) -> actions_pb2.GetProviderMessageResponse:
        require(provider=request.provider, provider_message_id=request.provider_message_id)
        row = await self.tools.provider_message(
            current_identity().org_id, request.provider, request.provider_message_id
        )
        return actions_pb2.GetProviderMessageResponse(
            message=actions_pb2.ProviderMessage(
                provider=row.provider,
                provider_message_id=row.provider_message_id,
                execution_id=row.execution_id,
                automation_id=row.automation_id,
                step_id=row.step_id,
                step_path=row.step_path,
                contact_id=row.contact_id,
                sent_at=timestamp(row.sent_at),
            )
        )
