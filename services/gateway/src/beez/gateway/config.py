"""Settings of the gateway process (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from beez.kit.settings import TlsSettings


class GatewaySettings(TlsSettings):
    """Where the gateway listens, where each backend is, and how it treats callers.

    The TLS settings (:class:`TlsSettings`) give its certificate for the backend channels.
    """

    model_config = SettingsConfigDict(env_prefix="BEEZ_", extra="ignore", frozen=True)

    service_name: str = Field(default="gateway", description="Name in logs and traces.")
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    local_mode: bool = Field(
        default=False,
        description="Trust X-Org-Id/X-User-Id headers (development only: beez up); otherwise JWTs are required.",
    )
    automation_addr: str = "127.0.0.1:50051"
    trigger_addr: str = "127.0.0.1:50052"
    executor_addr: str = "127.0.0.1:50053"
    beezora_addr: str = "127.0.0.1:50054"
    analytics_addr: str = "127.0.0.1:50055"
    request_timeout_s: float = Field(default=30.0, gt=0, description="Deadline of each backend call.")
    shutdown_grace_s: float = Field(default=10.0, ge=0, description="How long SIGTERM lets requests finish.")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_pii: bool = Field(default=False, description="Log emails and phone numbers unmasked.")
    otlp_endpoint: str = Field(default="", description="OTLP/gRPC collector; empty disables export.")

    def backend_address(self, service: str) -> str:
        """The address of the backend serving the ``beez.api.<service>`` package.

        Raises ``KeyError`` when there is no ``<service>_addr`` setting.
        """
        name = f"{service}_addr"
        if name not in type(self).model_fields:
            raise KeyError(f"no setting BEEZ_{name.upper()} for the services of package beez.api.{service}")
        return str(getattr(self, name))
