"""DeadLetterService over gRPC: requests to calls of :mod:`beez.executor.dlq.service`, rows to protos."""

from __future__ import annotations

from typing import Any, Protocol, cast

from google.protobuf.message import Message

from beez.api.executor.v1 import dead_letters_pb2, dead_letters_pb2_grpc
from beez.api.executor.v1.dead_letters_pb2 import DeadLetterState
from beez.executor.dlq.domain import Category, DeadLetterFilter, State, masked_headers, shown_payload
from beez.executor.dlq.service import DEFAULT_REDRIVE_BATCH, MAX_REDRIVE_BATCH, DeadLetters
from beez.executor.messages import timestamp
from beez.executor.models import BusDeadLetter
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, require
from beez.kit.grpc.fields import time_range
from beez.kit.grpc.identity import current_identity
from beez.kit.paging import decode_moment_key, read_page, scope_of

STATES = {
    State.DEAD: DeadLetterState.DEAD_LETTER_STATE_DEAD,
    State.REDRIVEN: DeadLetterState.DEAD_LETTER_STATE_REDRIVEN,
}
STATE_NAMES = {value: state for state, value in STATES.items()}
CATEGORIES = frozenset(category.value for category in Category)


class _Filtered(Protocol):
    consumer: str
    error_category: str


def dead_letter_proto(row: BusDeadLetter, *, full: bool = False) -> dead_letters_pb2.DeadLetter:
    """A dead letter as the API shows it; ``full`` adds its headers and payload, masked."""
    message = dead_letters_pb2.DeadLetter(
        id=row.id,
        consumer=row.consumer,
        subject=row.subject,
        stream=row.stream,
        stream_sequence=row.stream_seq,
        deliveries=row.deliveries,
        error=row.error,
        error_category=row.error_category,
        dead_lettered_at=timestamp(row.dead_lettered_at),
        state=STATES[State(row.state)],
        redrive_count=row.redrive_count,
        payload_size=len(row.payload),
    )
    if row.redriven_at is not None:
        message.redriven_at.CopyFrom(timestamp(row.redriven_at))
    if full:
        message.headers.update(masked_headers(row.headers))
        message.payload = shown_payload(bytes(row.payload), row.headers)
    return message


def read_filter(request: Message, state: int = 0) -> DeadLetterFilter:
    """The caller's organization and the request's filter; INVALID_ARGUMENT naming bad fields."""
    filtered = cast(_Filtered, request)
    violations: list[FieldViolation] = []
    if filtered.error_category and filtered.error_category not in CATEGORIES:
        violations.append(FieldViolation("error_category", f"must be one of {', '.join(sorted(CATEGORIES))}"))
    since, before = time_range(request, violations)
    if state and state not in STATE_NAMES:
        violations.append(FieldViolation("state", "is not a dead letter state"))
    if violations:
        raise InvalidArgument("invalid dead letter filter", violations)
    return DeadLetterFilter(
        current_identity().org_id,
        consumer=filtered.consumer,
        error_category=filtered.error_category,
        since=since,
        before=before,
        state=STATE_NAMES.get(state),  # type: ignore[call-overload]
    )


class DeadLetterServicer(dead_letters_pb2_grpc.DeadLetterServiceServicer):
    """The gRPC face of :class:`~beez.executor.dlq.service.DeadLetters`."""

    def __init__(self, dead_letters: DeadLetters) -> None:
        self._dead_letters = dead_letters

    async def ListDeadLetters(
        self, request: dead_letters_pb2.ListDeadLettersRequest, context: Any
    ) -> dead_letters_pb2.ListDeadLettersResponse:
        where = read_filter(request, request.state)
        scope = scope_of(*where.scope())
        page = read_page(
            request.page_size, request.page_token, decode=lambda token: decode_moment_key(token, scope)
        )
        found = await self._dead_letters.find(where, page)
        return dead_letters_pb2.ListDeadLettersResponse(
            dead_letters=[dead_letter_proto(row) for row in found.dead_letters],
            next_page_token=found.next_token,
        )

    async def GetDeadLetter(
        self, request: dead_letters_pb2.GetDeadLetterRequest, context: Any
    ) -> dead_letters_pb2.GetDeadLetterResponse:
        require(id=request.id)
        row = await self._dead_letters.get(current_identity().org_id, request.id)
        return dead_letters_pb2.GetDeadLetterResponse(dead_letter=dead_letter_proto(row, full=True))

    async def RedriveDeadLetter(
        self, request: dead_letters_pb2.RedriveDeadLetterRequest, context: Any
    ) -> dead_letters_pb2.RedriveDeadLetterResponse:
        require(id=request.id)
        row, sent = await self._dead_letters.redrive(current_identity().org_id, request.id)
        return dead_letters_pb2.RedriveDeadLetterResponse(dead_letter=dead_letter_proto(row), redriven=sent)

    async def RedriveDeadLetters(
        self, request: dead_letters_pb2.RedriveDeadLettersRequest, context: Any
    ) -> dead_letters_pb2.RedriveDeadLettersResponse:
        if not 0 <= request.limit <= MAX_REDRIVE_BATCH:
            raise InvalidArgument(
                "invalid re-drive", [FieldViolation("limit", f"must be between 0 and {MAX_REDRIVE_BATCH}")]
            )
        where = read_filter(request)
        done = await self._dead_letters.redrive_matching(where, request.limit or DEFAULT_REDRIVE_BATCH)
        return dead_letters_pb2.RedriveDeadLettersResponse(redriven=done.redriven, remaining=done.remaining)

    async def PurgeDeadLetters(
        self, request: dead_letters_pb2.PurgeDeadLettersRequest, context: Any
    ) -> dead_letters_pb2.PurgeDeadLettersResponse:
        purged = await self._dead_letters.purge(read_filter(request, request.state), request.id)
        return dead_letters_pb2.PurgeDeadLettersResponse(purged=purged)
