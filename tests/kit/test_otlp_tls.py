"""Spans go to the OTLP collector over verified TLS by default, in plaintext only when told
(a real gRPC collector endpoint on 127.0.0.1, with a certificate from a throwaway CA)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from beez.kit.telemetry import otlp_exporter
from tests.support.certs import ServerCerts, server_certs


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans: list[str] = []

    def Export(self, request: Any, context: Any) -> Any:
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                self.spans.extend(span.name for span in scope.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


def start_collector(certs: ServerCerts | None) -> tuple[grpc.Server, Collector, str]:
    collector = Collector()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, server)  # type: ignore[no-untyped-call]
    if certs is None:
        port = server.add_insecure_port("127.0.0.1:0")
    else:
        credentials = grpc.ssl_server_credentials(
            [(certs.key_file.read_bytes(), certs.cert_file.read_bytes())]
        )
        port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, collector, f"localhost:{port}"


@pytest.fixture
def certs(tmp_path: Path) -> ServerCerts:
    return server_certs(tmp_path / "collector")


@pytest.fixture
def tls_collector(certs: ServerCerts) -> Iterator[tuple[Collector, str]]:
    server, collector, endpoint = start_collector(certs)
    yield collector, endpoint
    server.stop(None)


@pytest.fixture
def plaintext_collector() -> Iterator[tuple[Collector, str]]:
    server, collector, endpoint = start_collector(None)
    yield collector, endpoint
    server.stop(None)


def export_one(exporter: SpanExporter, name: str) -> SpanExportResult:
    provider = TracerProvider(resource=Resource.create({"service.name": "beez-test"}), shutdown_on_exit=False)
    spans: list[Any] = []

    class Keep(SimpleSpanProcessor):
        def on_end(self, span: Any) -> None:
            spans.append(span)

    provider.add_span_processor(Keep(exporter))
    with provider.get_tracer("test").start_as_current_span(name):
        pass
    try:
        return exporter.export(spans)
    finally:
        exporter.shutdown()


def test_the_default_exporter_speaks_tls_verified_by_the_ca_file(
    tls_collector: tuple[Collector, str], certs: ServerCerts
) -> None:
    collector, endpoint = tls_collector
    assert (
        export_one(otlp_exporter(endpoint, ca_file=str(certs.ca_file)), "secure") is SpanExportResult.SUCCESS
    )
    assert collector.spans == ["secure"]


def test_the_default_exporter_refuses_a_collector_its_roots_do_not_vouch_for(
    tls_collector: tuple[Collector, str], tmp_path: Path
) -> None:
    collector, endpoint = tls_collector
    other = server_certs(tmp_path / "other")
    exporter = otlp_exporter(endpoint, ca_file=str(other.ca_file))
    setattr(exporter, "_timeout", 2)  # noqa: B010 (the SDK's retry deadline)
    assert export_one(exporter, "refused") is SpanExportResult.FAILURE
    assert collector.spans == []


def test_the_default_exporter_never_falls_back_to_plaintext(
    plaintext_collector: tuple[Collector, str],
) -> None:
    collector, endpoint = plaintext_collector
    exporter = otlp_exporter(endpoint)
    setattr(exporter, "_timeout", 2)  # noqa: B010
    assert export_one(exporter, "refused") is SpanExportResult.FAILURE
    assert collector.spans == []


def test_insecure_exports_in_plaintext_to_a_local_collector(
    plaintext_collector: tuple[Collector, str],
) -> None:
    collector, endpoint = plaintext_collector
    assert export_one(otlp_exporter(endpoint, insecure=True), "local") is SpanExportResult.SUCCESS
    assert collector.spans == ["local"]
