"""Settings of the analytics service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from beez.kit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """The analytics service's settings."""

    service_name: str = "analytics"
    grpc_port: int = 50055
