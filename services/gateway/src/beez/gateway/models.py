"""The gateway's one table: the token buckets of its request limits (decision 0031)."""

from __future__ import annotations

from beez.kit.db import make_metadata
from beez.kit.ratelimit import bucket_table

metadata = make_metadata("gateway")
rate_buckets = bucket_table(metadata)
