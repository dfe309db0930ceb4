"""Publishing to JetStream with a message id, the organization and the trace context.

Direct publishing is for messages that do not accompany a state change in PostgreSQL (e.g. the
trigger service accepting an event whose id the caller chose). Messages that announce a state
change go through the outbox (:mod:`beez.kit.bus.outbox`), whose relay uses this publisher.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from google.protobuf.message import Message
from nats.js import JetStreamContext, api

from beez.kit.bus import headers as h
from beez.kit.telemetry import inject_headers

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

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[api.PubAck]:
        """Publishes ``messages`` as :meth:`publish` would, without waiting for each PubAck in turn.

        JetStream's asynchronous publish: every message goes out at once with its own reply
        subject on one shared inbox, and the PubAcks are collected as they come back, without a
        request, a timer and a task per message. Returns the PubAcks in order; raises the first
        failure (and abandons the rest), or ``TimeoutError`` when they are not all back within
        the timeout. Either way some of the messages may be stored: like :meth:`publish`, a
        retry re-sends them under the same ids and the stream drops the copies.
        """
        futures: list[asyncio.Future[api.PubAck]] = []
        try:
            for m in messages:
                payload, merged = _prepare(m.data, m.msg_id, m.headers, m.org_id)
                futures.append(await self._js.publish_async(m.subject, payload, headers=merged))
            async with asyncio.timeout(self._timeout or BATCH_TIMEOUT):
                return list(await asyncio.gather(*futures))
        finally:
            for future in futures:
                future.cancel()  # a no-op once done; frees the slot of one never answered


@dataclass(frozen=True, slots=True)
class Outgoing:
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
    payload, content = h.encode(data)
    merged = content if headers and TRACEPARENT in headers else inject_headers(content)
    if org_id:
        merged[h.ORG_ID] = org_id
    merged.update(headers or {})
    merged[h.MSG_ID] = msg_id
    return payload, merged
