"""OTLP export requests (as dicts in the OTLP/JSON or protobuf JSON mapping) into the canonical tables.

Both OTLP readers end here: :func:`read_otlp_json` hands it the parsed JSON documents, and
:func:`read_otlp_proto` the messages decoded by ``opentelemetry-proto`` and turned into dicts by
``google.protobuf.json_format``. It accepts both JSON mappings a real file may hold: the OTLP/JSON
one (the Collector's file exporter, the OTLP/HTTP JSON encoding: hex ids, enums as integers) and
protobuf's own (Tempo's ``/api/traces`` and Grafana's trace download: base64 ids, enum names,
``batches`` and the pre-1.0 ``instrumentationLibrary*`` names).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import build_telemetry, combine
from rcakit.telemetry.loaders._events import event_line
from rcakit.telemetry.loaders._histograms import Buckets, HistogramPoint, HistogramStats, series_rows
from rcakit.telemetry.loaders._notes import note
from rcakit.telemetry.loaders._otlp_values import (
    attributes,
    body_text,
    enum_value,
    label_text,
    nanos,
    point_value,
    series_name,
    severity,
    unwrap,
)
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["ENTITY_ATTRIBUTES", "SPAN_KINDS", "UNKNOWN_SERVICE", "OtlpTables"]

UNKNOWN_SERVICE = "unknown_service"
# The resource attribute that names the entity: service.name for instrumented services; the Collector's
# own receivers (kubeletstats, k8s_cluster, hostmetrics, docker_stats) describe pods, containers and hosts.
ENTITY_ATTRIBUTES = ("service.name", "k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name",
                     "k8s.pod.name", "container.name", "k8s.node.name", "host.name")
SPAN_KINDS = {0: None, 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}
_TEMPORALITY = {"AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1,
                "AGGREGATION_TEMPORALITY_CUMULATIVE": 2}
_LOWER_HEX_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")
_ANY_HEX_ID = re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}")


class OtlpTables:
    """Rows of the three tables gathered from any number of OTLP requests, then one Telemetry."""

    def __init__(self, source: str, *, quantiles: Sequence[float], ids: str = "auto", span_events: bool = True,
                 entity_attribute: str | Sequence[str] | None = None) -> None:
        self.source = source
        self.entity_attributes: tuple[str, ...] = (
            ENTITY_ATTRIBUTES if entity_attribute is None
            else (entity_attribute,) if isinstance(entity_attribute, str) else tuple(entity_attribute))
        self.span_events = span_events
        self.quantiles = tuple(quantiles)
        self.ids = ids  # "auto" (hex or base64, reported), or "base64" (protobuf's mapping, expected)
        self.metrics: dict[str, list[object]] = {"time": [], "entity": [], "metric": [], "value": []}
        self.logs: dict[str, list[object]] = {k: [] for k in ("time", "entity", "level", "message", "trace_id",
                                                           "span_id")}
        self.spans: dict[str, list[object]] = {k: [] for k in ("trace_id", "span_id", "parent_id", "entity",
                                                            "operation", "start", "end", "status", "error",
                                                            "status_code", "kind")}
        self.histograms: dict[tuple[object, ...], list[HistogramPoint]] = {}
        self.counts: dict[str, int] = {}
        self.wrappers: set[str] = set()
        self.found = False

    def _count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    # -- ids ---------------------------------------------------------------------------------
    def _id(self, value: JSONValue) -> str | None:
        if not value:
            return None
        text = str(value)
        if _LOWER_HEX_ID.fullmatch(text):
            return None if text.strip("0") == "" else text
        if self.ids == "base64" or not _ANY_HEX_ID.fullmatch(text):
            try:
                raw = base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                self._count("odd id")
                return text
            if self.ids != "base64":
                self._count("base64 id")
            return raw.hex() if raw.strip(b"\0") else None
        self._count("upper-case id")
        return text.lower() if text.strip("0") else None

    def _service(self, resource: JSONObject | None) -> tuple[str, tuple[tuple[str, str], ...]]:
        attrs = attributes((resource or {}).get("attributes"))
        identity = tuple(sorted((k, str(v)) for k, v in attrs.items()))
        for key in self.entity_attributes:
            name = attrs.get(key)
            if name not in (None, ""):
                if key != "service.name":
                    self._count(f"entity from {key}")
                return str(name), identity
        self._count("no service.name")
        return UNKNOWN_SERVICE, identity

    # -- requests ----------------------------------------------------------------------------
    def add(self, document: JSONValue, number: int) -> None:
        """One export request (or a document holding several kinds); ``number`` is its line or frame."""
        request, wrapper = unwrap(document)
        if request is None:
            from rcakit.telemetry.loaders._json import describe_json

            raise DataError(
                f"this is not OTLP: line/document {number + 1} is {describe_json(document)}",
                source=self.source, row=number,
                hint="OTLP JSON has resourceMetrics, resourceLogs or resourceSpans at the top (the collector's "
                     "file exporter writes one such object per line); rcakit.load picks the reader for other formats")
        if wrapper:
            self.wrappers.add(wrapper)
        self.found = True
        where = "the top"
        try:  # a value of the wrong kind anywhere below is named by its place in the document
            for i, rm in enumerate(request.get("resourceMetrics") or []):
                where = f"resourceMetrics[{i}]"
                entity, identity = self._service(rm.get("resource"))
                for j, scope in enumerate(rm.get("scopeMetrics") or rm.get("instrumentationLibraryMetrics") or []):
                    for k, metric in enumerate(scope.get("metrics") or []):
                        where = f"resourceMetrics[{i}].scopeMetrics[{j}].metrics[{k}]"
                        self._metric(metric, entity, identity, number)
            for i, rl in enumerate(request.get("resourceLogs") or []):
                where = f"resourceLogs[{i}]"
                entity, _ = self._service(rl.get("resource"))
                for j, scope in enumerate(rl.get("scopeLogs") or rl.get("instrumentationLibraryLogs") or []):
                    for k, record in enumerate(scope.get("logRecords") or []):
                        where = f"resourceLogs[{i}].scopeLogs[{j}].logRecords[{k}]"
                        self._log(record, entity, number)
            for i, rs in enumerate(request.get("resourceSpans") or []):
                where = f"resourceSpans[{i}]"
                entity, _ = self._service(rs.get("resource"))
                for j, scope in enumerate(rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []):
                    for k, span in enumerate(scope.get("spans") or []):
                        where = f"resourceSpans[{i}].scopeSpans[{j}].spans[{k}]"
                        self._span(span, entity, number)
        except DataError:
            raise
        except (AttributeError, TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
            raise DataError(f"document {number + 1} does not have the shape of OTLP JSON at {where}: {exc}",
                            source=self.source, row=number,
                            hint="A value there has the wrong kind (a text where OTLP has a number or an object, a "
                                 "null, a list where it has an object); export the data again or fix that value"
                            ) from None

    def _log(self, record: JSONObject, entity: str, number: int) -> None:
        t = nanos(record.get("timeUnixNano"))
        if t is None:
            t = nanos(record.get("observedTimeUnixNano"))
            self._count("observed time")
        if t is None:
            raise DataError(f"a log record of {entity!r} has neither timeUnixNano nor observedTimeUnixNano",
                            source=self.source, column="time", row=number, hint="Every log record needs a time")
        logs = self.logs
        logs["time"].append(t)
        logs["entity"].append(entity)
        logs["level"].append(severity(record))
        logs["message"].append(body_text(record))
        logs["trace_id"].append(self._id(record.get("traceId")))
        logs["span_id"].append(self._id(record.get("spanId")))

    def _span(self, span: JSONObject, entity: str, number: int) -> None:
        start = nanos(span.get("startTimeUnixNano"))
        end = nanos(span.get("endTimeUnixNano"))
        if start is None or end is None:
            raise DataError(f"span {span.get('spanId')!r} of trace {span.get('traceId')!r} has no start or end time",
                            source=self.source, column="start", row=number,
                            hint="Spans need startTimeUnixNano and endTimeUnixNano")
        status = span.get("status") or {}
        code = enum_value(status.get("code", 0), _STATUS)
        kind = span.get("kind")
        spans = self.spans
        spans["trace_id"].append(self._id(span.get("traceId")))
        spans["span_id"].append(self._id(span.get("spanId")))
        spans["parent_id"].append(self._id(span.get("parentSpanId")))
        spans["entity"].append(entity)
        spans["operation"].append(span.get("name"))
        spans["start"].append(start)
        spans["end"].append(end)
        spans["status"].append(status.get("message") or None)
        spans["error"].append(code == 2)
        spans["status_code"].append(code)
        if isinstance(kind, str) and not kind.isdigit():
            spans["kind"].append(kind.removeprefix("SPAN_KIND_").replace("UNSPECIFIED", "") or None)
        else:
            spans["kind"].append(SPAN_KINDS.get(int(kind or 0)))
        events = span.get("events")
        if events and self.span_events:
            for event in events:
                level, message = event_line(event.get("name"), attributes(event.get("attributes")))
                logs = self.logs
                logs["time"].append(nanos(event.get("timeUnixNano")) or start)
                logs["entity"].append(entity)
                logs["level"].append(level)
                logs["message"].append(message)
                logs["trace_id"].append(spans["trace_id"][-1])
                logs["span_id"].append(spans["span_id"][-1])
            self._count("span events", len(events))

    def _metric(self, metric: JSONObject, entity: str, identity: tuple[tuple[str, str], ...], number: int) -> None:
        name = metric.get("name") or ""
        if not name:
            raise DataError("a metric has no name", source=self.source, column="metric", row=number,
                            hint="Every OTLP metric needs a name")
        rows = self.metrics
        found = False
        for kind in ("gauge", "sum"):
            body = metric.get(kind)
            if body is None:
                continue
            found = True
            for point in body.get("dataPoints") or []:
                t = self._time(point, name, entity, number)
                value = None if int(point.get("flags", 0) or 0) & 1 else point_value(point)
                if value is None:
                    self._count("no value")
                rows["time"].append(t)
                rows["entity"].append(entity)
                rows["metric"].append(series_name(name, attributes(point.get("attributes"))))
                rows["value"].append(value)
        for kind in ("histogram", "exponentialHistogram"):
            body = metric.get(kind)
            if body is None:
                continue
            found = True
            cumulative = enum_value(body.get("aggregationTemporality", 0), _TEMPORALITY) == 2
            for point in body.get("dataPoints") or []:
                self._histogram_point(point, kind, name, entity, identity, cumulative, number)
        body = metric.get("summary")
        if body is not None:
            found = True
            for point in body.get("dataPoints") or []:
                t = self._time(point, name, entity, number)
                attrs = attributes(point.get("attributes"))
                empty = int(point.get("flags", 0) or 0) & 1
                count = None if empty else float(int(point.get("count", 0) or 0))
                total = None if empty else float(point.get("sum", 0.0) or 0.0)  # not optional in a summary
                self._count("no value", int(count is None) + int(total is None))
                for metric_name, value in ((f"{name}.count", count), (f"{name}.sum", total)):
                    rows["time"].append(t)
                    rows["entity"].append(entity)
                    rows["metric"].append(series_name(metric_name, attrs))
                    rows["value"].append(value)
                for q in point.get("quantileValues") or []:
                    rows["time"].append(t)
                    rows["entity"].append(entity)
                    rows["metric"].append(series_name(name, {**attrs, "quantile": q.get("quantile", 0)}))
                    rows["value"].append(float(q.get("value", 0.0)))  # proto3 leaves zeros out
        if not found:
            kinds = sorted(set(metric) - {"name", "description", "unit", "metadata"})
            raise DataError(f"metric {name!r} of {entity!r} has no gauge, sum, histogram or summary "
                            f"(it has {', '.join(kinds) or 'no data'})", source=self.source, column="metric",
                            row=number,
                            hint="rcakit reads gauge, sum, histogram, exponentialHistogram and summary metrics")

    def _time(self, point: JSONObject, name: str, entity: str, number: int) -> int:
        t = nanos(point.get("timeUnixNano"))
        if t is None:
            raise DataError(f"a data point of metric {name!r} ({entity}) has no timeUnixNano", source=self.source,
                            column="time", row=number, hint="Every data point needs its time in unix nanoseconds")
        return t

    def _histogram_point(self, point: JSONObject, kind: str, name: str, entity: str,
                         identity: tuple[tuple[str, str], ...], cumulative: bool, number: int) -> None:
        t = self._time(point, name, entity, number)
        attrs = attributes(point.get("attributes"))
        empty = bool(int(point.get("flags", 0) or 0) & 1)
        count = None if empty else float(int(point.get("count", 0) or 0))
        total = None if empty or point.get("sum") is None else float(point["sum"])
        problem = None
        buckets = None
        if not empty:
            if kind == "histogram":
                bounds = tuple(float(b) for b in point.get("explicitBounds") or ())
                counts = tuple(float(int(c)) for c in point.get("bucketCounts") or ())
                if not counts:
                    problem = "histogram points without bucket counts"
                elif len(counts) != len(bounds) + 1:
                    problem = (f"histogram points whose {len(counts)} bucket counts do not fit "
                               f"{len(bounds)} bounds (expected bounds + 1)")
                elif any(b >= a for a, b in zip(bounds[1:], bounds[:-1], strict=False)):
                    problem = "histogram points whose bounds are not increasing"
                else:
                    buckets = Buckets(bounds=bounds, counts=counts)
            else:
                buckets = Buckets(scale=int(point.get("scale", 0) or 0),
                                  zero_count=float(int(point.get("zeroCount", 0) or 0)),
                                  zero_threshold=float(point.get("zeroThreshold", 0) or 0))
                for side, target in (("positive", buckets.positive), ("negative", buckets.negative)):
                    part = point.get(side) or {}
                    offset = int(part.get("offset", 0) or 0)
                    for i, c in enumerate(part.get("bucketCounts") or ()):
                        if int(c):
                            target[offset + i] = float(int(c))
        low = float(point["min"]) if point.get("min") is not None else None
        high = float(point["max"]) if point.get("max") is not None else None
        key = (entity, identity, name, tuple(sorted((k, str(v)) for k, v in attrs.items())), kind)
        self.histograms.setdefault(key, []).append(HistogramPoint(
            series=key, entity=entity, name=series_name(name, attrs), base=name, labels=label_text(attrs), time=t,
            start=nanos(point.get("startTimeUnixNano")), cumulative=cumulative, count=count, total=total,
            low=low, high=high, buckets=buckets, problem=problem))
        if empty:
            self._count("no value", 3 + len(self.quantiles))

    # -- the result --------------------------------------------------------------------------
    def telemetry(self, report: LoadReport) -> Telemetry:
        source = self.source
        if not self.found:
            raise DataError("the file holds no OTLP data", source=source,
                            hint="Expected resourceMetrics, resourceLogs or resourceSpans")
        stats = HistogramStats()
        for points in self.histograms.values():
            for t, entity, metric, value in series_rows(points, self.quantiles, stats):
                self.metrics["time"].append(t)
                self.metrics["entity"].append(entity)
                self.metrics["metric"].append(metric)
                self.metrics["value"].append(value)
        self._report(report, stats)
        parts = []
        ns = pl.Datetime("ns")
        if self.metrics["time"]:
            frame = pl.DataFrame({
                "time": pl.Series(self.metrics["time"], dtype=pl.Int64).cast(ns).dt.replace_time_zone("UTC"),
                "entity": pl.Series(self.metrics["entity"], dtype=pl.String),
                "metric": pl.Series(self.metrics["metric"], dtype=pl.String),
                "value": pl.Series(self.metrics["value"], dtype=pl.Float64)})
            if self.histograms:  # histogram rows come after the others: put them in time order here
                frame = frame.sort("time", maintain_order=True)
            parts.append(build_telemetry("metrics", [frame], source=source, report=report))
        if self.logs["time"]:
            frame = pl.DataFrame({
                "time": pl.Series(self.logs["time"], dtype=pl.Int64).cast(ns).dt.replace_time_zone("UTC"),
                **{k: pl.Series(v, dtype=pl.String) for k, v in self.logs.items() if k != "time"}})
            parts.append(build_telemetry("logs", [frame], source=source, report=report))
        if self.spans["start"]:
            spans = self.spans
            frame = pl.DataFrame({
                **{k: pl.Series(spans[k], dtype=pl.String) for k in ("trace_id", "span_id", "parent_id", "entity",
                                                                      "operation", "status")},
                "start": pl.Series(spans["start"], dtype=pl.Int64).cast(ns).dt.replace_time_zone("UTC"),
                "end": pl.Series(spans["end"], dtype=pl.Int64).cast(ns).dt.replace_time_zone("UTC"),
                "error": pl.Series(spans["error"], dtype=pl.Boolean),
                "status_code": pl.Series(spans["status_code"], dtype=pl.Int8),
                "kind": pl.Series(spans["kind"], dtype=pl.String),
            })
            parts.append(build_telemetry("spans", [frame], source=source, report=report))
        return combine(parts, report)

    def _report(self, report: LoadReport, stats: HistogramStats) -> None:
        source, counts = self.source, self.counts
        for wrapper in sorted(self.wrappers):
            note(report, source, f"unwrapped the OTLP data from {wrapper}",
                 "the file is an API response around OTLP resource spans")
        report.add(source, "entity", f"named resources without {' or '.join(self.entity_attributes)} "
                   f"{UNKNOWN_SERVICE!r}", counts.get("no service.name", 0),
                   "OTLP resources should carry the service.name attribute (the OpenTelemetry default is used)")
        for key in self.entity_attributes[1:]:
            report.add(source, "entity", f"named resources without service.name by their {key}",
                       counts.get(f"entity from {key}", 0),
                       "a Collector receiver describes infrastructure; pass entity_attribute= to choose")
        report.add(source, "value", "read data points without a value as null", counts.get("no value", 0),
                   "the point has no asDouble/asInt or is flagged 'no recorded value'")
        report.add(source, "message", "added the events recorded on spans as log lines of their span's service",
                   counts.get("span events", 0), "an exception recorded on a span is a log line at level ERROR; "
                   "pass span_events=False to leave them out")
        report.add(source, "time", "used observedTimeUnixNano as the time of log records",
                   counts.get("observed time", 0), "timeUnixNano is absent or 0")
        report.add(source, "span_id", "decoded base64 trace and span ids to hex", counts.get("base64 id", 0),
                   "the file uses protobuf's JSON mapping for ids (as Tempo and Grafana write it), not OTLP/JSON's hex")
        report.add(source, "span_id", "lower-cased hex trace and span ids", counts.get("upper-case id", 0),
                   "ids are compared as text; Jaeger, Zipkin and most OTLP writers use lower case")
        report.add(source, "span_id", "kept ids that are neither hex nor base64 as they are", counts.get("odd id", 0),
                   "OTLP ids are 16 or 8 bytes, hex in OTLP/JSON")
        if stats.points:
            hist = f"{len(self.quantiles)} quantiles" if self.quantiles else "no quantiles"
            report.add(source, "metric", f"turned histogram points into .count, .sum, .mean and {hist} "
                       f"({', '.join(f'{q:g}' for q in self.quantiles) or 'none asked'})", stats.points,
                       "one row per statistic; quantiles interpolated linearly inside their bucket")
            report.add(source, "value", "computed histogram mean and quantiles over the interval since the "
                       "previous cumulative point", stats.intervals,
                       "a cumulative histogram counts since its start; the interval shows what changed in it "
                       "(.count and .sum stay cumulative)")
            report.add(source, "value", "took a cumulative histogram point as a restart (new start time or a "
                       "count that went down)", stats.resets, "its mean and quantiles cover the point itself")
            report.add(source, "value", "set histogram quantiles to null: the buckets of two cumulative points "
                       "do not subtract (layout changed or a bucket count went down)", stats.layout_changes,
                       "the interval's distribution is unknown")
            report.add(source, "value", "set histogram mean and quantiles to null for intervals without "
                       "observations", stats.empty_intervals, "nothing was recorded between the two points")
            report.add(source, "value", "set quantiles that fall in an open-ended bucket to its finite bound",
                       stats.overflow, "the point has no min/max to close the bucket")
            for problem, n in sorted(stats.problems.items()):
                report.add(source, "value", f"set quantiles to null for {problem}", n,
                           "rcakit cannot place the observations in buckets")
