"""OpenTelemetry: one tracer provider per process, gRPC instrumentation, W3C context on NATS.

Export goes to an OTLP collector when ``otlp_endpoint`` is set, over TLS unless told the collector
is a local plaintext one (``otlp_insecure``); ``otlp_ca_file`` names the CA that verifies it
(the system roots otherwise). Otherwise spans are not
recorded: each is a non-recording span that still carries a trace id (so log lines carry trace
ids and context still propagates, unsampled) at a fraction of the cost of building a span
nobody exports, which was a fifth of a consumer's CPU per message at light load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

_configured = False
_exporting = False


def otlp_exporter(endpoint: str, *, insecure: bool = False, ca_file: str = "") -> SpanExporter:
    """An OTLP/gRPC span exporter to ``endpoint``: TLS verified against ``ca_file`` (else the
    system roots), or plaintext when ``insecure`` (a collector on the same host or pod)."""
    import grpc
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    if insecure:
        return OTLPSpanExporter(endpoint=endpoint, insecure=True)
    roots = Path(ca_file).read_bytes() if ca_file else None
    return OTLPSpanExporter(
        endpoint=endpoint, insecure=False, credentials=grpc.ssl_channel_credentials(root_certificates=roots)
    )


def configure_tracing(
    service: str,
    otlp_endpoint: str = "",
    exporter: SpanExporter | None = None,
    *,
    otlp_insecure: bool = False,
    otlp_ca_file: str = "",
) -> None:
    """Installs the global tracer provider once per process."""
    global _configured, _exporting
    if _configured:
        return
    if exporter is None and otlp_endpoint:
        exporter = otlp_exporter(otlp_endpoint, insecure=otlp_insecure, ca_file=otlp_ca_file)
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"beez-{service}"}),
        sampler=sampling.DEFAULT_ON if exporter is not None else sampling.ALWAYS_OFF,
    )
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _configured = True
    _exporting = exporter is not None


def grpc_server_interceptor() -> Any:
    """A grpc.aio server interceptor that continues the caller's trace."""
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return aio_server_interceptor()  # type: ignore[no-untyped-call]


def grpc_client_interceptors() -> list[Any]:
    """grpc.aio client interceptors that start a span and send its context."""
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return list(aio_client_interceptors())  # type: ignore[no-untyped-call]


def inject_headers(headers: dict[str, str] | None = None) -> dict[str, str]:
    """Adds the current trace context (``traceparent``) to message headers."""
    carrier = dict(headers or {})
    propagate.inject(carrier)
    return carrier


@contextmanager
def extracted_context(headers: Mapping[str, str] | None) -> Iterator[None]:
    """Makes the trace context carried in message headers current for the block."""
    ctx = propagate.extract(headers if headers is not None else {})
    token = otel_context.attach(ctx)
    try:
        yield
    finally:
        otel_context.detach(token)


@contextmanager
def span(
    tracer: trace.Tracer,
    name: str,
    *,
    kind: trace.SpanKind = trace.SpanKind.INTERNAL,
    attributes: Callable[[], Mapping[str, Any]] | None = None,
) -> Iterator[None]:
    """A span around the block when spans are exported, and nothing at all when they are not.

    For spans opened per message or per batch: even a non-recording span costs a sampler call,
    span and context objects and attaching them (about 6 µs), a noticeable part of consuming one
    message. Without one, the block keeps the context it had (the one extracted from the
    message's headers), so log lines still carry the trace id. ``attributes`` is called only
    when the span is made.
    """
    if not _exporting:
        yield
        return
    with tracer.start_as_current_span(name, kind=kind, attributes=attributes() if attributes else None):
        yield


def tracer(name: str) -> trace.Tracer:
    """The tracer for a module."""
    return trace.get_tracer(name)
