"""Jaeger UI/API trace JSON: ``{"data": [{"traceID", "spans": [...], "processes": {...}}]}``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, as_path, build_telemetry, combine
from rcakit.telemetry.loaders._events import LOG_COLUMNS, event_line, logs_frame
from rcakit.telemetry.loaders._json import describe_json, read_json_documents
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["read_jaeger_json"]


def _tags(items: JSONValue) -> JSONObject:
    return {str(t.get("key")): t.get("value") for t in items or () if isinstance(t, dict)}


def _truthy(value: JSONValue) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true") or value == 1


def read_jaeger_json(path: PathLike, *, span_events: bool = True) -> Telemetry:
    """Read spans from a Jaeger JSON export: ``/api/traces`` (``{"data": [...]}``), the UI's trace JSON
    (one trace object, as the UI's "Download JSON" and Jaeger's own UI fixtures hold), or a list of traces.

    The parent is the span's ``CHILD_OF`` reference (a ``FOLLOWS_FROM`` one when there is no
    ``CHILD_OF``, reported); the entity is the ``serviceName`` of the span's process; start and
    duration are microseconds; the tag ``error=true`` (or ``otel.status_code=ERROR``) flags an error.
    The span's logs become log lines of its service linked to the span (an ``event=error`` or an
    exception at level ERROR); ``span_events=False`` leaves them out.

    >>> tel = read_jaeger_json("trace.json")
    """
    file = as_path(path)
    source = str(file)
    report = LoadReport()
    traces = _traces(read_json_documents(file, what="Jaeger JSON"), source)
    columns: dict[str, list[object]] = {k: [] for k in ("trace_id", "span_id", "parent_id", "entity", "operation",
                                                     "start", "duration_us", "error", "status", "kind")}
    follows = other_trace = 0
    events: dict[str, list[object]] = {k: [] for k in LOG_COLUMNS}
    for trace_number, trace in enumerate(traces):
        if not isinstance(trace, dict) or not isinstance(trace.get("spans"), list):
            raise DataError(f"trace {trace_number} has no list of spans", source=source, row=trace_number,
                            hint="Each item of data needs traceID, spans and processes")
        processes = trace.get("processes") or {}
        for span in trace["spans"]:
            parent_from = _add_span(span, trace, processes, columns, events if span_events else None, source)
            follows += parent_from == "FOLLOWS_FROM"
            other_trace += parent_from == "other trace"
    if follows:
        report.add(source, "parent_id", "used a FOLLOWS_FROM reference as the parent", follows,
                   "the span has no CHILD_OF reference")
    if other_trace:
        report.add(source, "parent_id", "used a CHILD_OF reference into another trace as the parent", other_trace,
                   "the span has no CHILD_OF reference in its own trace")
    if not columns["span_id"]:
        return Telemetry(report=report)
    start = pl.Series(columns.pop("start"), dtype=pl.Int64)
    duration = pl.Series(columns.pop("duration_us"), dtype=pl.Int64)
    frame = pl.DataFrame({
        **{k: pl.Series(v, dtype=pl.String) for k, v in columns.items() if k != "error"},
        "start": (start * 1000).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        "end": ((start + duration) * 1000).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        "error": pl.Series(columns["error"], dtype=pl.Boolean),
    })
    spans = build_telemetry("spans", [frame], source=source, report=report)
    if not events["time"]:
        return spans
    report.add(source, "message", "added the logs recorded on spans as log lines of their span's service",
               len(events["time"]), "pass span_events=False to leave them out")
    logs = build_telemetry("logs", [logs_frame(events, time_factor=1000)], source=source, report=report)
    return combine([spans, logs], report)


def _traces(documents: list[JSONValue], source: str) -> list[JSONValue]:
    """The traces of every document: one trace, a list of traces, or an API response ``{"data": [...]}``."""
    traces: list[JSONValue] = []
    for number, document in enumerate(documents):
        if isinstance(document, dict) and "spans" in document and "data" not in document:
            traces.append(document)  # one trace (the UI model, or a JSON Lines file of traces)
            continue
        if isinstance(document, list) and all(isinstance(t, dict) and "spans" in t for t in document):
            traces.extend(document)  # a list of traces
            continue
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, list):
            raise DataError(f"this is not Jaeger JSON: document {number + 1} is {describe_json(document)}",
                            source=source, row=number,
                            hint="Jaeger JSON is {\"data\": [{\"traceID\": ..., \"spans\": [...], \"processes\": {...}}]}")
        if isinstance(document, dict) and document.get("errors"):
            raise DataError(f"the Jaeger response reports errors: {str(document['errors'])[:200]}", source=source,
                            hint="Query Jaeger again; the export holds an error instead of traces")
        traces.extend(data)
    return traces


def _add_span(span: JSONObject, trace: JSONObject, processes: JSONObject, columns: dict[str, list[object]],
              events: dict[str, list[object]] | None, source: str) -> str | None:
    """One span into ``columns`` (its logs into ``events`` unless None); what its parent came from when
    that is reported: ``"FOLLOWS_FROM"``, ``"other trace"`` or None."""
    trace_id = span.get("traceID") or trace.get("traceID")
    span_id = span.get("spanID")
    process = span.get("process")
    if not isinstance(process, dict):
        pid = span.get("processID")
        process = processes.get(pid) if pid is not None else None
        if not isinstance(process, dict):
            known = ", ".join(map(repr, sorted(processes))) or "none"
            raise DataError(
                f"span {span_id!r} of trace {trace_id!r} refers to process {pid!r}, which the trace does "
                f"not list (it lists {known})", source=source, column="processID", row=len(columns["span_id"]),
                hint="The export is incomplete or was edited; export the trace again from Jaeger")
    entity = process.get("serviceName")
    parent, parent_from = _parent(span, trace_id)
    if span.get("startTime") is None:
        raise DataError(f"span {span_id!r} of trace {trace_id!r} has no startTime", source=source,
                        column="startTime", row=len(columns["span_id"]),
                        hint="Jaeger spans need startTime and duration in microseconds")
    tags = _tags(span.get("tags"))
    status = tags.get("otel.status_code")
    if status is None and tags.get("http.status_code") is not None:
        status = str(tags["http.status_code"])
    error = _truthy(tags.get("error")) or str(status).upper() == "ERROR"
    columns["trace_id"].append(trace_id)
    columns["span_id"].append(span_id)
    columns["parent_id"].append(parent)
    columns["entity"].append(entity)
    columns["operation"].append(span.get("operationName"))
    columns["start"].append(int(span["startTime"]))
    columns["duration_us"].append(int(span.get("duration") or 0))
    columns["error"].append(error)
    columns["status"].append(None if status is None else str(status))
    kind = tags.get("span.kind")
    columns["kind"].append(str(kind).upper() if kind else None)
    if events is not None:
        _add_logs(span, entity, trace_id, span_id, events)
    return parent_from


def _add_logs(span: JSONObject, entity: JSONValue, trace_id: JSONValue, span_id: JSONValue, events: dict[str, list[object]]) -> None:
    """The logs recorded on a span, as log lines of its service linked to it."""
    for log in span.get("logs") or []:
        if not isinstance(log, dict):
            continue
        level, message = event_line(None, _tags(log.get("fields")))
        events["time"].append(int(log.get("timestamp") or span["startTime"]))
        events["entity"].append(entity)
        events["level"].append(level)
        events["message"].append(message)
        events["trace_id"].append(trace_id)
        events["span_id"].append(span_id)


def _parent(span: JSONObject, trace_id: JSONValue) -> tuple[JSONValue, str | None]:
    """The span's parent id, and ``"FOLLOWS_FROM"`` or ``"other trace"`` when it came from such a reference.

    Jaeger's own rule: the CHILD_OF reference in the same trace, else the first CHILD_OF, else the
    first reference (FOLLOWS_FROM); then the older ``parentSpanID`` field.
    """
    parent = None
    parent_from = None
    refs = [r for r in span.get("references") or [] if isinstance(r, dict)]
    child_of = [r for r in refs if r.get("refType", "CHILD_OF") == "CHILD_OF"]
    same = [r for r in child_of if r.get("traceID") in (None, trace_id)]
    if same or child_of:
        parent = (same or child_of)[0].get("spanID")
        parent_from = None if same else "other trace"
    elif refs:
        parent = refs[0].get("spanID")
        parent_from = "FOLLOWS_FROM"
    if parent is None and span.get("parentSpanID"):
        parent = span["parentSpanID"]
    return parent, parent_from
