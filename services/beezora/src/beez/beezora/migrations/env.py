"""Alembic environment of the ``beezora`` schema."""

from beez.beezora.models import metadata
from beez.kit.migrations import run_env

run_env(metadata)
