"""Alembic environment of the ``automation`` schema."""

from beez.automation.models import metadata
from beez.kit.migrations import run_env

run_env(metadata)
