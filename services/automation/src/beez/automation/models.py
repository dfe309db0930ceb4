"""Tables of the ``automation`` schema."""

from __future__ import annotations

from beez.kit.bus.outbox import outbox_table
from beez.kit.db import make_metadata

metadata = make_metadata("automation")
outbox = outbox_table(metadata)
