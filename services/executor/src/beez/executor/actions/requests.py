"""The CRM verbs whose answer later steps need, sent by NATS request-reply (decision 0042).

``create_contact`` (the new contact's id) and ``export_contact_data`` (where the export is) send
their ``PlatformCommand`` as a core NATS request on ``platform.requests.<org>.<verb>``, a subject
no stream captures, and wait up to ``platform_request_timeout_s`` for the owner's typed
``PlatformReply``. The reply's fields become variables (:data:`~beez.workflow.effects_crm.REPLY_VARS`:
``vars.contact_id``; ``vars.export_id``, ``vars.export_url``) and the step's output.

The command's ``idempotency_key`` is the step's key WITHOUT the attempt number
(:func:`stable_key`), so every attempt of the step, and the re-run after a crash between the
request and the commit, is the same request: the owner answers a key it has seen with the same
result. A timeout, no responder, or an ``UNAVAILABLE`` reply is transient: the engine retries the
step on its timers (the step's retry policy) under that same key. ``INVALID`` and ``NOT_FOUND``
replies are permanent; the owner's message is the step's error.

These steps are not local (:func:`beez.executor.engine.attempts.is_local`): the request runs
outside the database transaction, like an HTTP call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from beez.api.messages.v1 import commands_crm_pb2, commands_pb2
from beez.executor.actions.base import ActionContext, ActionResult, PermanentError, TransientError
from beez.executor.actions.crm import effect_result
from beez.executor.actions.settings import ActionSettings
from beez.kit.bus.headers import CONTENT_TYPE, ORG_ID, PROTOBUF_CONTENT_TYPE
from beez.kit.bus.topology import Topology
from beez.kit.telemetry import inject_headers
from beez.workflow.effects_crm import CRM_EFFECTS, REPLY_VARS

__all__ = [
    "REQUEST_VERBS",
    "NatsRequester",
    "PlatformRequest",
    "Requester",
    "platform_requests",
    "stable_key",
]

REQUEST_VERBS = frozenset(REPLY_VARS)
"""The verbs sent by request-reply."""

_ATTEMPT = re.compile(r":attempt:\d+$")
_REPLY_TYPE = f"{PROTOBUF_CONTENT_TYPE}; type={commands_crm_pb2.PlatformReply.DESCRIPTOR.full_name}"
_COMMAND_TYPE = f"{PROTOBUF_CONTENT_TYPE}; type={commands_pb2.PlatformCommand.DESCRIPTOR.full_name}"


def stable_key(idempotency_key: str) -> str:
    """The step's key without ``:attempt:<n>``: the same for every attempt of the step."""
    return _ATTEMPT.sub("", idempotency_key)


class Requester(Protocol):
    """Sends one request and returns the reply's payload (raises nats' TimeoutError, NoRespondersError)."""

    async def request(
        self, subject: str, payload: bytes, headers: dict[str, str], timeout: float
    ) -> bytes: ...


class NatsRequester:
    """A :class:`Requester` on the service's NATS connection, which may not be up yet."""

    def __init__(self, connection: Callable[[], NATS | None]) -> None:
        self._connection = connection

    async def request(self, subject: str, payload: bytes, headers: dict[str, str], timeout: float) -> bytes:
        nc = self._connection()
        if nc is None or not nc.is_connected:
            raise TransientError("NATS is not connected", category="platform_unavailable")
        reply = await nc.request(subject, payload, timeout=timeout, headers=headers)
        return bytes(reply.data)


def _reply_error(reply: commands_crm_pb2.PlatformReply) -> Exception:
    error = reply.error
    message = error.message or commands_crm_pb2.ReplyErrorCode.Name(error.code)
    if error.code == commands_crm_pb2.REPLY_ERROR_CODE_INVALID:
        return PermanentError(f"the CRM refused it: {message}", category="platform_invalid")
    if error.code == commands_crm_pb2.REPLY_ERROR_CODE_NOT_FOUND:
        return PermanentError(f"the CRM has no such contact: {message}", category="platform_not_found")
    return TransientError(f"the CRM could not do it now: {message}", category="platform_unavailable")


class PlatformRequest:
    """One request-reply verb: its effect (:mod:`beez.workflow.effects_crm`) sent as a request."""

    def __init__(
        self, type_: str, settings: ActionSettings, topology: Topology, requester: Requester | None
    ) -> None:
        self.type = type_
        self._compute = CRM_EFFECTS[type_]
        self._settings = settings
        self._topology = topology
        self._requester = requester

    def command(self, ctx: ActionContext) -> ActionResult:
        """The step's command under its stable key, as the request carries it (no reply yet)."""
        result = effect_result(ctx, self._compute)
        command = result.commands[0]
        command.idempotency_key = stable_key(ctx.idempotency_key)
        return result

    async def preview(self, ctx: ActionContext) -> ActionResult:
        """The exact command the request would carry (ActionService.TestAction); nothing is sent."""
        return self.command(ctx)

    async def run(self, ctx: ActionContext) -> ActionResult:
        computed = self.command(ctx)
        command = computed.commands[0]
        if self._requester is None:
            raise TransientError("no NATS connection to send requests on", category="platform_unavailable")
        subject = self._topology.request(ctx.org_id, self.type)
        headers = inject_headers({ORG_ID: ctx.org_id, CONTENT_TYPE: _COMMAND_TYPE})
        timeout = self._settings.platform_request_timeout_s
        try:
            payload = await self._requester.request(subject, command.SerializeToString(), headers, timeout)
        except NatsTimeout:
            raise TransientError(
                f"the CRM did not answer {self.type} within {timeout:g} s", category="platform_timeout"
            ) from None
        except NoRespondersError:
            raise TransientError(
                f"nothing serves {self.type} requests", category="platform_unavailable"
            ) from None
        try:
            reply = commands_crm_pb2.PlatformReply.FromString(payload)
        except DecodeError as exc:
            raise TransientError(
                f"undecodable reply to {self.type}: {exc}", category="platform_reply"
            ) from None
        if reply.idempotency_key != command.idempotency_key:
            raise TransientError(
                f"the reply answers {reply.idempotency_key!r}, not this step", category="platform_reply"
            )
        if reply.WhichOneof("result") == "error":
            raise _reply_error(reply)
        if reply.WhichOneof("result") != self.type:
            raise TransientError(f"the reply to {self.type} carries no result", category="platform_reply")
        answer = json_format.MessageToDict(
            getattr(reply, self.type),
            preserving_proto_field_name=True,
            always_print_fields_with_no_presence=True,
        )
        return ActionResult(output={**computed.output, **answer}, vars=_variables(self.type, answer))


def _variables(verb: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    return {name: answer.get(field, "") for name, field in REPLY_VARS[verb].items()}


def platform_requests(
    settings: ActionSettings, topology: Topology, requester: Requester | None
) -> list[PlatformRequest]:
    """An action per request-reply verb."""
    return [PlatformRequest(verb, settings, topology, requester) for verb in sorted(REQUEST_VERBS)]
