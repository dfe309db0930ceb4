"""Settings of the executor service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from beez.kit.settings import ServiceSettings


class ExecutorSettings(ServiceSettings):
    """The executor service's settings."""

    service_name: str = "executor"
    grpc_port: int = 50053
