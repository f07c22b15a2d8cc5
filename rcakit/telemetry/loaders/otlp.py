"""OpenTelemetry OTLP/JSON: the Collector's file exporter format (one export request per line, or one document).

Also read: the OTLP/HTTP JSON body, Tempo's ``/api/traces`` answer (``{"batches": [...]}``, ids in
base64, enum names) and ``/api/v2/traces`` (``{"trace": {...}}``), Grafana's trace download, and
Jaeger's ``/api/v3`` (``{"result": {...}}``). Binary OTLP (protobuf) is read by
:func:`~rcakit.telemetry.loaders.read_otlp_proto`.

Metrics: gauge and sum points become rows; histograms (explicit-bucket and exponential) become
``<name>.count``, ``<name>.sum``, ``<name>.mean`` and one row per quantile (``<name>.p50``,
``<name>.p95``, ``<name>.p99`` by default; see ``rcakit.telemetry.loaders._histograms`` for how
cumulative points are differenced); summaries ``.count``, ``.sum`` and one ``<name>{quantile="q"}``
row per quantile. Point attributes are kept in the metric name
(``http.server.duration.p95{http.route="/cart"}``) so that distinct series stay distinct. The
resource attribute ``service.name`` is the entity.
"""

from __future__ import annotations

import gzip as gzip_module
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import polars as pl

from rcakit._io import atomic_write_bytes
from rcakit.telemetry.loaders._common import PathLike, as_path
from rcakit.telemetry.loaders._histograms import DEFAULT_QUANTILES, check_quantiles
from rcakit.telemetry.loaders._json import read_json_documents
from rcakit.telemetry.loaders._otlp_tables import UNKNOWN_SERVICE, OtlpTables
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import JSONObject

__all__ = ["DEFAULT_QUANTILES", "UNKNOWN_SERVICE", "read_otlp_json", "write_otlp_json"]

_SEVERITY_NUMBER = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "WARNING": 13, "ERROR": 17, "FATAL": 21,
                    "CRITICAL": 21}


def read_otlp_json(
    path: PathLike,
    *,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    engine: Literal["fast", "protobuf"] = "fast",
    span_events: bool = True,
    entity_attribute: str | Sequence[str] | None = None,
) -> Telemetry:
    """Read an OTLP/JSON file (metrics, logs and traces) into a Telemetry.

    ``quantiles`` are the histogram quantiles made into rows (``()`` for none). ``engine="fast"``
    walks the JSON directly; ``engine="protobuf"`` first parses every request with the official
    ``opentelemetry-proto`` messages (``google.protobuf.json_format``: strict, slower, rejects a
    field OTLP does not define) and gives the same tables. Events recorded on spans (an exception
    recorded by ``span.record_exception``) become log lines of the span's service, linked to the
    span (``span_events=False`` leaves them out). The entity is the resource's ``service.name``, else
    (the Collector's kubeletstats, k8s_cluster, hostmetrics receivers) its deployment, pod, container,
    node or host name (``ENTITY_ATTRIBUTES``; reported); ``entity_attribute`` chooses the attribute(s).

    >>> tel = read_otlp_json("otel-export.jsonl")
    """
    file = as_path(path)
    source = str(file)
    qs = check_quantiles(quantiles)
    report = LoadReport()
    documents = read_json_documents(file, what="OTLP JSON")
    if engine == "protobuf":
        from rcakit.telemetry.loaders.otlp_proto import tables_from_json_documents

        tables = tables_from_json_documents(documents, source, quantiles=qs, span_events=span_events,
                                            entity_attribute=entity_attribute)
    elif engine == "fast":
        tables = OtlpTables(source, quantiles=qs, span_events=span_events, entity_attribute=entity_attribute)
        for number, document in enumerate(documents):
            tables.add(document, number)
    else:
        raise ValueError(f"engine must be 'fast' or 'protobuf', got {engine!r}")
    return tables.telemetry(report)


# -- writing -----------------------------------------------------------------------------------
def _resource(entity: str) -> JSONObject:
    return {"attributes": [{"key": "service.name", "value": {"stringValue": entity}}]}


def _ns(value: int) -> str:
    return str(int(value))


def write_otlp_json(telemetry: Telemetry, path: PathLike, *, scope: str = "rcakit") -> Path:
    """Write a Telemetry as OTLP/JSON Lines: one export request per signal (metrics, logs, traces).

    Metrics are written as gauges (a null value as a point flagged 'no recorded value'); spans keep
    their parent, status (as ``status.message``) and error flag (``status.code`` 2). A path ending in
    ``.gz`` is gzip-compressed. :func:`read_otlp_json` reads the file back to the same tables.
    """
    if not isinstance(telemetry, Telemetry):
        raise TypeError(f"write_otlp_json needs a Telemetry, got {type(telemetry).__name__}")
    target = Path(path)
    scope_obj = {"name": scope}
    requests = []
    if telemetry.metrics.height:
        requests.append({"resourceMetrics": _metric_resources(telemetry.metrics, scope_obj)})
    if telemetry.logs.height:
        requests.append({"resourceLogs": _log_resources(telemetry.logs, scope_obj)})
    if telemetry.spans.height:
        requests.append({"resourceSpans": _span_resources(telemetry.spans, scope_obj)})
    lines = [json.dumps(request, separators=(",", ":")) for request in requests]
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    if target.name.endswith(".gz"):
        payload = gzip_module.compress(payload, compresslevel=6, mtime=0)
    return atomic_write_bytes(target, payload)


def _metric_resources(m: pl.DataFrame, scope_obj: dict[str, str]) -> list[JSONObject]:
    """The metrics as gauges, one resource per entity (a null or non-finite value flagged 'no recorded value')."""
    resources = []
    frame = m.select("entity", "metric", pl.col("time").dt.epoch("ns").alias("t"), "value")
    for (entity,), group in frame.group_by("entity", maintain_order=True):
        metrics = []
        for (metric,), points in group.group_by("metric", maintain_order=True):
            data: list[JSONObject] = []
            for t, value in points.select("t", "value").iter_rows():
                if value is None or (isinstance(value, float) and not math.isfinite(value)):
                    data.append({"timeUnixNano": _ns(t), "flags": 1})
                else:
                    data.append({"timeUnixNano": _ns(t), "asDouble": float(value)})
            metrics.append({"name": metric, "gauge": {"dataPoints": data}})
        resources.append({"resource": _resource(str(entity)),
                          "scopeMetrics": [{"scope": scope_obj, "metrics": metrics}]})
    return resources


def _log_resources(lg: pl.DataFrame, scope_obj: dict[str, str]) -> list[JSONObject]:
    """The log lines as log records, one resource per entity."""
    resources = []
    frame = lg.select("entity", pl.col("time").dt.epoch("ns").alias("t"), "level", "message", "trace_id",
                      "span_id")
    for (entity,), group in frame.group_by("entity", maintain_order=True):
        records = []
        for t, level, message, trace_id, span_id in group.select("t", "level", "message", "trace_id",
                                                                 "span_id").iter_rows():
            record: JSONObject = {"timeUnixNano": _ns(t), "body": {"stringValue": message or ""}}
            if level:
                record["severityText"] = level
                number = _SEVERITY_NUMBER.get(level.upper())
                if number:
                    record["severityNumber"] = number
            if trace_id:
                record["traceId"] = trace_id
            if span_id:
                record["spanId"] = span_id
            records.append(record)
        resources.append({"resource": _resource(str(entity)),
                          "scopeLogs": [{"scope": scope_obj, "logRecords": records}]})
    return resources


def _span_resources(sp: pl.DataFrame, scope_obj: dict[str, str]) -> list[JSONObject]:
    """The spans with their parent, status message and error flag (``status.code`` 2), one resource per entity."""
    resources = []
    frame = sp.select("entity", "trace_id", "span_id", "parent_id", "operation",
                      pl.col("start").dt.epoch("ns").alias("s"), pl.col("end").dt.epoch("ns").alias("e"),
                      "status", "error")
    for (entity,), group in frame.group_by("entity", maintain_order=True):
        out = []
        for trace_id, span_id, parent_id, operation, s, e, status, error in group.select(
                "trace_id", "span_id", "parent_id", "operation", "s", "e", "status", "error").iter_rows():
            span: JSONObject = {"traceId": trace_id, "spanId": span_id, "name": operation or "",
                                    "startTimeUnixNano": _ns(s), "endTimeUnixNano": _ns(e)}
            if parent_id:
                span["parentSpanId"] = parent_id
            st: JSONObject = {}
            if error:
                st["code"] = 2
            if status:
                st["message"] = status
            if st:
                span["status"] = st
            out.append(span)
        resources.append({"resource": _resource(str(entity)),
                          "scopeSpans": [{"scope": scope_obj, "spans": out}]})
    return resources
