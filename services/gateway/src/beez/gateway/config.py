"""Settings of the gateway process (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from beez.kit.secrets import SECRET

if TYPE_CHECKING:
    from beez.gateway.engagement import EngagementSettings
from beez.kit.settings import DEFAULT_DATABASE_URL, TlsSettings


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
    # --- engagement in: tracking hits and delivery callbacks (decision 0041) -------------------
    tracking_keys_file: str = Field(
        default="",
        description=(
            "The keys that verify email tracking tokens ('<key id>:<secret>' lines), the executor's "
            "file; empty: local mode uses the public development key, production serves no tracking."
        ),
    )
    twilio_auth_token: SecretStr = Field(
        default=SecretStr(""), description="Verifies X-Twilio-Signature of SMS status callbacks; empty: off."
    )
    whatsapp_app_secret: SecretStr = Field(
        default=SecretStr(""), description="Verifies X-Hub-Signature-256 of WhatsApp webhooks; empty: off."
    )
    whatsapp_verify_token: SecretStr = Field(
        default=SecretStr(""), description="The hub.verify_token of the WhatsApp webhook handshake."
    )
    public_base_url: str = Field(
        default="",
        description="The gateway's URL as providers call it (signatures cover it); empty: the request's.",
    )
    automation_addr: str = "127.0.0.1:50051"
    trigger_addr: str = "127.0.0.1:50052"
    executor_addr: str = "127.0.0.1:50053"
    beezora_addr: str = "127.0.0.1:50054"
    analytics_addr: str = "127.0.0.1:50055"
    request_timeout_s: float = Field(default=30.0, gt=0, description="Deadline of each backend call.")
    hook_max_body_bytes: int = Field(
        default=128 * 1024,
        ge=1,
        le=1024 * 1024,
        description=(
            "Largest body POST /hooks/{token} accepts, in bytes; a larger one is 413, read no "
            "further than this (decision 0036). Keep it under the trigger's max_event_bytes."
        ),
    )
    shutdown_grace_s: float = Field(default=10.0, ge=0, description="How long SIGTERM lets requests finish.")
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_pii: bool = Field(default=False, description="Log emails and phone numbers unmasked.")

    # --- the request limits and their database (decision 0031) ---------------------------------
    rate_limits: bool = Field(
        default=True,
        description="Limit requests per organization and globally (token buckets shared by every replica).",
    )
    rate_per_org: float = Field(default=100.0, gt=0, description="Requests per second per organization.")
    burst_per_org: float = Field(default=200.0, ge=1, description="Requests at once per organization.")
    rate_global: float = Field(
        default=2000.0, gt=0, description="Requests per second over all organizations."
    )
    burst_global: float = Field(default=4000.0, ge=1, description="Requests at once over all organizations.")
    rate_limit_lease: int = Field(
        default=10,
        ge=1,
        description="Tokens a replica takes from a shared bucket per round trip (at most burst/4).",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("BEEZ_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL of the gateway's schema (its rate buckets), as the role beez_gateway.",
        json_schema_extra=SECRET,
    )
    database_sslmode: Literal["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        Field(default="", description="libpq sslmode, as for the services (ServiceSettings).")
    )
    database_sslrootcert: str = Field(default="", description="CA file that verifies the database server.")
    database_allow_insecure: bool = Field(
        default=False, description="Production: allow an sslmode below verify-full."
    )
    migration_database_url: str = Field(
        default="",
        description="`beez-gateway migrate` connects with this URL (the migration role), not database_url.",
        json_schema_extra=SECRET,
    )
    db_pool_size: int = Field(default=4, ge=1, description="Connections of the rate limiter's pool.")

    @property
    def listen_host(self) -> str:
        """``http_host`` when set; else loopback in local mode and every interface in production."""
        if self.http_host:
            return self.http_host
        return "127.0.0.1" if self.local_mode else "0.0.0.0"

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        return tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    def engagement(self) -> EngagementSettings:
        """What the tracking and callback routes need (:mod:`beez.gateway.engagement`)."""
        from beez.gateway.engagement import EngagementSettings
        from beez.kit.tracking import TrackingKeys

        keys = None
        if self.tracking_keys_file or self.local_mode:
            keys = TrackingKeys.load(self.tracking_keys_file)
        return EngagementSettings(
            tracking_keys=keys,
            twilio_auth_token=self.twilio_auth_token.get_secret_value(),
            whatsapp_app_secret=self.whatsapp_app_secret.get_secret_value(),
            whatsapp_verify_token=self.whatsapp_verify_token.get_secret_value(),
            public_base_url=self.public_base_url,
            timeout_s=self.request_timeout_s,
        )

    def backend_address(self, service: str) -> str:
        """The address of the backend serving the ``beez.api.<service>`` package.

        Raises ``KeyError`` when there is no ``<service>_addr`` setting.
        """
        name = f"{service}_addr"
        if name not in type(self).model_fields:
            raise KeyError(f"no setting BEEZ_{name.upper()} for the services of package beez.api.{service}")
        return str(getattr(self, name))

    def database_tls(self) -> dict[str, str]:
        """The libpq TLS parameters of the gateway's connections (:func:`beez.kit.db.database_tls`)."""
        from beez.kit.db import database_tls

        return database_tls(
            self.database_url,
            sslmode=self.database_sslmode,
            sslrootcert=self.database_sslrootcert,
            local_mode=self.local_mode,
            allow_insecure=self.database_allow_insecure,
        )
