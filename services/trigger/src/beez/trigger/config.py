"""Settings of the trigger service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from beez.kit.settings import ServiceSettings


class TriggerSettings(ServiceSettings):
    """The trigger service's settings."""

    service_name: str = "trigger"
    grpc_port: int = 50052
