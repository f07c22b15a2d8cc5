"""Reading JSON documents (one document, or one per line; plain or gzip) with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import read_bytes

if TYPE_CHECKING:
    from rcakit._types import JSONValue

__all__ = ["describe_json", "read_json_documents"]


def read_json_documents(path: Path, *, what: str) -> list[JSONValue]:
    """The JSON documents in a file: one document, or JSON Lines (one per non-empty line)."""
    source = str(path)
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_number = data[: exc.start].count(b"\n") + 1
        raise DataError(f"the file is not UTF-8 text (byte {exc.start}, line {line_number})", source=source,
                        row=line_number - 1,
                        hint=f"{what} is UTF-8 JSON; check that this is the file you meant") from exc
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise DataError("the file holds only white space", source=source, hint=f"Export the {what} again")
    try:
        return [_loads(text, source, what)]
    except json.JSONDecodeError as whole:
        first_line = next(line for line in text.splitlines() if line.strip())
        try:
            _loads(first_line, source, what)
        except json.JSONDecodeError:
            raise _json_error(whole, source, what) from whole
    documents = []
    for number, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        try:
            documents.append(_loads(line, source, what, row=number))
        except json.JSONDecodeError as exc:
            raise DataError(f"line {number + 1} is not valid JSON ({exc.msg} at column {exc.colno})", source=source,
                            row=number, hint="The file is truncated or not JSON Lines; export it again") from exc
    return documents


def _loads(text: str, source: str, what: str, row: int | None = None) -> JSONValue:
    """``json.loads``, with nesting deeper than Python's recursion limit as a DataError (not a RecursionError)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError("the JSON nests deeper than rcakit reads (thousands of levels of arrays or objects)",
                        source=source, row=row, hint=f"This is not {what} as exporters write it; check the file"
                        ) from None


def _json_error(exc: json.JSONDecodeError, source: str, what: str) -> DataError:
    truncated = not exc.doc.rstrip().endswith(("}", "]"))
    problem = ("the JSON ends early: the file looks truncated" if truncated
               else f"the file is not valid JSON ({exc.msg})")
    return DataError(f"{problem} (line {exc.lineno}, column {exc.colno})", source=source, row=exc.lineno - 1,
                     hint=f"Export the {what} again; `python -m json.tool FILE` shows where it breaks")


def describe_json(document: JSONValue) -> str:
    """A short guess at what a JSON document is, for error messages."""
    if isinstance(document, dict):
        keys = set(document)
        if keys & {"resourceSpans", "resourceLogs", "resourceMetrics"}:
            return "OpenTelemetry OTLP JSON (use read_otlp_json)"
        if "batches" in keys or isinstance(document.get("trace"), dict):
            return "a Tempo trace (OTLP JSON; use read_otlp_json)"
        data = document.get("data")
        if isinstance(data, dict) and data.get("resultType") == "streams":
            return "a Loki query_range response with log streams (use read_loki_json)"
        if "status" in keys and ("data" in keys or "error" in keys) and (
                "errorType" in keys or isinstance(data, dict)):
            return "a Prometheus API response (use read_prometheus_json)"
        if isinstance(data, list) and data and isinstance(data[0], dict) and "spans" in data[0]:
            return "Jaeger trace JSON (use read_jaeger_json)"
        if "traceID" in keys and "spans" in keys:
            return "one Jaeger trace (use read_jaeger_json)"
        if "line" in keys and ("labels" in keys or "timestamp" in keys):
            return "a Loki log line as logcli writes it (use read_loki_json)"
        if "traceId" in keys and "id" in keys:
            return "a Zipkin span (use read_zipkin_json)"
        shown = ", ".join(sorted(map(str, keys))[:8])
        return f"a JSON object with keys {shown}"
    if isinstance(document, list):
        first = document[0] if document else None
        if isinstance(first, list) and first:
            first = first[0]
        if isinstance(first, dict) and "traceId" in first and "id" in first:
            return f"Zipkin v2 JSON, a list of {len(document)} spans or traces (use read_zipkin_json)"
        if isinstance(first, dict) and "traceID" in first and "spans" in first:
            return f"a list of {len(document)} Jaeger traces (use read_jaeger_json)"
        return f"a JSON array of {len(document)} items"
    return f"a JSON {type(document).__name__}"
