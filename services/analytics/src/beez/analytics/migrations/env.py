"""Alembic environment of the ``analytics`` schema."""

from beez.analytics.models import metadata
from beez.kit.migrations import run_env

run_env(metadata)
