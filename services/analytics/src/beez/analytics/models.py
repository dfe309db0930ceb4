"""Tables of the ``analytics`` schema."""

from __future__ import annotations

from beez.kit.bus.inbox import inbox_table
from beez.kit.db import make_metadata

metadata = make_metadata("analytics")
inbox = inbox_table(metadata)
