"""Settings shared by every process, read from the environment with the ``BEEZ_`` prefix.

Each service subclasses :class:`ServiceSettings` with its own defaults. :func:`load_settings`
turns a validation error into one readable message and a non-zero exit, so a process with a
missing or malformed setting stops at once instead of half-starting.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, Self, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from beez.kit.bus.topology import StreamLimits, stream_limits
from beez.kit.secrets import SECRET, SecretFileError, SecretFilesSource, secret_fields
from beez.kit.tls import CALLERS, TlsFiles

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/beez"
DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


CONDITION_MAX_COST = 20_000
"""The default condition cost budget (``beez.workflow.conditions.cost.MAX_COST``; kit does not
depend on the workflow library, a test keeps the two equal)."""


class TlsSettings(BaseSettings):
    """The certificate a process serves gRPC with and presents as a gRPC client (mutual TLS).

    With the three files set, every gRPC hop is mutual TLS; production (``local_mode`` off)
    refuses to start without them, and local mode without them is plaintext. The OTLP export
    of traces is over verified TLS too, unless ``otlp_insecure`` says the collector is local.
    """

    model_config = SettingsConfigDict(env_prefix="BEEZ_", extra="ignore", frozen=True)

    local_mode: bool = False
    tls_cert_file: str = Field(
        default="", description="PEM certificate (chain) naming this process in its CN."
    )
    tls_key_file: str = Field(default="", description="PEM private key of that certificate.")
    tls_ca_file: str = Field(
        default="", description="PEM CA certificate(s) that sign every peer's certificate."
    )
    otlp_endpoint: str = Field(default="", description="OTLP/gRPC collector; empty disables export.")
    otlp_insecure: bool = Field(
        default=False, description="Export to the collector in plaintext (a local collector); TLS otherwise."
    )
    otlp_ca_file: str = Field(
        default="", description="CA that verifies the collector (system roots when empty)."
    )

    @model_validator(mode="after")
    def _tls_configured(self) -> Self:
        given = {
            "BEEZ_TLS_CERT_FILE": self.tls_cert_file,
            "BEEZ_TLS_KEY_FILE": self.tls_key_file,
            "BEEZ_TLS_CA_FILE": self.tls_ca_file,
        }
        missing = [name for name, value in given.items() if not value]
        if missing and (not self.local_mode or len(missing) < len(given)):
            raise ValueError(
                f"mutual TLS needs {', '.join(given)}; missing {', '.join(missing)} "
                "(production mode serves gRPC only over mutual TLS; BEEZ_LOCAL_MODE=true is plaintext, "
                "for development)"
            )
        absent = [f"{name}={value}" for name, value in given.items() if value and not Path(value).is_file()]
        if absent:
            raise ValueError(f"TLS file not found: {', '.join(absent)}")
        return self

    def tls_files(self) -> TlsFiles | None:
        """The configured files, or None (plaintext, local mode only)."""
        if not self.tls_cert_file:
            return None
        return TlsFiles(Path(self.tls_cert_file), Path(self.tls_key_file), Path(self.tls_ca_file))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment first, then ``<NAME>_FILE`` for every secret setting."""
        return (
            init_settings,
            env_settings,
            SecretFilesSource(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )


class ServiceSettings(TlsSettings):
    """What every service needs: where its dependencies are and how to report."""

    service_name: str = Field(default="beez", description="Name in logs, traces and health.")
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("BEEZ_DATABASE_URL", "DATABASE_URL"),
        description="SQLAlchemy URL; postgresql:// is rewritten to use psycopg 3.",
        json_schema_extra=SECRET,
    )
    database_sslmode: Literal["", "disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = (
        Field(
            default="",
            description=(
                "libpq sslmode. Empty: the URL's own sslmode, else verify-full in production and prefer "
                "in local mode (or with database_allow_insecure)."
            ),
        )
    )
    database_sslrootcert: str = Field(
        default="", description="CA file that verifies the server (libpq sslrootcert)."
    )
    database_allow_insecure: bool = Field(
        default=False,
        description="Production: allow an sslmode below verify-full (else the process refuses to start).",
    )
    migration_database_url: str = Field(
        default="",
        description=(
            "`migrate` connects with this URL (the migration role, owner of the schema) instead of "
            "database_url, and grants the service's role beez_<service> its rights."
        ),
        json_schema_extra=SECRET,
    )
    nats_url: str = Field(
        default=DEFAULT_NATS_URL,
        validation_alias=AliasChoices("BEEZ_NATS_URL", "NATS_URL"),
        description="NATS server URL(s), comma separated.",
    )
    nats_user: str = Field(default="", description="NATS user name (with a password).")
    nats_password: SecretStr = Field(default=SecretStr(""), description="NATS password of ``nats_user``.")
    nats_password_file: str = Field(default="", description="A file holding the NATS password.")
    nats_nkey_seed_file: str = Field(default="", description="A file holding the NATS nkey seed (SU...).")
    nats_creds_file: str = Field(default="", description="A NATS .creds file (user JWT and nkey seed).")
    nats_tls_ca_file: str = Field(
        default="", description="CA bundle that signs the nats-server's certificate."
    )
    nats_tls_cert_file: str = Field(default="", description="Client certificate for NATS (with the key).")
    nats_tls_key_file: str = Field(default="", description="Private key of ``nats_tls_cert_file``.")
    bus_prefix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9_-]*$",
        description="Prefix for stream names and subjects, so test runs never collide.",
    )
    local_mode: bool = Field(
        default=False,
        description=(
            "Development mode: plaintext gRPC trusting identity metadata from any caller (with "
            "every role when none is given), and no transport security required. Only ``beez up`` "
            "and the test suite turn it on; production (the default) verifies every hop."
        ),
    )
    tls_allowed_callers: str = Field(
        default=",".join(CALLERS),
        description=(
            "Comma list of the certificate names (CN) whose calls may carry identity metadata "
            "(x-org-id, x-user-id, x-roles): the gateway, the services, and internal platform callers."
        ),
    )
    grpc_host: str | None = Field(
        default=None,
        description=(
            "Listen address of the gRPC (and health) port; unset: 127.0.0.1 in plaintext local "
            "mode, which trusts any caller's identity metadata, and 0.0.0.0 otherwise."
        ),
    )
    grpc_port: int = Field(default=50050, ge=0, le=65535)
    health_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description=(
            "A second, plaintext port serving only grpc.health.v1, for Kubernetes' native gRPC "
            "probes (which cannot present a client certificate); unset, there is none."
        ),
    )
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    log_pii: bool = Field(default=False, description="Log emails and phone numbers unmasked.")
    health_interval_s: float = Field(default=2.0, gt=0, description="How often dependencies are probed.")
    drain_grace_s: float = Field(
        default=10.0,
        ge=0,
        description="How long SIGTERM waits for in-flight RPCs, then for the consumers' handlers in flight.",
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_statement_timeout_s: float = Field(
        default=30.0,
        ge=0,
        description="PostgreSQL cancels a statement of this service running longer (0: no limit).",
    )
    db_idle_in_transaction_timeout_s: float = Field(
        default=60.0,
        ge=0,
        description=(
            "PostgreSQL ends a connection left idle inside a transaction this long, releasing its "
            "locks (0: no limit)."
        ),
    )
    condition_max_cost: int = Field(
        default=CONDITION_MAX_COST,
        ge=1,
        description=(
            "Cost budget of one condition list, in units of about 100 ns (decision 0022): validation "
            "refuses a condition over it, evaluation refuses data that would make one cost more. "
            "The automation service, the trigger and the executor must share the value."
        ),
    )
    grpc_max_concurrent_rpcs: int = Field(
        default=1000,
        ge=1,
        description="RPCs the gRPC server runs at once; more are refused with RESOURCE_EXHAUSTED.",
    )
    db_pool_pre_ping: bool = Field(
        default=False,
        description="Ping a pooled connection before each use (a round trip per transaction).",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="The asyncio event loop: uvloop (libuv, less CPU per I/O) or the standard one.",
    )
    gc_threshold: int = Field(
        default=10_000,
        ge=0,
        description=(
            "Allocations between collections of the garbage collector's youngest generation "
            "(Python's default is 700; 0 keeps it). What a service allocates per message is "
            "short-lived and acyclic, and at the default the collector took 10-15 % of the "
            "executor's CPU. Objects alive once the service has started are frozen out of it."
        ),
    )
    outbox_direct_publish: bool = Field(
        default=True,
        description=(
            "Publish a transaction's outbox rows right after it commits instead of waiting for the "
            "relay (which still sends whatever that misses, after 5 s)."
        ),
    )
    clock_offset_file: str = Field(
        default="",
        description="Testing: a file holding seconds to add to the wall clock (see FileOffsetClock).",
    )

    # --- JetStream stream limits (decision 0027) ----------------------------------------------
    streams: dict[str, StreamLimits] = Field(
        default_factory=dict,
        description=(
            "Per stream (EVENTS, JOBS, EXECUTIONS, AUTOMATIONS, COMMANDS, WAITS, DLQ), as JSON: "
            '{"EVENTS": {"replicas": 3, "max_bytes": 10737418240, "max_age_s": 604800, '
            '"discard": "new"}}. Fields left out keep the development defaults '
            "(beez.kit.bus.topology.DEFAULT_STREAM_LIMITS); applied when the streams are declared "
            "at start, updating a stream whose limits differ."
        ),
    )

    @field_validator("streams")
    @classmethod
    def _known_streams(cls, value: dict[str, StreamLimits]) -> dict[str, StreamLimits]:
        stream_limits(value)  # raises for a stream that does not exist
        return value

    @property
    def listen_host(self) -> str:
        """``grpc_host`` when set; else loopback in plaintext local mode, every interface otherwise."""
        if self.grpc_host:
            return self.grpc_host
        return "127.0.0.1" if self.local_mode and self.tls_files() is None else "0.0.0.0"

    def allowed_callers(self) -> frozenset[str]:
        """The names in :attr:`tls_allowed_callers`."""
        return frozenset(n.strip() for n in self.tls_allowed_callers.split(",") if n.strip())

    def database_tls(self) -> dict[str, str]:
        """The libpq TLS parameters of this process's connections (:func:`beez.kit.db.database_tls`);
        raises InsecureDatabaseError in production below verify-full unless allowed explicitly."""
        from beez.kit.db import database_tls

        return database_tls(
            self.database_url,
            sslmode=self.database_sslmode,
            sslrootcert=self.database_sslrootcert,
            local_mode=self.local_mode,
            allow_insecure=self.database_allow_insecure,
        )


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Builds ``cls`` from the environment, or exits with a message naming each bad variable."""
    try:
        return cls()
    except SecretFileError as exc:
        print(f"invalid configuration for {cls.__name__}:\n  {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except ValidationError as exc:
        prefix = str(cls.model_config.get("env_prefix", ""))
        delimiter = str(cls.model_config.get("env_nested_delimiter") or "_")
        secrets = set(secret_fields(cls))
        lines = [f"invalid configuration for {cls.__name__}:"]
        for err in exc.errors():
            if not err["loc"]:
                lines.append(f"  {err['msg']}")
                continue
            path = tuple(str(p) for p in err["loc"])
            name = prefix + delimiter.join(path).upper()
            shown = "hidden: a secret" if path in secrets else repr(err.get("input"))
            lines.append(f"  {name}: {err['msg']} (got {shown})")
        print("\n".join(lines), file=sys.stderr)
        raise SystemExit(2) from None
