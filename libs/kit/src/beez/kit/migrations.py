"""One Alembic environment per service, confined to the service's schema, and its database role.

A service's ``migrations/env.py`` is two lines: import its MetaData and call :func:`run_env`.
The version table lives inside the schema, and autogenerate ignores every other schema, so
services can share a database without ever touching each other's objects.

Migrations run as the migration role, which owns every schema. Each service then runs as its
own role ``beez_<service>`` (:func:`grant_service_role`): it may use its own schema and read and
write the rows of its tables, and nothing else: no DDL, no other service's schema, not the
migration version table (decision 0019).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import psycopg
from alembic import command, context
from alembic.config import Config
from psycopg import errors, sql
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from beez.kit.db import async_url, with_tls


def alembic_config(migrations_dir: Path, database_url: str, schema: str) -> Config:
    """An Alembic config for one service, without an ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    cfg.attributes["schema"] = schema
    return cfg


def upgrade(
    migrations_dir: Path,
    database_url: str,
    schema: str,
    revision: str = "head",
    *,
    tls: Mapping[str, str] | None = None,
    password: str | None = None,
) -> None:
    """Runs a service's migrations up to ``revision`` as ``database_url``'s role, then grants the
    service's role its rights (:func:`grant_service_role`, with ``password`` when given)."""
    url = with_tls(database_url, tls)
    command.upgrade(alembic_config(migrations_dir, url, schema), revision)
    grant_service_role(url, schema, password)


def service_role(schema: str) -> str:
    """The database role a service runs as."""
    return f"beez_{schema}"


def service_url(database_url: str, schema: str) -> str:
    """``database_url`` logging in as the service's role, without a password (trust, local)."""
    parsed = make_url(async_url(database_url))
    return parsed.set(username=service_role(schema), password=None).render_as_string(hide_password=False)


def service_password(service_url: str, schema: str) -> str | None:
    """The password in the service's own URL when it logs in as the service's role, else None."""
    parsed = make_url(async_url(service_url))
    return parsed.password if parsed.username == service_role(schema) and parsed.password else None


def migrate_service(
    migrations_dir: Path,
    schema: str,
    *,
    migration_url: str,
    service_url: str,
    tls: Mapping[str, str] | None = None,
) -> None:
    """``beez-<service> migrate``: migrates as the migration role and gives the service's role the
    password of the service's own URL (one Secret serves the Deployment and the migration Job)."""
    upgrade(migrations_dir, migration_url, schema, tls=tls, password=service_password(service_url, schema))


_RACES = (errors.DuplicateObject, errors.UniqueViolation, errors.InternalError_)
"""What two migrations creating or altering the same (cluster-wide) role at once may get:
"already exists", a unique violation on pg_authid, "tuple concurrently updated"."""


def grant_service_role(database_url: str, schema: str, password: str | None = None) -> None:
    """Creates the role ``beez_<schema>`` (LOGIN) unless it exists, sets its password when one is
    given, and grants it USAGE on ``schema`` and DML on its tables and sequences, present and
    future (default privileges of the migration role), except on the migration version table.

    Idempotent, and safe while migrations of other databases on the same server create the same
    (cluster-wide) role.
    """
    role = sql.Identifier(service_role(schema))
    name = sql.Identifier(schema)
    plain = (
        make_url(async_url(database_url)).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    with psycopg.connect(plain, autocommit=True) as conn:
        for attempt in range(10):
            try:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (service_role(schema),))
                if exists.fetchone() is None:
                    conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
                if password is not None:
                    conn.execute(
                        sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(role, sql.Literal(password))
                    )
                break
            except _RACES:
                if attempt == 9:
                    raise
                time.sleep(0.05 * (attempt + 1))
        with conn.transaction():
            for statement in (
                "REVOKE ALL ON SCHEMA {schema} FROM PUBLIC",
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
                " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES"
                " TO {role}",
                "REVOKE ALL ON TABLE {schema}.alembic_version FROM {role}",
            ):
                conn.execute(sql.SQL(statement).format(schema=name, role=role))


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
