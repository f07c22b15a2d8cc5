"""The file formats :func:`~rcakit.telemetry.loaders.load` reads, and how it tells them apart by content.

Each format names the tools whose exports it covers and the reader that reads it. ``detect(path)``
looks at the bytes, not only the name: Parquet's magic number, binary OTLP's framing, the keys of a
JSON document (``resourceSpans``, ``"resultType": "streams"``, ``traceID`` with ``processes``, a list
of spans with ``localEndpoint``), the ``# HELP``/``# TYPE`` lines of a metrics exposition; text that
is none of these is read as CSV. A file that is none of them (an HTML page, a zip archive, JSON of
another kind) is a DataError that says what it looks like and lists the readers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from rcakit.errors import DataError
from rcakit.telemetry.loaders._common import PathLike, as_path, read_head
from rcakit.telemetry.loaders._notes import note

__all__ = ["FORMATS", "Format", "detect", "formats_text", "note", "sniff_format"]


@dataclass(frozen=True)
class Format:
    """One format ``load`` reads: its key, a human name, the reader and the exports it covers."""

    name: str
    label: str
    reader: str
    exports: str


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("csv", "CSV table", "read_csv", "any table of metrics, logs or spans (long or wide; gzip)"),
    Format("parquet", "Parquet table", "read_parquet", "any table of metrics, logs or spans"),
    Format("otlp", "OTLP JSON", "read_otlp_json",
           "OpenTelemetry Collector file exporter (format: json), OTLP/HTTP JSON bodies, Tempo /api/traces "
           "(batches) and /api/v2/traces, Grafana's trace download, Jaeger /api/v3"),
    Format("otlp-proto", "OTLP protobuf", "read_otlp_proto",
           "OpenTelemetry Collector file exporter (format: proto), OTLP/HTTP protobuf bodies"),
    Format("jaeger", "Jaeger JSON", "read_jaeger_json", "Jaeger UI trace download and /api/traces"),
    Format("zipkin", "Zipkin v2 JSON", "read_zipkin_json", "Zipkin UI download, /api/v2/trace(s), v2 span lists"),
    Format("prometheus", "Prometheus API JSON", "read_prometheus_json",
           "Prometheus /api/v1/query_range and /api/v1/query, Loki metric queries"),
    Format("loki", "Loki JSON", "read_loki_json", "Grafana Loki /loki/api/v1/query_range streams, logcli -o jsonl"),
    Format("openmetrics", "OpenMetrics / Prometheus text", "read_openmetrics",
           "a /metrics scrape (OpenMetrics or Prometheus text exposition), promtool/curl output"),
)}

_SAMPLE_LINE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?[ \t]+[-+]?([0-9.]+([eE][-+]?[0-9]+)?|NaN|Inf|inf)"
                          r"([ \t]+[-+]?[0-9.]+)?")
_LOKI_STREAMS = re.compile(r'"resultType"\s*:\s*"streams"')
_HEAD = 1 << 12
_JSON_HEAD = 1 << 20


def formats_text() -> str:
    """The readers, one per format, for error messages."""
    return "; ".join(f"{f.reader} ({f.label})" for f in FORMATS.values())


def _suffixes(path: Path) -> list[str]:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    return suffixes


def _unknown(file: Path, looks: str, hint: str = "") -> DataError:
    return DataError(f"rcakit cannot read this file: it looks like {looks}", source=str(file),
                     hint=(hint + "; " if hint else "") + f"the readers are {formats_text()}; "
                     "call one directly or pass load(path, format=...)")


_CONTROL = bytes(range(0, 9)) + bytes(range(14, 32))


def _is_binary(head: bytes) -> bool:
    """NUL bytes, or many control bytes: not text in any 8-bit encoding (a Latin-1 CSV stays text)."""
    if b"\0" in head:
        return True
    control = sum(head.count(bytes([b])) for b in _CONTROL)
    return control > max(2, len(head) // 20)


def detect(path: PathLike) -> tuple[str, str]:
    """The format key of the file (see ``FORMATS``) and what gave it away."""
    file = as_path(path)
    suffix = (_suffixes(file) or [""])[-1]
    if suffix in (".parquet", ".pq"):
        return "parquet", f"the extension {suffix}"
    # A small head tells a table from JSON (the reader of a gzipped table need not inflate a
    # megabyte of each file twice); JSON is sniffed on a larger one.
    head = read_head(file, _HEAD)
    if head[:4] == b"PAR1":
        return "parquet", "the Parquet magic number"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        raise _unknown(file, "a zstd-compressed file", "decompress it first (zstd -d FILE); rcakit reads gzip itself")
    if head[:4] == b"PK\x03\x04":
        raise _unknown(file, "a zip archive", "unzip it and load the files inside")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (or UTF-32) text: read_csv decodes it
        text = head.decode("utf-16", errors="replace").lstrip("\ufeff \t\r\n")
        if not text.startswith(("{", "[")):
            return "csv", "UTF-16 text (a byte order mark)"
    elif _is_binary(head):
        from rcakit.telemetry.loaders.otlp_proto import looks_like_otlp_proto

        if looks_like_otlp_proto(head):
            return "otlp-proto", "binary data framed as protobuf messages"
        raise _unknown(file, f"a binary file (starts with bytes {head[:8].hex(' ')})")
    text = _text(head)
    if len(head) == _HEAD and (not text or text.startswith(("{", "["))):
        text = _text(read_head(file, _JSON_HEAD))
    if text.startswith(("{", "[")):
        return _sniff_json(text, file)
    if text.startswith("<"):
        kind = "an HTML page" if text[:200].lower().startswith(("<!doctype html", "<html")) else "XML or HTML"
        raise _unknown(file, kind, "a saved web page is not an export; download the data itself "
                       "(for Grafana: Inspect > Data > Download)")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith(("# HELP ", "# TYPE ", "# UNIT ", "# EOF")) or _SAMPLE_LINE.fullmatch(first):
        return "openmetrics", "'# HELP'/'# TYPE' lines or samples of a metrics exposition"
    return "csv", "text that is not JSON nor a metrics exposition"


def sniff_format(path: PathLike) -> str:
    """One of ``FORMATS`` for the file, from its extension and its first bytes (see ``formats.detect``)."""
    return detect(path)[0]


def _text(head: bytes) -> str:
    return head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


def _sniff_json(text: str, file: Path) -> tuple[str, str]:
    window = text[:200_000]
    for key in ('"resourceSpans"', '"resourceLogs"', '"resourceMetrics"'):
        if key in window:
            return "otlp", f"JSON with {key}"
    if '"batches"' in window and ('"scopeSpans"' in window or '"instrumentationLibrarySpans"' in window):
        return "otlp", "JSON with Tempo's \"batches\" of resource spans"
    if _LOKI_STREAMS.search(window):
        return "loki", 'JSON with "resultType": "streams"'
    if '"resultType"' in window or ('"status"' in window and '"errorType"' in window):
        return "prometheus", 'JSON with "resultType" (a Prometheus API response)'
    if '"traceID"' in window and ('"spans"' in window or '"processes"' in window):
        return "jaeger", 'JSON with "traceID" and "spans"/"processes"'
    if text.startswith("[") and '"traceId"' in window and ('"localEndpoint"' in window or '"id"' in window):
        return "zipkin", 'a JSON list of spans with "traceId" and "id"'
    first = text.splitlines()[0] if text else ""
    try:
        document = json.loads(first)
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested past Python's recursion limit
        document = None
    if isinstance(document, dict) and "line" in document and ("labels" in document or "timestamp" in document):
        return "loki", "JSON Lines with \"line\" and \"labels\" (logcli -o jsonl)"
    if document is not None:
        from rcakit.telemetry.loaders._json import describe_json

        looks = describe_json(document)
    else:
        looks = f"JSON starting with {first[:80]!r}"
    raise _unknown(file, looks)
