"""Settings of the beezora service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from beez.kit.settings import ServiceSettings


class BeezoraSettings(ServiceSettings):
    """The beezora service's settings."""

    service_name: str = "beezora"
    grpc_port: int = 50054
