"""Binary OTLP (protobuf), decoded with the official ``opentelemetry-proto`` messages.

Read: the Collector's file exporter with ``format: proto`` (each export request preceded by its
length as a 4-byte big-endian integer; with ``compression: zstd`` each request compressed on its
own), or one bare request (an OTLP/HTTP ``application/x-protobuf`` body). Whether a request holds
traces, metrics or logs is not written in the bytes (all three start with field 1); it is the
message type that decodes every byte as a known field.

The decoded messages go through ``google.protobuf.json_format`` to the same table builder as
OTLP/JSON, so both readers give equal tables for the same requests (tested on SDK output).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import gzip
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Literal, TypeAlias, cast

from rcakit.errors import DataError, MissingDependencyError
from rcakit.telemetry.loaders._common import PathLike, as_path, read_bytes
from rcakit.telemetry.loaders._histograms import DEFAULT_QUANTILES
from rcakit.telemetry.loaders._notes import note
from rcakit.telemetry.loaders._otlp_tables import OtlpTables
from rcakit.telemetry.loaders._otlp_values import unwrap
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from google.protobuf.message import Message
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs
    from opentelemetry.proto.metrics.v1.metrics_pb2 import (
        ExponentialHistogramDataPoint,
        HistogramDataPoint,
        NumberDataPoint,
        ResourceMetrics,
    )
    from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric as MetricMessage
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span

    from rcakit._types import JSONObject, JSONValue

    #: One OTLP export request, of traces, metrics or logs.
    _Request: TypeAlias = ExportTraceServiceRequest | ExportMetricsServiceRequest | ExportLogsServiceRequest

__all__ = ["SIGNALS", "looks_like_otlp_proto", "read_otlp_proto", "split_frames", "tables_from_json_documents"]

SIGNALS = ("traces", "metrics", "logs")
_OPTIONAL_FIELDS: tuple[Literal["sum", "min", "max"], ...] = ("sum", "min", "max")
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"
_TOP = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}


def _requests() -> dict[str, type[_Request]]:
    """The three export request classes of opentelemetry-proto."""
    try:
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    except ImportError as exc:  # pragma: no cover - a base dependency; only a broken install lacks it
        raise MissingDependencyError(
            "reading OTLP protobuf needs opentelemetry-proto; install it with: pip install opentelemetry-proto"
        ) from exc
    return {"traces": ExportTraceServiceRequest, "metrics": ExportMetricsServiceRequest,
            "logs": ExportLogsServiceRequest}


def split_frames(data: bytes) -> list[bytes] | None:
    """The messages of a length-prefixed file (4-byte big-endian sizes), or None when the sizes do not add up."""
    frames = []
    pos, size = 0, len(data)
    while pos < size:
        if pos + 4 > size:
            return None
        length = int.from_bytes(data[pos:pos + 4], "big")
        pos += 4
        if pos + length > size:
            return None
        frames.append(data[pos:pos + length])
        pos += length
    return frames if frames else None


def looks_like_otlp_proto(head: bytes) -> bool:
    """Whether the first bytes may start a length-prefixed OTLP file or a bare export request."""
    if len(head) < 2:
        return False
    if head[:1] == b"\x0a":  # field 1 (resource_spans/metrics/logs), length-delimited
        return True
    if len(head) >= 6 and head[:2] == b"\0\0":
        return head[4:5] == b"\x0a" or head[4:8] == _ZSTD_MAGIC or head[4:6] == _GZIP_MAGIC
    return False


def _inflate(frame: bytes, source: str, number: int) -> bytes:
    if frame[:4] == _ZSTD_MAGIC:
        try:
            import zstandard
        except ImportError as exc:
            raise DataError(
                f"request {number + 1} is zstd-compressed (the file exporter's compression: zstd), and the "
                "zstandard package is not installed", source=source, row=number,
                hint="pip install zstandard, or export without compression") from exc
        return bytes(zstandard.ZstdDecompressor().decompress(frame, max_output_size=1 << 31))
    if frame[:2] == _GZIP_MAGIC:
        return gzip.decompress(frame)
    return frame


def _decode(frame: bytes, signal: str | None, source: str, number: int) -> tuple[str, _Request]:
    """The signal and message that explain every byte of ``frame``."""
    from google.protobuf.message import DecodeError

    classes = _requests()
    candidates = [signal] if signal is not None else list(SIGNALS)
    fits: list[tuple[str, _Request]] = []
    understood: dict[str, int] = {}
    for name in candidates:
        message = classes[name]()
        try:
            message.ParseFromString(frame)
        except DecodeError:
            understood[name] = 0
            continue
        message.DiscardUnknownFields()
        understood[name] = message.ByteSize()
        if message.ByteSize() == len(frame):
            fits.append((name, message))
    if len(fits) == 1 or (fits and signal is not None):
        return fits[0]
    if len(fits) > 1:  # only an empty request decodes as all three
        return fits[0]
    best = max(understood.items(), key=lambda kv: kv[1]) if understood else ("traces", 0)
    raise DataError(
        f"request {number + 1} ({len(frame)} bytes) is not an OTLP export request"
        + (f" of {signal}" if signal else "")
        + f": read as {best[0]}, only {best[1]} of its bytes are known OTLP fields", source=source, row=number,
        hint="rcakit reads the Collector file exporter's format: proto (4-byte big-endian length before each "
             "request) or one ExportTrace/Metrics/LogsServiceRequest; pass signal= if you know the kind")


def _to_dict(message: Message, signal: str) -> JSONObject:
    from google.protobuf import json_format

    out: JSONObject = json_format.MessageToDict(message, use_integers_for_enums=True)
    out.setdefault(_TOP[signal], [])  # an empty request is still a request of its kind
    return out


# -- messages to the dicts OtlpTables reads ---------------------------------------------------------------
# json_format.MessageToDict walks every field by reflection (about 100 us a span); these read only what
# the tables need, straight from the message (ids as hex), and give the same tables (tested).
def _any(value: AnyValue) -> JSONObject:
    kind = value.WhichOneof("value")
    if kind is None:
        return {}
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": value.int_value}
    if kind == "double_value":
        return {"doubleValue": value.double_value}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode("ascii")}
    if kind == "array_value":
        return {"arrayValue": {"values": [_any(v) for v in value.array_value.values]}}
    return {"kvlistValue": {"values": _attrs(value.kvlist_value.values)}}


def _attrs(items: Iterable[KeyValue]) -> list[JSONObject]:
    return [{"key": kv.key, "value": _any(kv.value)} for kv in items]


def _resource(item: ResourceSpans | ResourceLogs | ResourceMetrics) -> JSONObject:
    return {"attributes": _attrs(item.resource.attributes)}


def _span(span: Span) -> JSONObject:
    out: JSONObject = {"traceId": span.trace_id.hex(), "spanId": span.span_id.hex(), "parentSpanId": span.parent_span_id.hex(),
           "name": span.name, "kind": span.kind, "startTimeUnixNano": span.start_time_unix_nano,
           "endTimeUnixNano": span.end_time_unix_nano,
           "status": {"code": span.status.code, "message": span.status.message}}
    if span.events:
        out["events"] = [{"timeUnixNano": e.time_unix_nano, "name": e.name, "attributes": _attrs(e.attributes)}
                         for e in span.events]
    return out


def _log(record: LogRecord) -> JSONObject:
    out: JSONObject = {"timeUnixNano": record.time_unix_nano, "observedTimeUnixNano": record.observed_time_unix_nano,
           "severityText": record.severity_text, "severityNumber": record.severity_number,
           "traceId": record.trace_id.hex(), "spanId": record.span_id.hex()}
    if record.HasField("body"):
        out["body"] = _any(record.body)
    return out


def _number_point(point: NumberDataPoint) -> JSONObject:
    out: JSONObject = {"attributes": _attrs(point.attributes), "timeUnixNano": point.time_unix_nano,
                           "startTimeUnixNano": point.start_time_unix_nano, "flags": point.flags}
    kind = point.WhichOneof("value")
    if kind == "as_double":
        out["asDouble"] = point.as_double
    elif kind == "as_int":
        out["asInt"] = point.as_int
    return out


def _histogram_point(point: HistogramDataPoint | ExponentialHistogramDataPoint, exponential: bool) -> JSONObject:
    out: JSONObject = {"attributes": _attrs(point.attributes), "timeUnixNano": point.time_unix_nano,
                           "startTimeUnixNano": point.start_time_unix_nano, "flags": point.flags,
                           "count": point.count}
    for name in _OPTIONAL_FIELDS:
        if point.HasField(name):
            out[name] = getattr(point, name)
    if exponential:
        exp = cast("ExponentialHistogramDataPoint", point)
        out.update(scale=exp.scale, zeroCount=exp.zero_count, zeroThreshold=exp.zero_threshold,
                   positive={"offset": exp.positive.offset, "bucketCounts": list(exp.positive.bucket_counts)},
                   negative={"offset": exp.negative.offset, "bucketCounts": list(exp.negative.bucket_counts)})
    else:
        explicit = cast("HistogramDataPoint", point)
        out.update(bucketCounts=list(explicit.bucket_counts), explicitBounds=list(explicit.explicit_bounds))
    return out


def _metric(metric: MetricMessage) -> JSONObject:
    out: JSONObject = {"name": metric.name}
    kind = metric.WhichOneof("data")
    if kind in ("gauge", "sum"):
        body = getattr(metric, kind)
        out[kind] = {"dataPoints": [_number_point(p) for p in body.data_points]}
    elif kind in ("histogram", "exponential_histogram"):
        body = getattr(metric, kind)
        out["histogram" if kind == "histogram" else "exponentialHistogram"] = {
            "aggregationTemporality": body.aggregation_temporality,
            "dataPoints": [_histogram_point(p, kind != "histogram") for p in body.data_points]}
    elif kind == "summary":
        out["summary"] = {"dataPoints": [
            {"attributes": _attrs(p.attributes), "timeUnixNano": p.time_unix_nano, "flags": p.flags,
             "count": p.count, "sum": p.sum,
             "quantileValues": [{"quantile": q.quantile, "value": q.value} for q in p.quantile_values]}
            for p in metric.summary.data_points]}
    return out


def message_to_tables_dict(message: _Request, signal: str) -> JSONObject:
    """The request as the dict :class:`OtlpTables` reads (ids in hex), without json_format's reflection."""
    if signal == "traces":
        return {"resourceSpans": [{"resource": _resource(rs), "scopeSpans": [
            {"spans": [_span(span) for span in ss.spans]} for ss in rs.scope_spans]}
            for rs in cast("ExportTraceServiceRequest", message).resource_spans]}
    if signal == "logs":
        return {"resourceLogs": [{"resource": _resource(rl), "scopeLogs": [
            {"logRecords": [_log(r) for r in sl.log_records]} for sl in rl.scope_logs]}
            for rl in cast("ExportLogsServiceRequest", message).resource_logs]}
    return {"resourceMetrics": [{"resource": _resource(rm), "scopeMetrics": [
        {"metrics": [_metric(m) for m in sm.metrics]} for sm in rm.scope_metrics]}
        for rm in cast("ExportMetricsServiceRequest", message).resource_metrics]}


def read_otlp_proto(
    path: PathLike,
    *,
    signal: str | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    span_events: bool = True,
    entity_attribute: str | Sequence[str] | None = None,
) -> Telemetry:
    """Read binary OTLP: the Collector file exporter's ``format: proto`` or one bare export request.

    ``signal`` ("traces", "metrics" or "logs") says what the requests hold when you know it; by
    default each request's kind is found from its bytes. Metrics, logs and spans become the same
    tables as :func:`~rcakit.telemetry.loaders.read_otlp_json` gives (histograms and span events
    included).

    >>> tel = read_otlp_proto("traces.binpb")  # doctest: +SKIP
    """
    from rcakit.telemetry.loaders._histograms import check_quantiles

    if signal is not None and signal not in SIGNALS:
        raise ValueError(f"signal must be one of {', '.join(SIGNALS)} (or None to find it), got {signal!r}")
    file = as_path(path)
    source = str(file)
    report = LoadReport()
    data = read_bytes(file)
    if not data:
        raise DataError("the file is empty", source=source, hint="Export the OTLP data again")
    frames = split_frames(data)
    framed = frames is not None
    if frames is None:
        frames = [data]
    tables = OtlpTables(source, quantiles=check_quantiles(quantiles), ids="base64", span_events=span_events,
                        entity_attribute=entity_attribute)
    kinds: dict[str, int] = {}
    for number, frame in enumerate(frames):
        name, message = _decode(_inflate(frame, source, number), signal, source, number)
        kinds[name] = kinds.get(name, 0) + 1
        tables.add(message_to_tables_dict(message, name), number)
    telemetry = tables.telemetry(report)
    what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    note(report, source, f"decoded binary OTLP with opentelemetry-proto ({what} request"
         f"{'s' if len(frames) > 1 else ''}{', length-prefixed' if framed else ''})",
         "the kind of each request is the message type that explains all its bytes")
    return telemetry


def _ids_to_base64(node: JSONValue) -> JSONValue:
    """OTLP/JSON writes ids as hex, protobuf's JSON mapping expects base64: convert before parsing."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str) and value:
                with contextlib.suppress(ValueError):  # already base64 (Tempo) or malformed: the parser says
                    value = base64.b64encode(bytes.fromhex(value)).decode("ascii")
            out[key] = _ids_to_base64(value)
        return out
    if isinstance(node, list):
        return [_ids_to_base64(v) for v in node]
    return node


_LEGACY = {"instrumentationLibrarySpans": "scopeSpans", "instrumentationLibraryMetrics": "scopeMetrics",
           "instrumentationLibraryLogs": "scopeLogs", "instrumentationLibrary": "scope"}


def _modern_names(node: JSONValue) -> JSONValue:
    if isinstance(node, dict):
        return {_LEGACY.get(k, k): _modern_names(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_modern_names(v) for v in node]
    return node


def tables_from_json_documents(documents: list[JSONValue], source: str, *, quantiles: Sequence[float],
                               span_events: bool = True,
                               entity_attribute: str | Sequence[str] | None = None) -> OtlpTables:
    """OTLP/JSON documents parsed strictly by opentelemetry-proto, gathered into tables."""
    from google.protobuf import json_format

    classes = _requests()
    tables = OtlpTables(source, quantiles=quantiles, ids="base64", span_events=span_events,
                        entity_attribute=entity_attribute)
    for number, document in enumerate(documents):
        request, wrapper = unwrap(document)
        if request is None:
            tables.add(document, number)  # raises the reader's own error naming what the document is
            continue
        if wrapper:
            tables.wrappers.add(wrapper)
        for signal, key in _TOP.items():
            if key not in request:
                continue
            part = _modern_names(_ids_to_base64({key: copy.deepcopy(request[key])}))
            try:
                message = json_format.ParseDict(part, classes[signal]())
            except json_format.ParseError as exc:
                raise DataError(f"document {number + 1} is not valid OTLP {signal}: {exc}", source=source,
                                row=number, hint="The file does not follow the OTLP JSON encoding; "
                                "engine='fast' reads what it can") from exc
            tables.add(_to_dict(message, signal), number)
    return tables
