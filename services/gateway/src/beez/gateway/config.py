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
    http_host: str | None = Field(
        default=None, description="Listen address; unset: 127.0.0.1 in local mode, 0.0.0.0 otherwise."
    )
    http_port: int = Field(default=8080, ge=0, le=65535)
    local_mode: bool = Field(
        default=False,
        description=(
            "Trust X-Org-Id/X-User-Id headers, with every role (development only: beez up); "
            "otherwise a verified JWT is required."
        ),
    )
    jwt_jwks_url: str = Field(default="", description="JWKS of the identity provider (RS256/ES256 keys).")
    jwt_jwks_file: str = Field(default="", description="A JWKS file, instead of or besides the URL.")
    jwt_hs256_secret_file: str = Field(
        default="", description="A shared HS256 secret (at least 32 bytes); HS256 is refused without it."
    )
    jwt_issuer: str = Field(default="", description="The required iss claim.")
    jwt_audience: str = Field(default="", description="The required aud claim (this API).")
    jwt_leeway_s: float = Field(default=30.0, ge=0, le=300, description="Clock skew allowed on exp/nbf.")
    jwt_org_claim: str = Field(default="org_id", min_length=1)
    jwt_user_claim: str = Field(default="sub", min_length=1)
    jwt_roles_claim: str = Field(default="roles", min_length=1)
    jwt_jwks_cache_s: float = Field(default=300.0, gt=0, description="How long fetched keys are used.")
    jwt_jwks_refresh_cooldown_s: float = Field(
        default=10.0, ge=0, description="At most one refetch for unknown key ids per this many seconds."
    )
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed by CORS; empty: no CORS headers."
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

    @property
    def listen_host(self) -> str:
        """``http_host`` when set; else loopback in local mode and every interface in production."""
        if self.http_host:
            return self.http_host
        return "127.0.0.1" if self.local_mode else "0.0.0.0"

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    def backend_address(self, service: str) -> str:
        """The address of the backend serving the ``beez.api.<service>`` package.

        Raises ``KeyError`` when there is no ``<service>_addr`` setting.
        """
        name = f"{service}_addr"
        if name not in type(self).model_fields:
            raise KeyError(f"no setting BEEZ_{name.upper()} for the services of package beez.api.{service}")
        return str(getattr(self, name))
