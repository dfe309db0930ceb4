"""One Alembic environment per service, confined to the service's schema.

A service's ``migrations/env.py`` is two lines: import its MetaData and call :func:`run_env`.
The version table lives inside the schema, and autogenerate ignores every other schema, so
services can share a database without ever touching each other's objects.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

from beez.kit.db import async_url


def alembic_config(migrations_dir: Path, database_url: str, schema: str) -> Config:
    """An Alembic config for one service, without an ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(migrations_dir: Path, database_url: str, schema: str, revision: str = "head") -> None:
    """Runs a service's migrations up to ``revision``."""
    command.upgrade(alembic_config(migrations_dir, database_url, schema), revision)


def check(migrations_dir: Path, database_url: str, schema: str) -> None:
    """Fails when the models and the migrations have drifted apart (``alembic check``)."""
    command.check(alembic_config(migrations_dir, database_url, schema))


def run_env(metadata: MetaData) -> None:
    """The body of a service's ``env.py``: runs migrations online for ``metadata.schema``."""
    schema = metadata.schema
    assert schema, "service metadata must name its schema"
    url = context.config.get_main_option("sqlalchemy.url")
    assert url

    def include_name(name: str | None, type_: str, parent_names: object) -> bool:
        if type_ == "schema":
            return name == schema
        return True

    def migrate(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        connection.commit()
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table_schema=schema,
            include_schemas=True,
            include_name=include_name,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            migrate(conn)
    finally:
        engine.dispose()
