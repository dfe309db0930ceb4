"""ExecutionService over gRPC: requests to calls of :mod:`beez.executor.service`, rows to protos."""

from __future__ import annotations

from datetime import UTC as _UTC
from typing import Any

from google.protobuf import struct_pb2

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.executor import repository
from beez.executor.messages import timestamp
from beez.executor.models import Execution, ExecutionStep
from beez.executor.service import ExecutionService, page_of, require
from beez.kit.grpc.errors import FieldViolation, InvalidArgument
from beez.kit.grpc.identity import current_identity
from beez.workflow.model import plain

E = executor_pb2

EXECUTION_STATUS = {
    "pending": E.EXECUTION_STATUS_PENDING,
    "queued": E.EXECUTION_STATUS_QUEUED,
    "running": E.EXECUTION_STATUS_RUNNING,
    "waiting": E.EXECUTION_STATUS_WAITING,
    "completed": E.EXECUTION_STATUS_COMPLETED,
    "failed": E.EXECUTION_STATUS_FAILED,
    "cancelled": E.EXECUTION_STATUS_CANCELLED,
}
STATUS_NAMES = {value: name for name, value in EXECUTION_STATUS.items()}
STEP_STATUS = {
    "running": E.STEP_STATUS_RUNNING,
    "succeeded": E.STEP_STATUS_SUCCEEDED,
    "failed": E.STEP_STATUS_FAILED,
    "skipped": E.STEP_STATUS_SKIPPED,
    "waiting": E.STEP_STATUS_WAITING,
}


def execution_proto(ex: Execution, steps: list[ExecutionStep] | None = None) -> executor_pb2.Execution:
    """An execution as the API shows it; ``current_step`` is its position (``"3.timeout.0"``),
    empty once it completed or was cancelled, and the failed step's position after a failure."""
    message = E.Execution(
        id=ex.id,
        automation_id=ex.automation_id,
        automation_version=ex.automation_version,
        contact_id=ex.contact_id,
        status=EXECUTION_STATUS[ex.status],
        trigger_event_id=ex.trigger_event_id,
        create_time=timestamp(ex.created_at),
        current_step=ex.position or "",
        error=ex.error or "",
        queue_wait_ms=ex.queue_wait_ms or 0,
        converted=ex.converted,
        steps=[step_proto(step) for step in steps or []],
    )
    if ex.started_at is not None:
        message.start_time.CopyFrom(timestamp(ex.started_at))
    if ex.finished_at is not None:
        message.end_time.CopyFrom(timestamp(ex.finished_at))
    return message


def step_proto(step: ExecutionStep) -> executor_pb2.StepLog:
    result = struct_pb2.Struct()
    result.update(plain(step.result or {}))
    message = E.StepLog(
        step_id=step.step_id,
        type=step.type,
        path=step.path,
        status=STEP_STATUS[step.status],
        attempt=step.attempt,
        started_at=timestamp(step.started_at),
        duration_ms=step.duration_ms or 0,
        result=result,
        error=step.error or "",
        error_category=step.error_category or "",
        idempotency_key=step.idempotency_key,
    )
    if step.finished_at is not None:
        message.finished_at.CopyFrom(timestamp(step.finished_at))
    return message


def scheduled_proto(row: repository.ScheduledRow) -> executor_pb2.ScheduledWork:
    timer = row.timer
    return E.ScheduledWork(
        id=timer.id,
        execution_id=timer.execution_id,
        automation_id=row.automation_id,
        contact_id=row.contact_id,
        kind=timer.kind,
        due_at=timestamp(timer.due_at),
        step_id=timer.step_id,
    )


class ExecutionServicer(executor_pb2_grpc.ExecutionServiceServicer):
    """The gRPC face of :class:`ExecutionService`."""

    def __init__(self, service: ExecutionService) -> None:
        self._service = service

    async def ListExecutions(
        self, request: executor_pb2.ListExecutionsRequest, context: Any
    ) -> executor_pb2.ListExecutionsResponse:
        require(automation_id=request.automation_id)
        page = page_of(request.page_size, request.page_token)
        where = repository.ExecutionFilter(current_identity().org_id, automation_id=request.automation_id)
        found = await self._service.find(where, page)
        return E.ListExecutionsResponse(
            executions=[execution_proto(ex) for ex in found.executions], next_page_token=found.next_token
        )

    async def GetExecution(
        self, request: executor_pb2.GetExecutionRequest, context: Any
    ) -> executor_pb2.GetExecutionResponse:
        require(execution_id=request.execution_id)
        detail = await self._service.get(
            current_identity().org_id, request.execution_id, request.automation_id
        )
        return E.GetExecutionResponse(execution=execution_proto(detail.execution, detail.steps))

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
        start = request.start_time.ToDatetime(tzinfo=_UTC) if request.HasField("start_time") else None
        end = request.end_time.ToDatetime(tzinfo=_UTC) if request.HasField("end_time") else None
        if start is not None and end is not None and end <= start:
            violations.append(FieldViolation("end_time", "must be after start_time"))
        if violations:
            raise InvalidArgument("invalid search", violations)
        page = page_of(request.page_size, request.page_token)
        where = repository.ExecutionFilter(
            current_identity().org_id,
            automation_id=request.automation_id,
            contact_id=request.contact_id or None,
            statuses=tuple(dict.fromkeys(statuses)),
            created_from=start,
            created_to=end,
        )
        found = await self._service.find(where, page)
        return E.SearchExecutionsResponse(
            executions=[execution_proto(ex) for ex in found.executions], next_page_token=found.next_token
        )

    async def CancelExecution(
        self, request: executor_pb2.CancelExecutionRequest, context: Any
    ) -> executor_pb2.CancelExecutionResponse:
        require(execution_id=request.execution_id)
        ex = await self._service.cancel(current_identity().org_id, request.execution_id, request.reason)
        return E.CancelExecutionResponse(execution=execution_proto(ex))

    async def RetryExecution(
        self, request: executor_pb2.RetryExecutionRequest, context: Any
    ) -> executor_pb2.RetryExecutionResponse:
        require(execution_id=request.execution_id)
        ex = await self._service.retry(current_identity().org_id, request.execution_id)
        return E.RetryExecutionResponse(execution=execution_proto(ex))

    async def ListScheduled(
        self, request: executor_pb2.ListScheduledRequest, context: Any
    ) -> executor_pb2.ListScheduledResponse:
        page = page_of(request.page_size, request.page_token)
        found = await self._service.scheduled(current_identity().org_id, request.automation_id, page)
        return E.ListScheduledResponse(
            scheduled=[scheduled_proto(row) for row in found.scheduled], next_page_token=found.next_token
        )

    async def CancelScheduled(
        self, request: executor_pb2.CancelScheduledRequest, context: Any
    ) -> executor_pb2.CancelScheduledResponse:
        require(id=request.id)
        await self._service.cancel_scheduled(current_identity().org_id, request.id)
        return E.CancelScheduledResponse()

    async def GetContactHistory(
        self, request: executor_pb2.GetContactHistoryRequest, context: Any
    ) -> executor_pb2.GetContactHistoryResponse:
        require(contact_id=request.contact_id)
        page = page_of(request.page_size, request.page_token)
        where = repository.ExecutionFilter(current_identity().org_id, contact_id=request.contact_id)
        found = await self._service.find(where, page)
        return E.GetContactHistoryResponse(
            executions=[execution_proto(ex) for ex in found.executions], next_page_token=found.next_token
        )
