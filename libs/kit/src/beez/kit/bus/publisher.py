"""Publishing to JetStream with a message id, the organization and the trace context.

Direct publishing is for messages that do not accompany a state change in PostgreSQL (e.g. the
trigger service accepting an event whose id the caller chose). Messages that announce a state
change go through the outbox (:mod:`beez.kit.bus.outbox`), whose relay uses this publisher.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from google.protobuf.message import Message
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import APIError, NoStreamResponseError

from beez.kit.bus.headers import MSG_ID, ORG_ID, STATUS, encode
from beez.kit.telemetry import inject_headers

NO_RESPONDERS = "503"
"""The status of a reply that says no stream took the subject."""

TRACEPARENT = "traceparent"
"""The W3C trace header; a message that brings its own needs no current context injected."""


class Publisher:
    """Publishes to JetStream and waits for the stream's acknowledgement.

    Every message carries a ``Nats-Msg-Id``: re-sending it (a retry after a timeout, a relay
    restarted between publishing and marking) within the stream's duplicate window stores
    nothing new and returns a PubAck with ``duplicate=True``.
    """

    def __init__(self, js: JetStreamContext, *, timeout: float | None = None) -> None:
        self._js = js
        self._timeout = timeout
        self._acks: _Acks | None = None

    async def publish(
        self,
        subject: str,
        data: bytes | Message,
        *,
        msg_id: str,
        headers: Mapping[str, str] | None = None,
        org_id: str | None = None,
    ) -> api.PubAck:
        """Publishes ``data`` on ``subject`` once in effect, returning the stream's PubAck.

        Headers given by the caller win over the ones added here; in particular a ``traceparent``
        captured earlier (as the outbox does at enqueue time) is kept, so the trace continues
        from the transaction that produced the message, not from the relay.
        """
        payload, merged = _prepare(data, msg_id, headers, org_id)
        return await self._js.publish(subject, payload, timeout=self._timeout, headers=merged)

    async def publish_many(self, messages: Sequence[Publication]) -> list[api.PubAck]:
        """Publishes ``messages`` as :meth:`publish` would, without waiting for each PubAck in turn.

        Asynchronous publish: every message goes out at once with its own reply subject on one
        inbox of this publisher (:class:`_Acks`), and the PubAcks are collected as they come
        back. Returns the PubAcks in order; raises the first failure (and abandons the rest), or
        ``TimeoutError`` when they are not all back within the timeout. Either way some of the
        messages may be stored: like :meth:`publish`, a retry re-sends them under the same ids
        and the stream drops the copies.
        """
        if self._acks is None:
            self._acks = _Acks(self._js._nc)
        return await self._acks.publish(
            [(m.subject, *_prepare(m.data, m.msg_id, m.headers, m.org_id)) for m in messages],
            self._timeout or BATCH_TIMEOUT,
        )

    @property
    def max_payload(self) -> int:
        """The largest payload the connected server accepts (its ``max_payload``)."""
        return int(self._js._nc.max_payload)

    @property
    def awaiting_acks(self) -> int:
        """PubAcks :meth:`publish_many` is still waiting for (none between calls)."""
        return 0 if self._acks is None else len(self._acks.waiting)


class _Batch:
    """The PubAcks of one :meth:`Publisher.publish_many` call, as they arrive."""

    __slots__ = ("acks", "done", "missing")

    def __init__(self, size: int) -> None:
        self.acks: list[api.PubAck | None] = [None] * size
        self.missing = size
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class _Acks:
    """One reply inbox for a publisher's asynchronous publishes, and the batches waiting on it.

    nats-py's ``publish_async`` does the same per message with a semaphore, a random token
    (a system call), a future and its callbacks; this keeps one counter, one dict entry per
    message and one future per batch, which halves the client's cost of a published message.
    """

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._prefix = ""
        self._next = 0
        self._subscribing: asyncio.Lock = asyncio.Lock()
        self.waiting: dict[str, tuple[_Batch, int]] = {}

    async def publish(
        self, messages: Sequence[tuple[str, bytes, dict[str, str]]], timeout: float
    ) -> list[api.PubAck]:
        if not self._prefix:
            async with self._subscribing:
                if not self._prefix:
                    prefix = self._nc.new_inbox() + "."
                    await self._nc.subscribe(prefix + "*", cb=self._on_reply)
                    self._prefix = prefix
        batch = _Batch(len(messages))
        replies = []
        try:
            for index, (subject, payload, headers) in enumerate(messages):
                self._next += 1
                reply = f"{self._prefix}{self._next}"
                self.waiting[reply] = (batch, index)
                replies.append(reply)
                await self._nc.publish(subject, payload, reply=reply, headers=headers)
            if messages:
                async with asyncio.timeout(timeout):
                    await batch.done
            return cast(list[api.PubAck], batch.acks)
        finally:
            for reply in replies:
                self.waiting.pop(reply, None)

    async def _on_reply(self, msg: Msg) -> None:
        entry = self.waiting.pop(msg.subject, None)
        if entry is None:  # a batch given up on (timeout, failure)
            return
        batch, index = entry
        if batch.done.done():
            return
        if msg.headers and msg.headers.get(STATUS) == NO_RESPONDERS:
            batch.done.set_exception(NoStreamResponseError())
            return
        try:
            response = json.loads(msg.data)
        except ValueError as exc:
            batch.done.set_exception(exc)
            return
        if "error" in response:
            try:
                APIError.from_error(response["error"])  # raises the error's own class
            except APIError as exc:
                batch.done.set_exception(exc)
            return
        try:
            batch.acks[index] = api.PubAck.from_response(response)
        except (TypeError, AttributeError) as exc:  # not a PubAck at all
            batch.done.set_exception(exc)
            return
        batch.missing -= 1
        if batch.missing == 0:
            batch.done.set_result(None)


@dataclass(frozen=True, slots=True)
class Publication:
    """One message for :meth:`Publisher.publish_many`."""

    subject: str
    data: bytes | Message
    msg_id: str
    headers: Mapping[str, str] | None = None
    org_id: str | None = None


BATCH_TIMEOUT = 10.0
"""Seconds :meth:`Publisher.publish_many` waits for all PubAcks when no timeout was given."""


def _prepare(
    data: bytes | Message, msg_id: str, headers: Mapping[str, str] | None, org_id: str | None
) -> tuple[bytes, dict[str, str]]:
    if not msg_id:
        raise ValueError("msg_id is required: it is what lets the stream drop a re-sent message")
    payload, content = encode(data)
    merged = content if headers and TRACEPARENT in headers else inject_headers(content)
    if org_id:
        merged[ORG_ID] = org_id
    merged.update(headers or {})
    merged[MSG_ID] = msg_id
    return payload, merged
