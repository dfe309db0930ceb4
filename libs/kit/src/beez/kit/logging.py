"""structlog JSON logging: one line per event, trace ids on every line, PII masked.

Standard-library loggers (grpc, sqlalchemy, nats) are routed through the same processors, so
every line of a process has one shape.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from opentelemetry import trace

_EMAIL = re.compile(r"\b([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"(?<![\w+-])\+?\d[\d\s().-]{6,}\d(?![\w-])")


def mask_text(text: str) -> str:
    """Masks emails (``a***@example.com``) and phone numbers (``+234****6789``) in free text."""
    text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE.sub(_mask_phone, text)


def _mask_phone(match: re.Match[str]) -> str:
    """Keeps the first three and last four digits: ``+2348012345678`` becomes ``+234****5678``."""
    whole = match.group(0)
    digits = "".join(c for c in whole if c.isdigit())
    if len(digits) < 8 or _DATE.fullmatch(whole.strip()):
        return whole
    lead = "+" if whole.startswith("+") else ""
    return f"{lead}{digits[:3]}****{digits[-4:]}"


def mask_value(value: Any) -> Any:
    """Masks PII inside strings, mappings and sequences, leaving other values alone."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value


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
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
    ]
    if mask:
        processors.append(mask_pii)
    shared = [*processors, structlog.processors.format_exc_info]
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
