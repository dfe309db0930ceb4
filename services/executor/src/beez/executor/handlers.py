"""ExecutionService over gRPC: requests to calls of :mod:`beez.executor.service`, its values to protos."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from google.protobuf import struct_pb2

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.api.executor.v1.executor_pb2 import ExecutionStatus as ExecutionStatusProto
from beez.api.executor.v1.executor_pb2 import StepStatus as StepStatusProto
from beez.executor.domain import ExecutionFilter, ExecutionView, ScheduledWork, StepView
from beez.executor.messages import timestamp
from beez.executor.org_limits import LimitsView, OrganizationLimitsService
from beez.executor.service import ExecutionService, page_of
from beez.executor.signing.store import DEFAULT_OVERLAP, MAX_OVERLAP, SigningKey, SigningSecrets
from beez.kit.clock import Clock
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, require
from beez.kit.grpc.fields import time_range
from beez.kit.grpc.identity import current_identity
from beez.workflow.model import plain
from beez.workflow.status import ExecutionStatus, StepStatus

EXECUTION_STATUS = {
    ExecutionStatus.PENDING: ExecutionStatusProto.EXECUTION_STATUS_PENDING,
    ExecutionStatus.QUEUED: ExecutionStatusProto.EXECUTION_STATUS_QUEUED,
    ExecutionStatus.RUNNING: ExecutionStatusProto.EXECUTION_STATUS_RUNNING,
    ExecutionStatus.WAITING: ExecutionStatusProto.EXECUTION_STATUS_WAITING,
    ExecutionStatus.COMPLETED: ExecutionStatusProto.EXECUTION_STATUS_COMPLETED,
    ExecutionStatus.FAILED: ExecutionStatusProto.EXECUTION_STATUS_FAILED,
    ExecutionStatus.CANCELLED: ExecutionStatusProto.EXECUTION_STATUS_CANCELLED,
}
STATUS_NAMES = {value: status for status, value in EXECUTION_STATUS.items()}
STEP_STATUS = {
    StepStatus.RUNNING: StepStatusProto.STEP_STATUS_RUNNING,
    StepStatus.SUCCEEDED: StepStatusProto.STEP_STATUS_SUCCEEDED,
    StepStatus.FAILED: StepStatusProto.STEP_STATUS_FAILED,
    StepStatus.SKIPPED: StepStatusProto.STEP_STATUS_SKIPPED,
    StepStatus.WAITING: StepStatusProto.STEP_STATUS_WAITING,
}


def execution_proto(execution: ExecutionView) -> executor_pb2.Execution:
    """An execution as the API shows it (see :class:`~beez.executor.domain.ExecutionView`)."""
    message = executor_pb2.Execution(
        id=execution.id,
        automation_id=execution.automation_id,
        automation_version=execution.automation_version,
        contact_id=execution.contact_id,
        status=EXECUTION_STATUS[execution.status],
        trigger_event_id=execution.trigger_event_id,
        create_time=timestamp(execution.created_at),
        current_step=execution.current_step,
        error=execution.error,
        queue_wait_ms=execution.queue_wait_ms,
        converted=execution.converted,
        steps=[step_proto(step) for step in execution.steps],
        steps_run=execution.steps_run,
        messages_sent=execution.messages_sent,
    )
    if execution.started_at is not None:
        message.start_time.CopyFrom(timestamp(execution.started_at))
    if execution.finished_at is not None:
        message.end_time.CopyFrom(timestamp(execution.finished_at))
    return message


def step_proto(step: StepView) -> executor_pb2.StepLog:
    result = struct_pb2.Struct()
    result.update(plain(step.result))
    message = executor_pb2.StepLog(
        step_id=step.step_id,
        type=step.type,
        path=step.path,
        status=STEP_STATUS[step.status],
        attempt=step.attempt,
        started_at=timestamp(step.started_at),
        duration_ms=step.duration_ms,
        result=result,
        error=step.error,
        error_category=step.error_category,
        idempotency_key=step.idempotency_key,
    )
    if step.finished_at is not None:
        message.finished_at.CopyFrom(timestamp(step.finished_at))
    return message


def signing_key_proto(key: SigningKey) -> executor_pb2.WebhookSigningKey:
    message = executor_pb2.WebhookSigningKey(
        key_id=key.key_id, created_at=timestamp(key.created_at), current=key.current
    )
    if key.expires_at is not None:
        message.expires_at.CopyFrom(timestamp(key.expires_at))
    return message


def scheduled_proto(work: ScheduledWork) -> executor_pb2.ScheduledWork:
    return executor_pb2.ScheduledWork(
        id=work.id,
        execution_id=work.execution_id,
        automation_id=work.automation_id,
        contact_id=work.contact_id,
        kind=work.kind,
        due_at=timestamp(work.due_at),
        step_id=work.step_id,
    )


def limits_proto(view: LimitsView) -> executor_pb2.OrganizationLimits:
    """An organization's caps as the API shows them."""
    return executor_pb2.OrganizationLimits(
        max_steps_per_execution=view.effective.max_steps,
        max_messages_per_execution=view.effective.max_messages,
        default_max_steps_per_execution=view.defaults.max_steps,
        default_max_messages_per_execution=view.defaults.max_messages,
    )


class ExecutionServicer(executor_pb2_grpc.ExecutionServiceServicer):
    """The gRPC face of :class:`ExecutionService`."""

    def __init__(
        self,
        service: ExecutionService,
        signing: SigningSecrets,
        clock: Clock,
        limits: OrganizationLimitsService,
    ) -> None:
        self._service = service
        self._signing = signing
        self._clock = clock
        self._limits = limits

    async def ListExecutions(
        self, request: executor_pb2.ListExecutionsRequest, context: Any
    ) -> executor_pb2.ListExecutionsResponse:
        require(automation_id=request.automation_id)
        page = page_of(request.page_size, request.page_token)
        where = ExecutionFilter(current_identity().org_id, automation_id=request.automation_id)
        found = await self._service.find(where, page)
        return executor_pb2.ListExecutionsResponse(
            executions=[execution_proto(execution) for execution in found.executions],
            next_page_token=found.next_token,
        )

    async def GetExecution(
        self, request: executor_pb2.GetExecutionRequest, context: Any
    ) -> executor_pb2.GetExecutionResponse:
        require(execution_id=request.execution_id)
        execution = await self._service.get(
            current_identity().org_id, request.execution_id, request.automation_id
        )
        return executor_pb2.GetExecutionResponse(execution=execution_proto(execution))

    async def SearchExecutions(
        self, request: executor_pb2.SearchExecutionsRequest, context: Any
    ) -> executor_pb2.SearchExecutionsResponse:
        require(automation_id=request.automation_id)
        violations = []
        statuses = []
        for index, status in enumerate(request.statuses):
            name = STATUS_NAMES.get(status)
            if name is None:
                violations.append(FieldViolation(f"statuses[{index}]", "is not an execution status"))
            else:
                statuses.append(name)
        start, end = time_range(request, violations)
        if violations:
            raise InvalidArgument("invalid search", violations)
        page = page_of(request.page_size, request.page_token)
        where = ExecutionFilter(
            current_identity().org_id,
            automation_id=request.automation_id,
            contact_id=request.contact_id or None,
            statuses=tuple(dict.fromkeys(statuses)),
            created_from=start,
            created_to=end,
        )
        found = await self._service.find(where, page)
        return executor_pb2.SearchExecutionsResponse(
            executions=[execution_proto(execution) for execution in found.executions],
            next_page_token=found.next_token,
        )

    async def CancelExecution(
        self, request: executor_pb2.CancelExecutionRequest, context: Any
    ) -> executor_pb2.CancelExecutionResponse:
        require(execution_id=request.execution_id)
        execution = await self._service.cancel(
            current_identity().org_id, request.execution_id, request.reason
        )
        return executor_pb2.CancelExecutionResponse(execution=execution_proto(execution))

    async def RetryExecution(
        self, request: executor_pb2.RetryExecutionRequest, context: Any
    ) -> executor_pb2.RetryExecutionResponse:
        require(execution_id=request.execution_id)
        execution = await self._service.retry(current_identity().org_id, request.execution_id)
        return executor_pb2.RetryExecutionResponse(execution=execution_proto(execution))

    async def ListScheduled(
        self, request: executor_pb2.ListScheduledRequest, context: Any
    ) -> executor_pb2.ListScheduledResponse:
        page = page_of(request.page_size, request.page_token)
        found = await self._service.scheduled(current_identity().org_id, request.automation_id, page)
        return executor_pb2.ListScheduledResponse(
            scheduled=[scheduled_proto(work) for work in found.scheduled], next_page_token=found.next_token
        )

    async def CancelScheduled(
        self, request: executor_pb2.CancelScheduledRequest, context: Any
    ) -> executor_pb2.CancelScheduledResponse:
        require(id=request.id)
        await self._service.cancel_scheduled(current_identity().org_id, request.id)
        return executor_pb2.CancelScheduledResponse()

    async def GetContactHistory(
        self, request: executor_pb2.GetContactHistoryRequest, context: Any
    ) -> executor_pb2.GetContactHistoryResponse:
        require(contact_id=request.contact_id)
        page = page_of(request.page_size, request.page_token)
        where = ExecutionFilter(current_identity().org_id, contact_id=request.contact_id)
        found = await self._service.find(where, page)
        return executor_pb2.GetContactHistoryResponse(
            executions=[execution_proto(execution) for execution in found.executions],
            next_page_token=found.next_token,
        )

    async def RotateWebhookSigningSecret(
        self, request: executor_pb2.RotateWebhookSigningSecretRequest, context: Any
    ) -> executor_pb2.RotateWebhookSigningSecretResponse:
        if not 0 <= request.overlap_seconds <= MAX_OVERLAP.total_seconds():
            raise InvalidArgument(
                "invalid rotation",
                [
                    FieldViolation(
                        "overlap_seconds", f"must be between 0 and {int(MAX_OVERLAP.total_seconds())}"
                    )
                ],
            )
        overlap = timedelta(seconds=request.overlap_seconds) if request.overlap_seconds else DEFAULT_OVERLAP
        key, secret = await self._signing.rotate(current_identity().org_id, self._clock.now(), overlap)
        return executor_pb2.RotateWebhookSigningSecretResponse(key=signing_key_proto(key), secret=secret)

    async def ListWebhookSigningKeys(
        self, request: executor_pb2.ListWebhookSigningKeysRequest, context: Any
    ) -> executor_pb2.ListWebhookSigningKeysResponse:
        keys = await self._signing.keys(current_identity().org_id, self._clock.now())
        return executor_pb2.ListWebhookSigningKeysResponse(keys=[signing_key_proto(key) for key in keys])

    async def GetOrganizationLimits(
        self, request: executor_pb2.GetOrganizationLimitsRequest, context: Any
    ) -> executor_pb2.GetOrganizationLimitsResponse:
        view = await self._limits.get(current_identity().org_id)
        return executor_pb2.GetOrganizationLimitsResponse(limits=limits_proto(view))

    async def SetOrganizationLimits(
        self, request: executor_pb2.SetOrganizationLimitsRequest, context: Any
    ) -> executor_pb2.SetOrganizationLimitsResponse:
        identity = current_identity()
        view = await self._limits.set(
            identity.org_id,
            identity.user_id or "",
            request.max_steps_per_execution,
            request.max_messages_per_execution,
            self._clock.now(),
        )
        return executor_pb2.SetOrganizationLimitsResponse(limits=limits_proto(view))
