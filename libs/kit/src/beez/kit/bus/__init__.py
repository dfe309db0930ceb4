"""The message bus: JetStream topology, publishing, durable pull workers, outbox and inbox.

Together they give every service "exactly once in effect" over an at-least-once bus: state and
outgoing messages commit together (outbox), re-sends are dropped by ``Nats-Msg-Id`` within the
duplicate window, and consumers record what they applied (inbox) or are idempotent by key.
"""

from beez.kit.bus.connect import MIN_SERVER_VERSION, connect, require_server_version
from beez.kit.bus.defer import Deferred
from beez.kit.bus.inbox import claim, inbox_handler, inbox_table, message_id, purge_inbox
from beez.kit.bus.outbox import enqueue, outbox_channel, outbox_table
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.relay import OutboxRelay
from beez.kit.bus.topology import STREAMS, StreamSpec, Topology, ensure_consumer, ensure_streams
from beez.kit.bus.worker import PermanentError, PullWorker, WorkerStats, exponential_backoff

__all__ = [
    "MIN_SERVER_VERSION",
    "STREAMS",
    "Deferred",
    "OutboxRelay",
    "PermanentError",
    "Publisher",
    "PullWorker",
    "StreamSpec",
    "Topology",
    "WorkerStats",
    "claim",
    "connect",
    "enqueue",
    "ensure_consumer",
    "ensure_streams",
    "exponential_backoff",
    "inbox_handler",
    "inbox_table",
    "message_id",
    "outbox_channel",
    "outbox_table",
    "purge_inbox",
    "require_server_version",
]
