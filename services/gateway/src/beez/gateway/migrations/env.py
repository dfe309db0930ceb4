"""Alembic environment of the ``gateway`` schema (its rate limiter's buckets, decision 0031)."""

from beez.gateway.models import metadata
from beez.kit.migrations import run_env

run_env(metadata)
