"""``platform.commands.<org>.<verb>`` → the contact projection (durable ``trigger-commands``).

Workflows change contacts through commands to the CRM; this consumer applies the contact-affecting
ones to the trigger's own projection too (:mod:`beez.trigger.domain.commands`), through ingestion,
so condition triggers react to a change a workflow made (a score raised, a tag added) exactly as
to one the CRM announced.

At-least-once in, exactly once in effect: each command becomes an event whose id is derived from
the command's idempotency key and whose time is the message's stream timestamp, and ingestion
records ``(org, event id)`` in the same transaction as the projection's change, so a redelivery,
or the outbox relay re-sending the command, changes nothing. The organization is the subject's; a
body or header naming another is dead-lettered, as is a message that does not decode or whose verb
is not its subject's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg

from beez.api.messages.v1.commands_pb2 import PlatformCommand
from beez.kit.bus.subjects import message_org, subject_parts
from beez.kit.bus.topology import Topology
from beez.kit.bus.worker import PermanentError
from beez.kit.clock import Clock
from beez.kit.grpc.errors import InvalidArgument
from beez.trigger.domain.commands import command_event
from beez.trigger.ingest import Ingestor


class CommandsConsumer:
    """Applies platform commands to the projection; see the module docstring."""

    def __init__(self, ingestor: Ingestor, topology: Topology, clock: Clock) -> None:
        self._ingestor = ingestor
        self._topology = topology
        self._clock = clock

    async def handle(self, msg: Msg) -> None:
        org, verb = subject_parts(self._topology, "platform.commands", msg.subject)
        try:
            command = PlatformCommand.FromString(msg.data)
        except DecodeError as exc:
            raise PermanentError(f"undecodable PlatformCommand: {exc}") from exc
        if command.WhichOneof("command") != verb:
            raise PermanentError(f"a {command.WhichOneof('command')!r} command published as {verb!r}")
        org = message_org(org, command.organization_id, msg.headers, "platform command")
        event = command_event(org, command, _stored_at(msg) or self._clock.now())
        if event is None:
            return
        try:
            prepared = self._ingestor.prepare(org, [event], ["command"])
        except InvalidArgument as exc:
            raise PermanentError(f"platform command as an event: {exc}") from exc
        await self._ingestor.ingest(org, prepared)


def _stored_at(msg: Msg) -> datetime | None:
    """When the stream stored the message: the same on every delivery."""
    try:
        stamp = msg.metadata.timestamp
    except (AttributeError, ValueError):
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
