"""OpenTelemetry OTLP/JSON: the collector's file exporter format (one export request per line, or one document).

Metrics: gauge and sum points become rows; histograms (and exponential histograms) become
``<name>.count``, ``<name>.sum`` and ``<name>.mean``; summaries ``.count``, ``.sum`` and one
``<name>{quantile="q"}`` row per quantile. Point attributes are kept in the metric name
(``http.server.duration{http.route="/cart"}``) so that distinct series stay distinct. The resource
attribute ``service.name`` is the entity.
"""

from __future__ import annotations

import gzip as gzip_module
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from rcakit._io import atomic_write_bytes
from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, as_path, build_telemetry
from rcakit.telemetry.loaders._json import describe_json, read_json_documents
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

__all__ = ["read_otlp_json", "write_otlp_json"]

UNKNOWN_SERVICE = "unknown_service"
_SEVERITY = ((4, "TRACE"), (8, "DEBUG"), (12, "INFO"), (16, "WARN"), (20, "ERROR"), (24, "FATAL"))
_SEVERITY_NUMBER = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "WARNING": 13, "ERROR": 17, "FATAL": 21,
                    "CRITICAL": 21}
_NS = pl.Datetime("ns", "UTC")


def _any_value(value: Any) -> Any:
    """The Python value of an OTLP AnyValue."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return {kv.get("key"): _any_value(kv.get("value")) for kv in value["kvlistValue"].get("values", [])}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def _attributes(items: Iterable[dict[str, Any]] | None) -> dict[str, Any]:
    return {str(item.get("key")): _any_value(item.get("value")) for item in items or () if isinstance(item, dict)}


def _service(resource: dict[str, Any] | None, missing: list[int]) -> str:
    attrs = _attributes((resource or {}).get("attributes"))
    name = attrs.get("service.name")
    if name in (None, ""):
        missing[0] += 1
        return UNKNOWN_SERVICE
    return str(name)


def _scopes(resource_item: dict[str, Any], new: str, old: str) -> list[dict[str, Any]]:
    return resource_item.get(new) or resource_item.get(old) or []


def _nanos(value: Any) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    return int(value)


def _number(point: dict[str, Any]) -> float | None:
    if "asDouble" in point:
        return float(point["asDouble"])  # "NaN", "Infinity" are valid here; the model reports them
    if "asInt" in point:
        return float(int(point["asInt"]))
    return None


def _series_name(name: str, attrs: dict[str, Any]) -> str:
    if not attrs:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(attrs.items(), key=lambda kv: str(kv[0])))
    return f"{name}{{{inner}}}"


def _level(record: dict[str, Any]) -> str | None:
    text = record.get("severityText")
    if text:
        return str(text)
    number = record.get("severityNumber")
    if isinstance(number, str):
        return number.removeprefix("SEVERITY_NUMBER_").split("_")[0] or None
    if number:
        return next((name for limit, name in _SEVERITY if int(number) <= limit), "FATAL")
    return None


def _body(record: dict[str, Any]) -> str | None:
    body = record.get("body")
    if body is None:
        return None
    value = _any_value(body)
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _status(span: dict[str, Any]) -> tuple[str | None, bool, int]:
    status = span.get("status") or {}
    code = status.get("code", 0)
    if isinstance(code, str):
        code = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}.get(code, 0)
    message = status.get("message") or None
    return message, int(code) == 2, int(code)


def read_otlp_json(path: PathLike) -> Telemetry:
    """Read an OTLP/JSON file (metrics, logs and traces) into a Telemetry.

    >>> tel = read_otlp_json("otel-export.jsonl")
    """
    file = as_path(path)
    source = str(file)
    report = LoadReport()
    documents = read_json_documents(file, what="OTLP JSON")
    metrics: dict[str, list[Any]] = {"time": [], "entity": [], "metric": [], "value": []}
    logs: dict[str, list[Any]] = {k: [] for k in ("time", "entity", "level", "message", "trace_id", "span_id")}
    spans: dict[str, list[Any]] = {k: [] for k in ("trace_id", "span_id", "parent_id", "entity", "operation", "start",
                                                   "end", "status", "error", "status_code", "kind")}
    missing_service = [0]
    no_value = 0
    observed_time = 0
    found = False
    for number, document in enumerate(documents):
        if not isinstance(document, dict) or not (
                {"resourceMetrics", "resourceLogs", "resourceSpans"} & set(document)):
            raise DataError(
                f"this is not OTLP JSON: line/document {number + 1} is {describe_json(document)}",
                source=source, row=number,
                hint="OTLP JSON has resourceMetrics, resourceLogs or resourceSpans at the top (the collector's "
                     "file exporter writes one such object per line); rcakit.telemetry.loaders.load picks the reader")
        found = True
        for rm in document.get("resourceMetrics") or []:
            entity = _service(rm.get("resource"), missing_service)
            for scope in _scopes(rm, "scopeMetrics", "instrumentationLibraryMetrics"):
                for metric in scope.get("metrics") or []:
                    name = metric.get("name") or ""
                    if not name:
                        raise DataError("a metric has no name", source=source, column="metric", row=number,
                                        hint="Every OTLP metric needs a name")
                    rows = _metric_rows(metric, name, source)
                    for t, metric_name, value, flagged in rows:
                        if t is None:
                            raise DataError(f"a data point of metric {name!r} ({entity}) has no timeUnixNano",
                                            source=source, column="time", row=number,
                                            hint="Every data point needs its time in unix nanoseconds")
                        no_value += flagged
                        metrics["time"].append(t)
                        metrics["entity"].append(entity)
                        metrics["metric"].append(metric_name)
                        metrics["value"].append(value)
        for rl in document.get("resourceLogs") or []:
            entity = _service(rl.get("resource"), missing_service)
            for scope in _scopes(rl, "scopeLogs", "instrumentationLibraryLogs"):
                for record in scope.get("logRecords") or []:
                    t = _nanos(record.get("timeUnixNano"))
                    if t is None:
                        t = _nanos(record.get("observedTimeUnixNano"))
                        observed_time += 1
                    if t is None:
                        raise DataError(f"a log record of {entity!r} has neither timeUnixNano nor "
                                        "observedTimeUnixNano", source=source, column="time", row=number,
                                        hint="Every log record needs a time")
                    logs["time"].append(t)
                    logs["entity"].append(entity)
                    logs["level"].append(_level(record))
                    logs["message"].append(_body(record))
                    logs["trace_id"].append(record.get("traceId") or None)
                    logs["span_id"].append(record.get("spanId") or None)
        for rs in document.get("resourceSpans") or []:
            entity = _service(rs.get("resource"), missing_service)
            for scope in _scopes(rs, "scopeSpans", "instrumentationLibrarySpans"):
                for span in scope.get("spans") or []:
                    start = _nanos(span.get("startTimeUnixNano"))
                    end = _nanos(span.get("endTimeUnixNano"))
                    if start is None or end is None:
                        raise DataError(f"span {span.get('spanId')!r} of trace {span.get('traceId')!r} has no "
                                        "start or end time", source=source, column="start", row=number,
                                        hint="Spans need startTimeUnixNano and endTimeUnixNano")
                    message, error, code = _status(span)
                    spans["trace_id"].append(span.get("traceId") or None)
                    spans["span_id"].append(span.get("spanId") or None)
                    spans["parent_id"].append(span.get("parentSpanId") or None)
                    spans["entity"].append(entity)
                    spans["operation"].append(span.get("name"))
                    spans["start"].append(start)
                    spans["end"].append(end)
                    spans["status"].append(message)
                    spans["error"].append(error)
                    spans["status_code"].append(code)
                    kind = span.get("kind")
                    spans["kind"].append(str(kind) if kind is not None else None)
    if not found:
        raise DataError("the file holds no OTLP data", source=source,
                        hint="Expected resourceMetrics, resourceLogs or resourceSpans")
    if missing_service[0]:
        report.add(source, "entity", f"named resources without service.name {UNKNOWN_SERVICE!r}", missing_service[0],
                   "OTLP resources should carry the service.name attribute (the OpenTelemetry default is used)")
    if no_value:
        report.add(source, "value", "read data points without a value as null", no_value,
                   "the point has no asDouble/asInt or is flagged 'no recorded value'")
    if observed_time:
        report.add(source, "time", "used observedTimeUnixNano as the time of log records", observed_time,
                   "timeUnixNano is absent or 0")
    parts = []
    if metrics["time"]:
        frame = pl.DataFrame(
            {"time": pl.Series(metrics["time"], dtype=pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
             "entity": metrics["entity"], "metric": metrics["metric"],
             "value": pl.Series(metrics["value"], dtype=pl.Float64)})
        parts.append(build_telemetry("metrics", [frame], source=source, report=report))
    if logs["time"]:
        frame = pl.DataFrame(
            {"time": pl.Series(logs["time"], dtype=pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
             **{k: pl.Series(v, dtype=pl.String) for k, v in logs.items() if k != "time"}})
        parts.append(build_telemetry("logs", [frame], source=source, report=report))
    if spans["start"]:
        frame = pl.DataFrame({
            **{k: pl.Series(spans[k], dtype=pl.String) for k in ("trace_id", "span_id", "parent_id", "entity",
                                                                  "operation", "status")},
            "start": pl.Series(spans["start"], dtype=pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
            "end": pl.Series(spans["end"], dtype=pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
            "error": pl.Series(spans["error"], dtype=pl.Boolean),
            "status_code": pl.Series(spans["status_code"], dtype=pl.Int8),
            "kind": pl.Series(spans["kind"], dtype=pl.String),
        })
        parts.append(build_telemetry("spans", [frame], source=source, report=report))
    return _combine(parts, report)


def _metric_rows(metric: dict[str, Any], name: str, source: str) -> list[tuple[int | None, str, float | None, int]]:
    """(time, metric name, value, 1 if the point had no value) for each row a metric gives."""
    out: list[tuple[int | None, str, float | None, int]] = []
    for kind in ("gauge", "sum"):
        body = metric.get(kind)
        if body:
            for point in body.get("dataPoints") or []:
                value = None if int(point.get("flags", 0) or 0) & 1 else _number(point)
                out.append((_nanos(point.get("timeUnixNano")), _series_name(name, _attributes(point.get("attributes"))),
                            value, int(value is None)))
    for kind in ("histogram", "exponentialHistogram", "summary"):
        body = metric.get(kind)
        if not body:
            continue
        for point in body.get("dataPoints") or []:
            t = _nanos(point.get("timeUnixNano"))
            attrs = _attributes(point.get("attributes"))
            empty = int(point.get("flags", 0) or 0) & 1
            count = None if empty else float(int(point.get("count", 0) or 0))
            total = None if empty or point.get("sum") is None else float(point["sum"])
            mean = total / count if (count and total is not None) else None
            out.append((t, _series_name(f"{name}.count", attrs), count, int(count is None)))
            out.append((t, _series_name(f"{name}.sum", attrs), total, int(total is None)))
            if kind != "summary":
                out.append((t, _series_name(f"{name}.mean", attrs), mean, int(mean is None)))
            else:
                for q in point.get("quantileValues") or []:
                    out.append((t, _series_name(name, {**attrs, "quantile": q.get("quantile", 0)}),
                                float(q.get("value", math.nan)), 0))
    if not out and not any(metric.get(k) for k in ("gauge", "sum", "histogram", "exponentialHistogram", "summary")):
        raise DataError(f"metric {name!r} has no gauge, sum, histogram or summary", source=source, column="metric",
                        hint="rcakit reads gauge, sum, histogram, exponentialHistogram and summary metrics")
    return out


def _combine(parts: list[Telemetry], report: LoadReport) -> Telemetry:
    """One Telemetry from parts that each hold a different table (no re-sorting needed)."""
    if not parts:
        return Telemetry(report=report)
    tables: dict[str, pl.DataFrame | None] = {"metrics": None, "logs": None, "spans": None}
    for part in parts:
        for name in tables:
            table = getattr(part, name)
            if table.height:
                tables[name] = table
    return Telemetry(tables["metrics"], tables["logs"], tables["spans"], report=report, validated=True)


# -- writing -----------------------------------------------------------------------------------
def _resource(entity: str) -> dict[str, Any]:
    return {"attributes": [{"key": "service.name", "value": {"stringValue": entity}}]}


def _ns(value: Any) -> str:
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
    lines: list[str] = []
    scope_obj = {"name": scope}
    m = telemetry.metrics
    if m.height:
        resources = []
        frame = m.select("entity", "metric", pl.col("time").dt.epoch("ns").alias("t"), "value")
        for (entity,), group in frame.group_by("entity", maintain_order=True):
            metrics = []
            for (metric,), points in group.group_by("metric", maintain_order=True):
                data = []
                for t, value in points.select("t", "value").iter_rows():
                    if value is None or (isinstance(value, float) and not math.isfinite(value)):
                        data.append({"timeUnixNano": _ns(t), "flags": 1})
                    else:
                        data.append({"timeUnixNano": _ns(t), "asDouble": float(value)})
                metrics.append({"name": metric, "gauge": {"dataPoints": data}})
            resources.append({"resource": _resource(str(entity)),
                              "scopeMetrics": [{"scope": scope_obj, "metrics": metrics}]})
        lines.append(json.dumps({"resourceMetrics": resources}, separators=(",", ":")))
    lg = telemetry.logs
    if lg.height:
        resources = []
        frame = lg.select("entity", pl.col("time").dt.epoch("ns").alias("t"), "level", "message", "trace_id",
                          "span_id")
        for (entity,), group in frame.group_by("entity", maintain_order=True):
            records = []
            for t, level, message, trace_id, span_id in group.select("t", "level", "message", "trace_id",
                                                                     "span_id").iter_rows():
                record: dict[str, Any] = {"timeUnixNano": _ns(t), "body": {"stringValue": message or ""}}
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
        lines.append(json.dumps({"resourceLogs": resources}, separators=(",", ":")))
    sp = telemetry.spans
    if sp.height:
        resources = []
        frame = sp.select("entity", "trace_id", "span_id", "parent_id", "operation",
                          pl.col("start").dt.epoch("ns").alias("s"), pl.col("end").dt.epoch("ns").alias("e"),
                          "status", "error")
        for (entity,), group in frame.group_by("entity", maintain_order=True):
            out = []
            for trace_id, span_id, parent_id, operation, s, e, status, error in group.select(
                    "trace_id", "span_id", "parent_id", "operation", "s", "e", "status", "error").iter_rows():
                span: dict[str, Any] = {"traceId": trace_id, "spanId": span_id, "name": operation or "",
                                        "startTimeUnixNano": _ns(s), "endTimeUnixNano": _ns(e)}
                if parent_id:
                    span["parentSpanId"] = parent_id
                st: dict[str, Any] = {}
                if error:
                    st["code"] = 2
                if status:
                    st["message"] = status
                if st:
                    span["status"] = st
                out.append(span)
            resources.append({"resource": _resource(str(entity)),
                              "scopeSpans": [{"scope": scope_obj, "spans": out}]})
        lines.append(json.dumps({"resourceSpans": resources}, separators=(",", ":")))
    payload = ("\n".join(lines) + "\n").encode("utf-8")
    if target.name.endswith(".gz"):
        payload = gzip_module.compress(payload, compresslevel=6, mtime=0)
    return atomic_write_bytes(target, payload)
