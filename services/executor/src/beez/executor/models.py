"""Tables of the ``executor`` schema."""

from __future__ import annotations

from beez.kit.bus.inbox import inbox_table
from beez.kit.bus.outbox import outbox_table
from beez.kit.db import make_metadata

metadata = make_metadata("executor")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
