"""structlog JSON logging: one line per event, trace ids on every line, PII masked.

Standard-library loggers (grpc, sqlalchemy, nats) are routed through the same processors, so
every line of a process has one shape.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

from beez.kit.masking import mask_text, mask_value

__all__ = [
    "SECRET_FIELDS",
    "configure_logging",
    "get_logger",
    "mask_pii",
    "mask_text",
    "mask_value",
    "redact_secret_fields",
]

SECRET_FIELDS = frozenset(
    {
        "access_token",
        "api_key",
        "auth_token",
        "authorization",
        "bot_token",
        "client_secret",
        "credentials",
        "password",
        "refresh_token",
        "secret",
        "secret_key",
        "token",
    }
)
"""Log fields whose value is a credential, whatever it looks like: replaced whole (decision 0040)."""


def redact_secret_fields(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: a field named like a credential (:data:`SECRET_FIELDS`) is logged as
    ``[redacted]``, so a connection's credentials never reach a log line by accident."""
    for key in event_dict.keys() & SECRET_FIELDS:
        event_dict[key] = "[redacted]"
    return event_dict


def mask_pii(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: masks emails and phone numbers in every field."""
    for key, value in event_dict.items():
        if key not in ("trace_id", "span_id", "timestamp", "level", "logger"):
            event_dict[key] = mask_value(value)
    return event_dict


def add_trace_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: adds the current span's trace_id and span_id, when there is one."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def configure_logging(service: str, level: str = "INFO", *, mask: bool = True) -> None:
    """Sends every log line of the process to stdout as JSON."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        # Before masking: a traceback quotes values (an address in an error, SQL parameters).
        structlog.processors.format_exc_info,
        redact_secret_fields,
    ]
    if mask:
        shared.append(mask_pii)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.contextvars.bind_contextvars(service=service)
    for noisy in ("nats", "sqlalchemy.engine", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for talkative in ("httpx", "httpcore"):  # log whole request URLs: a Slack webhook's path is a secret
        logging.getLogger(talkative).setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A logger bound to ``name``."""
    return structlog.get_logger(name)  # type: ignore[no-any-return]
