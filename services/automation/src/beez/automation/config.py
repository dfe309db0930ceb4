"""Settings of the automation service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from beez.kit.settings import ServiceSettings


class AutomationSettings(ServiceSettings):
    """The automation service's settings."""

    service_name: str = "automation"
    grpc_port: int = 50051
