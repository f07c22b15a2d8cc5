"""Zipkin v2 JSON: the span list of ``/api/v2/trace/{id}`` and the Zipkin UI's "Download JSON", the list
of traces of ``/api/v2/traces``, and what Zipkin reporters (OpenTelemetry's Zipkin exporter, Brave)
POST to ``/api/v2/spans``."""

from __future__ import annotations

import json
from collections import Counter
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

__all__ = ["looks_like_zipkin", "read_zipkin_json"]

UNKNOWN_SERVICE = "unknown_service"


def looks_like_zipkin(document: JSONValue) -> bool:
    """A list of Zipkin v2 spans, or a list of such lists."""
    if not isinstance(document, list) or not document:
        return False
    first = document[0]
    if isinstance(first, list):
        first = first[0] if first else None
    return isinstance(first, dict) and "traceId" in first and "id" in first and (
        "localEndpoint" in first or "timestamp" in first or "name" in first)


def _spans(documents: list[JSONValue], source: str) -> list[JSONObject]:
    out: list[JSONObject] = []
    for number, document in enumerate(documents):
        if isinstance(document, dict) and "traceId" in document and "id" in document:
            out.append(document)  # JSON Lines of spans
            continue
        if not looks_like_zipkin(document):
            raise DataError(f"this is not Zipkin v2 JSON: document {number + 1} is {describe_json(document)}",
                            source=source, row=number,
                            hint='Zipkin v2 JSON is a list of spans [{"traceId", "id", "parentId", "name", '
                                 '"timestamp", "duration", "localEndpoint": {"serviceName"}}] (or a list of such lists)')
        for item in document:
            if isinstance(item, list):
                out.extend(item)
            else:
                out.append(item)
    return out


def read_zipkin_json(path: PathLike, *, span_events: bool = True) -> Telemetry:
    """Read spans from Zipkin v2 JSON.

    The entity is ``localEndpoint.serviceName``; ``timestamp`` and ``duration`` are microseconds; a span
    with an ``error`` tag (or ``otel.status_code=ERROR``) is an error, its message the status. A
    server span that shares its id with the client span that called it (``"shared": true``, B3
    single-id propagation) gets the id ``<id>:server`` and the client as parent, and the spans of its
    own service that named the shared id as parent move under it (reported). Annotations become log
    lines of the span's service linked to the span (``span_events=False`` leaves them out).

    >>> tel = read_zipkin_json("trace.json")  # doctest: +SKIP
    """
    file = as_path(path)
    source = str(file)
    report = LoadReport()
    spans = _spans(read_json_documents(file, what="Zipkin JSON"), source)
    columns: dict[str, list[JSONValue]] = {k: [] for k in ("trace_id", "span_id", "parent_id", "entity", "operation",
                                                     "start_us", "duration_us", "error", "status", "kind")}
    counts: Counter[str] = Counter()
    shared_ids: dict[tuple[str, str], tuple[str, str]] = {}  # (trace, id) -> (server id, its service)
    events: dict[str, list[JSONValue]] = {k: [] for k in LOG_COLUMNS}
    for row, span in enumerate(spans):
        _add_span(span, row, columns, events if span_events else None, shared_ids, counts, source)
    moved = _move_under_servers(columns, shared_ids) if shared_ids else 0
    report.add(source, "entity", f"named spans without localEndpoint.serviceName {UNKNOWN_SERVICE!r}",
               counts["no service"], "the reporter did not set the service name")
    report.add(source, "duration", "read spans without duration as lasting 0 s", counts["no duration"],
               "Zipkin leaves out the duration of a span that has not finished")
    report.add(source, "span_id", "gave shared server spans the id '<id>:server' under their client span",
               counts["shared"], "B3 single-id propagation: the client and the server half of a call share one span id")
    report.add(source, "parent_id", "moved children of a shared span id under its server half", moved,
               "their service is the server's")
    if not columns["span_id"]:
        return Telemetry(report=report)
    start = pl.Series(columns.pop("start_us"), dtype=pl.Int64)
    duration = pl.Series(columns.pop("duration_us"), dtype=pl.Int64)
    frame = pl.DataFrame({
        **{k: pl.Series(v, dtype=pl.String) for k, v in columns.items() if k != "error"},
        "start": (start * 1000).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        "end": ((start + duration) * 1000).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        "error": pl.Series(columns["error"], dtype=pl.Boolean),
    })
    spans_tel = build_telemetry("spans", [frame], source=source, report=report)
    if not events["time"]:
        return spans_tel
    report.add(source, "message", "added span annotations as log lines of their span's service", len(events["time"]),
               "pass span_events=False to leave them out")
    logs = build_telemetry("logs", [logs_frame(events, time_factor=1000)], source=source, report=report)
    return combine([spans_tel, logs], report)


def _add_span(span: JSONValue, row: int, columns: dict[str, list[JSONValue]], events: dict[str, list[JSONValue]] | None,
              shared_ids: dict[tuple[str, str], tuple[str, str]], counts: Counter[str], source: str) -> None:
    """One span into ``columns`` (its annotations into ``events`` unless None); a shared server span
    into ``shared_ids``; what the report tells into ``counts``."""
    if not isinstance(span, dict):
        raise DataError(f"item {row} of the span list is {describe_json(span)}, not a span", source=source,
                        row=row, hint="Export the trace from Zipkin again")
    trace_id = _id(span.get("traceId"))
    span_id = _id(span.get("id"))
    if not trace_id or not span_id:
        raise DataError(f"span {row} has no traceId or id", source=source, column="id", row=row,
                        hint="Zipkin v2 spans need traceId and id (hex)")
    if span.get("timestamp") is None:
        raise DataError(f"span {span_id!r} of trace {trace_id!r} has no timestamp", source=source,
                        column="timestamp", row=row,
                        hint="An incomplete span (its timestamp was never reported); export the trace once it "
                             "has finished")
    service = ((span.get("localEndpoint") or {}).get("serviceName") or "").strip()
    if not service:
        counts["no service"] += 1
        service = UNKNOWN_SERVICE
    parent = _id(span.get("parentId"))
    if span.get("shared") and (span.get("kind") or "").upper() == "SERVER":
        counts["shared"] += 1
        parent, span_id = span_id, f"{span_id}:server"
        shared_ids[(trace_id, parent)] = (span_id, service)
    tags = {str(k): v for k, v in (span.get("tags") or {}).items()}
    status = tags.get("error")
    error = "error" in tags or str(tags.get("otel.status_code", "")).upper() == "ERROR"
    if status in ("", "true", True):
        status = tags.get("otel.status_description") or None
    duration = span.get("duration")
    if duration is None:
        counts["no duration"] += 1
    columns["trace_id"].append(trace_id)
    columns["span_id"].append(span_id)
    columns["parent_id"].append(parent)
    columns["entity"].append(service)
    columns["operation"].append(span.get("name"))
    columns["start_us"].append(int(span["timestamp"]))
    columns["duration_us"].append(int(duration or 0))
    columns["error"].append(bool(error))
    columns["status"].append(None if status is None else str(status))
    columns["kind"].append(str(span["kind"]).upper() if span.get("kind") else None)
    if events is not None:
        _add_annotations(span, service, trace_id, span_id, events)


def _add_annotations(span: JSONObject, service: str, trace_id: str, span_id: str,
                     events: dict[str, list[JSONValue]]) -> None:
    """A span's annotations, as log lines of its service linked to it."""
    for note in span.get("annotations") or []:
        if not isinstance(note, dict):
            continue
        level, message = _annotation(str(note.get("value") or ""))
        events["time"].append(int(note.get("timestamp") or span["timestamp"]))
        events["entity"].append(service)
        events["level"].append(level)
        events["message"].append(message)
        events["trace_id"].append(trace_id)
        events["span_id"].append(span_id)


def _move_under_servers(columns: dict[str, list[JSONValue]], shared_ids: dict[tuple[str, str], tuple[str, str]]) -> int:
    """Spans of a shared server span's service that name the shared id as parent go under the server half;
    how many moved."""
    moved = 0
    for i, (trace_id, parent) in enumerate(zip(columns["trace_id"], columns["parent_id"], strict=True)):
        server = shared_ids.get((trace_id, parent)) if parent else None
        if server is not None and columns["entity"][i] == server[1] and columns["span_id"][i] != server[0]:
            columns["parent_id"][i] = server[0]
            moved += 1
    return moved


def _annotation(value: str) -> tuple[str | None, str]:
    """OpenTelemetry's Zipkin exporter writes a span event as the annotation ``{"<name>": {attributes}}``."""
    if value.startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict) and len(parsed) == 1:
            (name, attrs), = parsed.items()
            if isinstance(attrs, dict):
                return event_line(str(name), attrs)
    return event_line(value, {})


def _id(value: JSONValue) -> str | None:
    if value in (None, ""):
        return None
    return str(value).lower()
