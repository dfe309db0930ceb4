"""PostgreSQL transport: production verifies the server (verify-full) or refuses to start unless
told otherwise explicitly; the TLS settings reach real connections (an embedded PostgreSQL with
ssl=on and a certificate from a throwaway CA)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from beez.kit.db import Database, InsecureDatabaseError, database_tls
from beez.kit.embedded import EmbeddedPostgres
from beez.kit.stack import libpq_url
from beez.kit.tls import write_bundle
from tests.support.certs import ServerCerts, server_certs


def test_production_verifies_the_server_by_default() -> None:
    assert database_tls("postgresql://db/x", local_mode=False) == {"sslmode": "verify-full"}
    assert database_tls("postgresql://db/x", sslrootcert="/ca.pem", local_mode=False) == {
        "sslmode": "verify-full",
        "sslrootcert": "/ca.pem",
    }


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_production_refuses_anything_below_verify_full_naming_both_ways_out(mode: str) -> None:
    with pytest.raises(InsecureDatabaseError) as refused:
        database_tls("postgresql://db/x", sslmode=mode, local_mode=False)
    assert f"sslmode={mode}" in str(refused.value)
    assert "BEEZ_DATABASE_SSLMODE=verify-full" in str(refused.value)
    assert "BEEZ_DATABASE_ALLOW_INSECURE=true" in str(refused.value)
    with pytest.raises(InsecureDatabaseError):  # the URL's own sslmode is held to the same bar
        database_tls(f"postgresql://db/x?sslmode={mode}", local_mode=False)


def test_an_explicit_override_or_local_mode_accepts_less() -> None:
    assert database_tls("postgresql://db/x", sslmode="disable", local_mode=False, allow_insecure=True) == {
        "sslmode": "disable"
    }
    assert database_tls("postgresql://db/x", local_mode=False, allow_insecure=True) == {"sslmode": "prefer"}
    assert database_tls("postgresql://db/x", local_mode=True) == {"sslmode": "prefer"}
    assert database_tls("postgresql://db/x?sslmode=require", local_mode=True) == {"sslmode": "require"}


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What production mode needs besides the database (the service's certificate)."""
    return write_bundle(tmp_path_factory.mktemp("tls"), ["beezora"])["beezora"].env()


def run_service(
    command: str, database_url: str, production: dict[str, str], **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BEEZ_DATABASE_")}
    environ.update(production, BEEZ_LOCAL_MODE="false", BEEZ_DATABASE_URL=database_url, **env)
    return subprocess.run(
        [sys.executable, "-m", "beez.beezora", command],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_production_service_below_verify_full_refuses_to_start(
    database_url: str, production: dict[str, str], command: str
) -> None:
    done = run_service(command, database_url, production, BEEZ_DATABASE_SSLMODE="disable")
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "BEEZ_DATABASE_ALLOW_INSECURE" in done.stderr


def test_with_the_explicit_override_a_production_service_migrates_as_the_migration_role(
    database_url: str, production: dict[str, str]
) -> None:
    service = libpq_url(database_url).replace("postgres@", "beez_beezora:pw-from-the-secret@", 1)
    done = run_service(
        "migrate",
        service,
        production,
        BEEZ_DATABASE_SSLMODE="disable",
        BEEZ_DATABASE_ALLOW_INSECURE="true",
        BEEZ_MIGRATION_DATABASE_URL=database_url,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(libpq_url(database_url)) as conn:
        owner = conn.execute(
            "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'beezora'"
        ).fetchone()
        assert owner == ("postgres",)  # the migration role owns the schema
        password = conn.execute(
            "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = 'beez_beezora'"
        )
        assert password.fetchone() == (True,)  # the service's role got its URL's password


# --- a real TLS connection ---------------------------------------------------------------------


def tls_capable_binaries() -> Path | None:
    """A PostgreSQL built with TLS on this machine (the embedded wheel's is not): the system's."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return found[-1].parent if found else None


@pytest.fixture(scope="module")
def tls_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmbeddedPostgres, ServerCerts]]:
    bin_dir = tls_capable_binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL built with TLS support under /usr/lib/postgresql")
    root = tmp_path_factory.mktemp("pg-tls")
    certs = server_certs(root / "certs")
    pg = EmbeddedPostgres(
        root / "data",
        settings={"ssl": "on", "ssl_cert_file": str(certs.cert_file), "ssl_key_file": str(certs.key_file)},
        bin_dir=bin_dir,
    )
    if pg.system_user:
        for path in (root / "certs", certs.cert_file, certs.key_file):
            shutil.chown(path, pg.system_user, pg.system_user)
    pg.start()
    try:
        yield pg, certs
    finally:
        pg.stop()


async def ssl_in_use(url: str, tls: dict[str, str]) -> bool:
    db = Database(url, "public", pool_size=1, tls=tls)
    try:
        async with db.sessions() as session:
            used = await session.scalar(text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))
        return bool(used)
    finally:
        await db.dispose()


async def test_verify_full_connects_over_tls_to_a_server_its_ca_vouches_for(
    tls_postgres: tuple[EmbeddedPostgres, ServerCerts],
) -> None:
    pg, certs = tls_postgres
    tls = database_tls(pg.url(), sslmode="verify-full", sslrootcert=str(certs.ca_file), local_mode=False)
    assert await ssl_in_use(pg.url(), tls)


async def test_verify_full_refuses_a_server_another_ca_signed(
    tls_postgres: tuple[EmbeddedPostgres, ServerCerts], tmp_path: Path
) -> None:
    pg, _ = tls_postgres
    other = server_certs(tmp_path / "other")
    tls = database_tls(pg.url(), sslmode="verify-full", sslrootcert=str(other.ca_file), local_mode=False)
    with pytest.raises(Exception, match="certificate verify failed"):
        await ssl_in_use(pg.url(), tls)


async def test_local_mode_prefers_tls_when_the_server_offers_it(
    tls_postgres: tuple[EmbeddedPostgres, ServerCerts],
) -> None:
    pg, _ = tls_postgres
    assert await ssl_in_use(pg.url(), database_tls(pg.url(), local_mode=True))
