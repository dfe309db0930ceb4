"""Alembic environment of the ``trigger`` schema."""

from beez.kit.migrations import run_env
from beez.trigger.models import metadata

run_env(metadata)
