"""Every service runs as its own process, migrates only its own schema, and reports honest health."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from beez.kit.migrations import upgrade
from beez.kit.stack import MIGRATED, SERVICES, Dependencies, ServiceProcess, Stack, libpq_url, migrate_all
from tests.support.servers import unique_prefix

EXPECTED_SERVICES = {
    "automation": {
        "beez.api.automation.v1.AutomationService",
        "beez.api.automation.v1.CatalogService",
        "beez.api.automation.v1.TemplateService",
    },
    "trigger": {
        "beez.api.trigger.v1.EventService",
        "beez.api.trigger.v1.HookService",
        "beez.api.trigger.v1.ContactService",
    },
    "executor": {
        "beez.api.executor.v1.ExecutionService",
        "beez.api.executor.v1.DeadLetterService",
        "beez.api.executor.v1.ConnectionService",
        "beez.api.executor.v1.ActionService",
    },
    "beezora": set(),
    "analytics": {"beez.api.analytics.v1.AnalyticsService"},
}
STANDARD = {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"}


def schema_objects(database_url: str) -> dict[str, set[str]]:
    with psycopg.connect(libpq_url(database_url)) as conn:
        rows = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        schemas = conn.execute(
            "SELECT nspname FROM pg_namespace "
            "WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema'"
        ).fetchall()
    found: dict[str, set[str]] = {s: set() for (s,) in schemas}
    for schema, table in rows:
        found[schema].add(table)
    return found


def test_each_service_migrates_only_its_own_schema_and_twice_changes_nothing(database_url: str) -> None:
    before = schema_objects(database_url)
    for name in MIGRATED:
        module = importlib.import_module(f"beez.{name}.__main__")
        upgrade(module.MIGRATIONS, database_url, name)
        after = schema_objects(database_url)
        new_schemas = set(after) - set(before)
        assert new_schemas == {name}
        for schema in before:
            assert after[schema] == before[schema], f"{name} touched schema {schema}"
        assert "alembic_version" in after[name]
        before = after
    migrate_all(database_url)
    assert schema_objects(database_url) == before


@pytest.fixture(scope="module")
async def services(
    admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, ServiceProcess]]:
    """All five services, started once for this module; the drain test stops them last."""
    state = tmp_path_factory.mktemp("stack")
    deps = Dependencies.start(state, admin_url=admin_url, nats_url=nats_url)
    stack = Stack.plan(deps, state / "logs", prefix=unique_prefix())
    try:
        migrate_all(deps.database_url)
        yield stack.start().services
    finally:
        stack.stop(timeout=0)  # what the drain test left running is killed


async def test_all_five_services_start_as_processes_and_report_serving(
    services: dict[str, ServiceProcess],
) -> None:
    await asyncio.gather(*(p.wait_for("SERVING") for p in services.values()))


async def test_reflection_lists_each_services_contracts(services: dict[str, ServiceProcess]) -> None:
    await asyncio.gather(*(p.wait_for("SERVING") for p in services.values()))
    for name, proc in services.items():
        with grpc.insecure_channel(proc.address) as channel:
            listed = set(ProtoReflectionDescriptorDatabase(channel).get_services())
        assert listed == EXPECTED_SERVICES[name] | STANDARD, name


async def test_services_drain_and_exit_cleanly_on_sigterm(services: dict[str, ServiceProcess]) -> None:
    await asyncio.gather(*(p.wait_for("SERVING") for p in services.values()))
    codes = {name: proc.stop() for name, proc in services.items()}
    assert codes == dict.fromkeys(SERVICES, 0)


async def test_health_follows_nats_and_postgres_going_away_and_coming_back(
    tmp_path: Path, pg_dir: Path
) -> None:
    pg = EmbeddedPostgres(pg_dir).start()
    nats = EmbeddedNats(tmp_path / "nats").start()
    proc = None
    try:
        migrate_all(pg.url())
        env = {"BEEZ_DATABASE_URL": pg.url(), "BEEZ_NATS_URL": nats.url}
        proc = ServiceProcess("executor", env, tmp_path / "executor.log").start()
        await proc.wait_for("SERVING")

        nats.stop()
        await proc.wait_for("NOT_SERVING", timeout=15)
        nats.start()
        await proc.wait_for("SERVING", timeout=30)

        pg.stop()
        await proc.wait_for("NOT_SERVING", timeout=15)
        pg.start()
        await proc.wait_for("SERVING", timeout=30)
    finally:
        if proc is not None:
            proc.kill()
        nats.stop()
        pg.stop()


async def test_a_service_whose_nats_is_down_at_start_serves_once_it_comes_up(
    tmp_path: Path, database_url: str
) -> None:
    migrate_all(database_url)
    nats = EmbeddedNats(tmp_path / "nats", port=free_port())
    env = {
        "BEEZ_DATABASE_URL": database_url,
        "BEEZ_NATS_URL": nats.url,
        "BEEZ_AUTOMATION_ADDR": f"127.0.0.1:{free_port()}",  # never a stack of tests/e2e
    }
    proc = ServiceProcess("trigger", env, tmp_path / "trigger.log").start()
    try:
        await proc.wait_for("NOT_SERVING")
        nats.start()
        await proc.wait_for("SERVING", timeout=30)
    finally:
        proc.kill()
        nats.stop()


def test_models_and_migrations_have_not_drifted(database_url: str) -> None:
    from beez.kit.migrations import check

    migrate_all(database_url)
    for name in MIGRATED:
        module = importlib.import_module(f"beez.{name}.__main__")
        check(module.MIGRATIONS, database_url, name)
