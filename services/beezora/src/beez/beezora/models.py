"""Tables of the ``beezora`` schema."""

from __future__ import annotations

from beez.kit.db import make_metadata

metadata = make_metadata("beezora")
