"""``beez-gateway`` / ``python -m beez.gateway``: runs the REST gateway."""

from __future__ import annotations

import sys

from beez.gateway.auth_config import ConfigurationError
from beez.gateway.config import GatewaySettings
from beez.gateway.server import run
from beez.kit.logging import configure_logging
from beez.kit.settings import load_settings
from beez.kit.telemetry import configure_tracing


def main() -> None:
    settings = load_settings(GatewaySettings)
    configure_logging(settings.service_name, settings.log_level, mask=not settings.log_pii)
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


if __name__ == "__main__":
    main()
