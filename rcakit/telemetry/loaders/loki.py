"""Grafana Loki log queries: ``/loki/api/v1/query_range`` (and ``query``) answers with log streams,
and the JSON Lines that ``logcli query -o jsonl`` prints.

A metric query's answer (``resultType`` matrix or vector) has Prometheus' shape and is read by
:func:`~rcakit.telemetry.loaders.read_prometheus_json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, as_path, build_telemetry
from rcakit.telemetry.loaders._json import describe_json, read_json_documents
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport

if TYPE_CHECKING:
    from rcakit._types import JSONObject, JSONValue

__all__ = ["ENTITY_LABELS", "LEVEL_LABELS", "read_loki_json"]

# Loki 3 adds service_name to every stream; older set-ups name the component by one of the others.
ENTITY_LABELS = ("service_name", "service", "app", "application", "container", "job", "pod", "host")
LEVEL_LABELS = ("level", "detected_level", "severity", "lvl", "loglevel")
TRACE_KEYS = ("trace_id", "traceID", "traceId", "trace")
SPAN_KEYS = ("span_id", "spanID", "spanId")
FALLBACK_ENTITY = "loki"


def _metadata(extra: JSONValue) -> dict[str, str]:
    """Structured metadata and parsed labels of an entry (the optional third item of a value)."""
    if not isinstance(extra, dict):
        return {}
    out: dict[str, str] = {}
    for key in ("structuredMetadata", "parsed"):
        part = extra.get(key)
        if isinstance(part, dict):
            out.update({str(k): str(v) for k, v in part.items()})
    if not out:
        out = {str(k): str(v) for k, v in extra.items() if not isinstance(v, dict)}
    return out


def read_loki_json(path: PathLike, *, entity_label: str | Sequence[str] | None = None) -> Telemetry:
    """Read the log lines of a Loki query answer (or ``logcli -o jsonl`` output) into the logs table.

    Each stream's labels name the entity (``entity_label``, by default the first of
    ``service_name``, ``service``, ``app``, ``application``, ``container``, ``job``, ``pod``, ``host``
    that the stream has) and the level (``level``, ``detected_level``, ``severity``, ...); a
    ``trace_id``/``span_id`` in the labels or the structured metadata links the line to its span.
    Times are Loki's nanosecond timestamps. Several answers (JSON Lines) are read together.

    >>> tel = read_loki_json("loki-errors.json")  # doctest: +SKIP
    """
    file = as_path(path)
    source = str(file)
    report = LoadReport()
    documents = read_json_documents(file, what="Loki JSON")
    wanted = (entity_label,) if isinstance(entity_label, str) else tuple(entity_label or ENTITY_LABELS)
    lines = _Lines(source, wanted, entity_label is not None)
    for number, document in enumerate(documents):
        if isinstance(document, dict) and "line" in document:  # logcli -o jsonl
            labels = {str(k): str(v) for k, v in (document.get("labels") or {}).items()}
            lines.add(_logcli_time(document.get("timestamp"), source, number), document["line"], labels, number)
            continue
        for stream_number, stream in enumerate(_streams(document, number, source)):
            lines.add_stream(stream, stream_number)
    report.add(source, "entity", f"named lines whose stream has none of {', '.join(wanted)} {FALLBACK_ENTITY!r}",
               lines.fallback, "pass entity_label= to choose the label that names the component")
    if len(lines.label_use) > 1:
        used = ", ".join(f"{k} ({n} lines)" for k, n in sorted(lines.label_use.items()))
        report.add(source, "entity", f"took the entity from different labels: {used}", sum(lines.label_use.values()),
                   "streams differ in their labels; pass entity_label= to use one")
    columns = lines.columns
    if not columns["time"]:
        return Telemetry(report=report)
    frame = pl.DataFrame({
        "time": pl.Series(columns.pop("time"), dtype=pl.Int64).cast(pl.Datetime("ns")).dt.replace_time_zone("UTC"),
        **{k: pl.Series(v, dtype=pl.String) for k, v in columns.items()},
    })
    return build_telemetry("logs", [frame], source=source, report=report)


def _streams(document: JSONValue, number: int, source: str) -> list[JSONValue]:
    """The log streams of one API response; a DataError for anything else (a metric query, a failure)."""
    if not isinstance(document, dict) or "status" not in document:
        raise DataError(f"this is not a Loki API response: document {number + 1} is {describe_json(document)}",
                        source=source, row=number,
                        hint='A Loki answer is {"status": "success", "data": {"resultType": "streams", '
                             '"result": [{"stream": {...}, "values": [["<ns>", "<line>"], ...]}]}}')
    if document.get("status") != "success":
        raise DataError(f"the Loki query failed: {str(document.get('error') or document)[:300]}",
                        source=source, row=number, hint="Fix the LogQL query or its time range and export again")
    data = document.get("data") or {}
    kind = data.get("resultType")
    if kind in ("matrix", "vector"):
        raise DataError(f"this Loki answer holds a metric query ({kind}), not log lines", source=source,
                        column="resultType", row=number,
                        hint="Read it with read_prometheus_json (rcakit.load does when the file holds only it)")
    if kind != "streams":
        raise DataError(f"cannot read a Loki result of type {kind!r}", source=source, column="resultType",
                        row=number, hint="Export a log query (resultType streams)")
    return data.get("result") or []


@dataclass
class _Lines:
    """The log lines read so far, and which labels named their entities."""

    source: str
    wanted: tuple[str, ...]  # the entity labels, in order of preference
    required: bool  # entity_label= was given: a stream without any of them is an error
    columns: dict[str, list[object]] = field(default_factory=lambda: {
        k: [] for k in ("time", "entity", "level", "message", "trace_id", "span_id")})
    fallback: int = 0
    label_use: dict[str, int] = field(default_factory=dict)

    def add_stream(self, stream: JSONObject, stream_number: int) -> None:
        """The entries ``[time, line, metadata?]`` of one stream."""
        labels = {str(k): str(v) for k, v in (stream.get("stream") or {}).items()}
        for value in stream.get("values") or []:
            if not isinstance(value, list | tuple) or len(value) < 2:
                raise DataError(f"stream {stream_number} has an entry that is not [time, line]: {str(value)[:60]}",
                                source=self.source, column="values", row=stream_number,
                                hint="Export the response unchanged")
            merged = {**labels, **_metadata(value[2])} if len(value) > 2 else labels
            try:
                t = int(value[0])
            except (TypeError, ValueError) as exc:
                raise DataError(f"stream {stream_number} has a time that is not unix nanoseconds: "
                                f"{str(value[0])[:40]!r}", source=self.source, column="values", row=stream_number,
                                hint="Loki writes times as strings of nanoseconds") from exc
            self.add(t, value[1], merged, stream_number)

    def add(self, t: int, line: JSONValue, labels: dict[str, str], row: int) -> None:
        """One line at ``t`` (unix nanoseconds) with its stream's labels (and its own metadata)."""
        chosen = next((name for name in self.wanted if labels.get(name)), None)
        if chosen is None:
            if self.required:
                raise DataError(f"a stream has none of the labels {', '.join(self.wanted)} (its labels: "
                                f"{', '.join(sorted(labels)) or 'none'})", source=self.source, column="entity",
                                row=row, hint="Pass entity_label= naming a label every stream has")
            self.fallback += 1
            entity = FALLBACK_ENTITY
        else:
            entity = labels[chosen]
            self.label_use[chosen] = self.label_use.get(chosen, 0) + 1
        columns = self.columns
        columns["time"].append(t)
        columns["entity"].append(entity)
        columns["level"].append(next((labels[k] for k in LEVEL_LABELS if labels.get(k)), None))
        columns["message"].append(None if line is None else str(line))
        columns["trace_id"].append(next((labels[k].lower() for k in TRACE_KEYS if labels.get(k)), None))
        columns["span_id"].append(next((labels[k].lower() for k in SPAN_KEYS if labels.get(k)), None))


def _logcli_time(value: JSONValue, source: str, row: int) -> int:
    if isinstance(value, int | float):
        return int(value)
    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise DataError(f"line {row + 1} has a timestamp that is not RFC 3339: {str(value)[:40]!r}", source=source,
                        column="timestamp", row=row, hint="logcli writes RFC 3339 timestamps") from exc
    if stamp.tzinfo is None:
        raise DataError(f"line {row + 1} has a timestamp without a time zone: {value!r}", source=source,
                        column="timestamp", row=row, hint="logcli writes RFC 3339 timestamps with a zone")
    seconds = int(stamp.timestamp())
    nanos = _fraction_nanos(str(value))
    return seconds * 1_000_000_000 + nanos


def _fraction_nanos(text: str) -> int:
    """The nanoseconds of an RFC 3339 time (datetime keeps only microseconds)."""
    if "." not in text:
        return 0
    digits = ""
    for ch in text.split(".", 1)[1]:
        if not ch.isdigit():
            break
        digits += ch
    return int((digits + "000000000")[:9])
