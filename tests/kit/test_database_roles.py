"""Each service runs as its own database role, with rights on its own schema only (real PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql

from beez.kit.migrations import grant_service_role, service_role, service_url
from beez.kit.stack import libpq_url, migrate_all


@pytest.fixture
def migrated(database_url: str) -> str:
    migrate_all(database_url, ["automation", "executor"])
    return database_url


def as_executor(database_url: str) -> psycopg.Connection:
    return psycopg.connect(libpq_url(service_url(database_url, "executor")), autocommit=True)


def test_the_executors_role_does_its_own_dml_and_nothing_else(migrated: str) -> None:
    with as_executor(migrated) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("beez_executor",)
        row = conn.execute(
            "INSERT INTO executor.dead_letters (org_id, execution_id, automation_id, step_id, position,"
            " error, category, created_at) VALUES ('o', 'e', 'a', 's', '0', 'x', 'c', now()) RETURNING id"
        ).fetchone()
        assert row is not None
        conn.execute("UPDATE executor.dead_letters SET error = 'y' WHERE id = %s", row)
        assert conn.execute("SELECT error FROM executor.dead_letters").fetchall() == [("y",)]
        conn.execute("DELETE FROM executor.dead_letters WHERE id = %s", row)

        for statement in (
            "SELECT * FROM automation.automations",  # another service's schema
            "CREATE TABLE executor.mine (id int)",  # DDL in its own schema
            "DROP TABLE executor.dead_letters",
            "ALTER TABLE executor.dead_letters ADD COLUMN x int",
            "CREATE TABLE public.mine (id int)",  # anywhere else
            "SELECT * FROM executor.alembic_version",  # the migrations' bookkeeping
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)


def test_tables_added_by_a_later_migration_are_granted_too(migrated: str) -> None:
    with psycopg.connect(libpq_url(migrated), autocommit=True) as owner:
        owner.execute("CREATE TABLE executor.later (id bigint GENERATED ALWAYS AS IDENTITY, v text)")
        owner.execute("CREATE TABLE automation.later (v text)")
    with as_executor(migrated) as conn:
        conn.execute("INSERT INTO executor.later (v) VALUES ('x')")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO automation.later (v) VALUES ('x')")


@pytest.fixture
def scratch_schema(database_url: str) -> Iterator[str]:
    """A schema of a made-up service, whose role is dropped afterwards (roles outlive databases)."""
    schema = f"secrets_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE TABLE {}.alembic_version (v text)").format(sql.Identifier(schema)))
    yield schema
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(service_role(schema))))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(service_role(schema))))


def test_the_migration_gives_the_role_the_password_of_the_services_own_url(
    database_url: str, scratch_schema: str
) -> None:
    def password_set() -> bool:
        with psycopg.connect(libpq_url(database_url)) as conn:
            row = conn.execute(
                "SELECT rolpassword IS NOT NULL, rolcanlogin FROM pg_authid WHERE rolname = %s",
                (service_role(scratch_schema),),
            ).fetchone()
        assert row is not None and row[1]
        return bool(row[0])

    grant_service_role(database_url, scratch_schema)
    assert not password_set()
    grant_service_role(database_url, scratch_schema, "s3cret")
    assert password_set()
    grant_service_role(database_url, scratch_schema)  # again: idempotent, the password kept
    assert password_set()
