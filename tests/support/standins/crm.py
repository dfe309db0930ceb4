"""A stand-in for the platform's CRM on real NATS: the owner of contacts that workflows command.

It listens as the CRM would (decision 0042): to ``platform.commands.<org>.>`` (core subscription:
the executor's outbox relay publishes there, into the COMMANDS stream) and to
``platform.requests.<org>.>``, which it answers with a typed ``PlatformReply``. Every message is
decoded as the typed ``PlatformCommand`` it must be, and checked as the CRM would check it: the
subject's organization and verb are the body's, the idempotency key is present. A request's key
is remembered: the same key gets the same answer (one contact, however many attempts).

``lose_replies`` makes it do the work of the next N requests but never answer them (a reply lost,
or the CRM slower than the deadline); ``refuse`` answers every request with an ``INVALID`` error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from beez.api.messages.v1 import commands_crm_pb2, commands_pb2
from beez.kit.bus.topology import Topology


@dataclass
class Received:
    """One command or request as the CRM decoded it."""

    subject: str
    verb: str
    command: commands_pb2.PlatformCommand
    request: bool


@dataclass
class CrmStandIn:
    topology: Topology
    org: str
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    contacts: dict[str, str] = field(default_factory=dict)
    """Contact id by the create_contact key that made it."""
    exports: dict[str, str] = field(default_factory=dict)
    lose_replies: int = 0
    refuse: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def commands(self, verb: str) -> list[commands_pb2.PlatformCommand]:
        return [r.command for r in self.received if r.verb == verb]

    def _decode(self, msg: Msg, root: str) -> Received | None:
        org, _, verb = msg.subject[len(self.topology.subject(f"{root}.")) :].partition(".")
        try:
            command = commands_pb2.PlatformCommand.FromString(msg.data)
        except Exception as exc:  # the CRM would dead-letter it
            self.problems.append(f"{msg.subject}: undecodable: {exc}")
            return None
        if command.WhichOneof("command") != verb:
            self.problems.append(f"{msg.subject}: body carries {command.WhichOneof('command')!r}")
        if command.organization_id != org or self.org not in ("*", org):
            self.problems.append(f"{msg.subject}: body names organization {command.organization_id!r}")
        if not command.idempotency_key:
            self.problems.append(f"{msg.subject}: no idempotency key")
        received = Received(msg.subject, verb, command, root == "platform.requests")
        self.received.append(received)
        self.arrived.set()
        return received

    async def on_command(self, msg: Msg) -> None:
        self._decode(msg, "platform.commands")

    async def on_request(self, msg: Msg) -> None:
        received = self._decode(msg, "platform.requests")
        if received is None:
            return
        key = received.command.idempotency_key
        reply = commands_crm_pb2.PlatformReply(idempotency_key=key)
        if self.refuse:
            reply.error.code = commands_crm_pb2.REPLY_ERROR_CODE_INVALID
            reply.error.message = self.refuse
        elif received.verb == "create_contact":
            contact_id = self.contacts.setdefault(key, f"c_new_{len(self.contacts) + 1}")
            reply.create_contact.contact_id = contact_id
            reply.create_contact.created = True
        elif received.verb == "export_contact_data":
            export_id = self.exports.setdefault(key, f"exp_{len(self.exports) + 1}")
            reply.export_contact_data.export_id = export_id
            reply.export_contact_data.download_url = f"https://crm.example.com/exports/{export_id}"
        else:
            reply.error.code = commands_crm_pb2.REPLY_ERROR_CODE_INVALID
            reply.error.message = f"{received.verb} is not a request"
        if self.lose_replies > 0:
            self.lose_replies -= 1
            return
        await msg.respond(reply.SerializeToString())


@asynccontextmanager
async def crm_standin(nc: NATS, topology: Topology, org: str) -> AsyncIterator[CrmStandIn]:
    """The stand-in, subscribed for ``org`` (``*``: every organization) on ``nc`` until the block ends."""
    crm = CrmStandIn(topology, org)
    commands = await nc.subscribe(topology.command(org, ">"), cb=crm.on_command)
    requests = await nc.subscribe(topology.request(org, ">"), cb=crm.on_request)
    await nc.flush()
    try:
        yield crm
    finally:
        await commands.unsubscribe()
        await requests.unsubscribe()
