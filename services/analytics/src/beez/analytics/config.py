"""Settings of the analytics service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from pydantic import Field

from beez.kit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """The analytics service's settings."""

    service_name: str = "analytics"
    grpc_port: int = 50055
    executions_concurrency: int = Field(
        default=512,
        ge=1,
        description=(
            "Execution lifecycle events held at once by this process. Twice the batch, so the next "
            "batch gathers while one is being written."
        ),
    )
    executions_batch_max: int = Field(
        default=256, ge=1, description="Most lifecycle events applied in one transaction."
    )
    executions_linger_s: float = Field(
        default=0.2,
        ge=0,
        description=(
            "How long a lifecycle batch waits for more events once its first arrives (less once "
            "it is full). Metrics are off the latency path: under light load this turns a "
            "transaction per event or two into a few per second."
        ),
    )
    duration_samples: int = Field(
        default=1000,
        ge=1,
        description="How many of an automation's most recent completed executions the percentiles cover.",
    )
    inbox_retention_days: float = Field(
        default=8.0,
        gt=0,
        description="How long handled message ids are remembered; longer than EXECUTIONS keeps messages.",
    )
