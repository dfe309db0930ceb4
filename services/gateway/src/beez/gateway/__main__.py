"""``beez-gateway [serve|migrate]`` / ``python -m beez.gateway``: runs the REST gateway, or the
migrations of its schema (its rate buckets)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from beez.gateway.auth_config import ConfigurationError
from beez.gateway.config import GatewaySettings
from beez.gateway.server import SCHEMA, run
from beez.kit.db import InsecureDatabaseError
from beez.kit.logging import configure_logging
from beez.kit.settings import load_settings
from beez.kit.telemetry import configure_tracing

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="beez-gateway")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = load_settings(GatewaySettings)
    configure_logging(settings.service_name, settings.log_level, mask=not settings.log_pii)
    if args.command == "migrate":
        migrate(settings)
        return
    if settings.rate_limits:  # the rate buckets' database, held to the services' bar
        database_tls_or_exit(settings)
    configure_tracing(
        settings.service_name,
        settings.otlp_endpoint,
        otlp_insecure=settings.otlp_insecure,
        otlp_ca_file=settings.otlp_ca_file,
    )
    try:
        run(settings)
    except ConfigurationError as exc:
        print(f"beez-gateway cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def database_tls_or_exit(settings: GatewaySettings) -> dict[str, str]:
    """The database's TLS parameters; exits 2 naming the settings when production would reach
    PostgreSQL below ``verify-full`` (as the services do), instead of failing in the event loop."""
    try:
        return settings.database_tls()
    except InsecureDatabaseError as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def migrate(settings: GatewaySettings) -> None:
    """Migrates the ``gateway`` schema as the migration role, then grants beez_gateway its rights."""
    from beez.kit.migrations import migrate_service

    tls = database_tls_or_exit(settings)
    migrate_service(
        MIGRATIONS,
        SCHEMA,
        migration_url=settings.migration_database_url or settings.database_url,
        service_url=settings.database_url,
        tls=tls,
    )


if __name__ == "__main__":
    main()
