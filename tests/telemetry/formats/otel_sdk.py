"""Telemetry recorded by the OpenTelemetry Python SDK and serialised as the Collector's file exporter does.

``record()`` runs a small two-service system through the real SDK (TracerProvider, MeterProvider
with an in-memory reader, LoggerProvider) and keeps both what the SDK recorded (its own objects,
the truth the tests compare against) and the export requests made by the official OTLP encoders
(``opentelemetry-exporter-otlp-proto-common``). ``write_json_lines`` writes those requests as the
Collector's file exporter writes ``format: json``: one request per line in the OTLP/JSON mapping
(camelCase, hex trace and span ids, enums as integers, 64-bit integers as strings).
``write_proto`` writes ``format: proto``: each request serialised and preceded by its length as a
4-byte big-endian unsigned integer.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricsData
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

T0 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z in unix nanoseconds
MS = 1_000_000
LATENCY_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
# Two collections of the metric reader: what each request-latency batch recorded.
LATENCIES = ((0.004, 0.02, 0.03, 0.04, 0.07, 0.09, 0.2, 0.3), (0.6, 0.7, 0.8, 0.9, 0.95, 0.4, 0.3, 0.2))
QUEUE_SIZES = ((3.0, 7.0, 12.0, 40.0), (80.0, 90.0, 120.0, 200.0))


@dataclass
class Recorded:
    """What the SDK recorded and the export requests its OTLP encoders made of it."""

    spans: list[ReadableSpan] = field(default_factory=list)
    metrics: list[MetricsData] = field(default_factory=list)
    logs: list[Any] = field(default_factory=list)
    requests: list[Message] = field(default_factory=list)


def _resource(service: str) -> Resource:
    return Resource.create({"service.name": service, "service.version": "1.0.0"})


def record() -> Recorded:
    """Run the SDK: a checkout trace over two services, metrics collected twice, and log records."""
    out = Recorded()
    span_exporter = InMemorySpanExporter()
    providers = {}
    for service in ("frontend", "payment"):
        provider = TracerProvider(resource=_resource(service))
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        providers[service] = provider
    front = providers["frontend"].get_tracer("shop.frontend", "1.0.0")
    pay = providers["payment"].get_tracer("shop.payment", "1.0.0")
    root = front.start_span("GET /checkout", kind=SpanKind.SERVER, start_time=T0,
                            attributes={"http.request.method": "GET", "http.route": "/checkout"})
    root_ctx = trace.set_span_in_context(root)
    client = front.start_span("POST payment/charge", context=root_ctx, kind=SpanKind.CLIENT, start_time=T0 + 10 * MS)
    server = pay.start_span("charge", context=trace.set_span_in_context(client), kind=SpanKind.SERVER,
                            start_time=T0 + 12 * MS)
    server.record_exception(ValueError("card declined"), timestamp=T0 + 170 * MS)
    client.add_event("retry", {"attempt": 2}, timestamp=T0 + 100 * MS)
    server.set_status(Status(StatusCode.ERROR, "card declined"))
    server.end(end_time=T0 + 180 * MS)
    client.set_status(Status(StatusCode.ERROR))
    client.end(end_time=T0 + 185 * MS)
    root.end(end_time=T0 + 200 * MS)
    out.spans = list(span_exporter.get_finished_spans())

    log_exporter = InMemoryLogRecordExporter()
    for service, span in (("frontend", root), ("payment", server)):
        log_provider = LoggerProvider(resource=_resource(service))
        log_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
        logger = log_provider.get_logger(f"shop.{service}")
        ctx = trace.set_span_in_context(span)
        logger.emit(timestamp=T0 + 150 * MS, context=ctx, severity_number=SeverityNumber.ERROR,
                    severity_text="ERROR", body=f"{service}: card declined for order 42",
                    attributes={"order.id": 42})
        logger.emit(timestamp=T0 + 5 * MS, observed_timestamp=T0 + 6 * MS, context=ctx,
                    severity_number=SeverityNumber.INFO, body={"event": "start", "service": service})
    out.logs = list(log_exporter.get_finished_logs())

    reader = InMemoryMetricReader()
    views = [
        View(instrument_name="http.server.request.duration",
             aggregation=ExplicitBucketHistogramAggregation(boundaries=LATENCY_BOUNDS)),
        View(instrument_name="queue.size", aggregation=ExponentialBucketHistogramAggregation(max_size=40)),
    ]
    meter_provider = MeterProvider(resource=_resource("frontend"), metric_readers=[reader], views=views)
    meter = meter_provider.get_meter("shop.frontend", "1.0.0")
    requests = meter.create_counter("http.server.requests", unit="{request}")
    duration = meter.create_histogram("http.server.request.duration", unit="s")
    queue = meter.create_histogram("queue.size", unit="{item}")
    cpu = meter.create_gauge("process.cpu.utilization", unit="1")
    for batch in range(2):
        requests.add(5 + batch * 10, {"http.route": "/checkout"})
        for latency in LATENCIES[batch]:
            duration.record(latency, {"http.route": "/checkout"})
        for size in QUEUE_SIZES[batch]:
            queue.record(size)
        cpu.set(0.25 + 0.5 * batch)
        out.metrics.append(reader.get_metrics_data())
    meter_provider.shutdown()

    out.requests = [encode_spans(out.spans), encode_logs(out.logs)] + [encode_metrics(m) for m in out.metrics]
    return out


_ID_FIELDS = {"traceId", "spanId", "parentSpanId"}


def _hex_ids(node: Any) -> Any:
    """protobuf's JSON mapping writes bytes as base64; the OTLP/JSON mapping writes ids as hex."""
    if isinstance(node, dict):
        return {k: (base64.b64decode(v).hex() if k in _ID_FIELDS and isinstance(v, str) else _hex_ids(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_hex_ids(v) for v in node]
    return node


def otlp_json(request: Message) -> dict[str, Any]:
    """One export request in the OTLP/JSON mapping (what the Collector's JSON marshaler writes)."""
    return _hex_ids(json_format.MessageToDict(request, use_integers_for_enums=True))


def write_json_lines(requests: list[Message], path: Path) -> Path:
    path.write_text("".join(json.dumps(otlp_json(r), separators=(",", ":")) + "\n" for r in requests))
    return path


def write_proto(requests: list[Message], path: Path) -> Path:
    path.write_bytes(b"".join(struct.pack(">I", r.ByteSize()) + r.SerializeToString() for r in requests))
    return path
