"""Alembic environment of the ``executor`` schema."""

from beez.executor.models import metadata
from beez.kit.migrations import run_env

run_env(metadata)
