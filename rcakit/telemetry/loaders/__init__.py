"""Loaders for files and wire formats: each returns a :class:`~rcakit.telemetry.Telemetry` with its
:class:`~rcakit.telemetry.LoadReport`.

* :func:`read_csv`, :func:`read_parquet`: tables of metrics, logs or spans, long or wide, with a
  column mapping; gzip read transparently, the CSV delimiter sniffed.
* :func:`read_otlp_json` / :func:`write_otlp_json`: OpenTelemetry OTLP/JSON (the Collector's file
  exporter format; also Tempo's and Grafana's trace JSON and Jaeger's /api/v3).
* :func:`read_otlp_proto`: binary OTLP (the file exporter's ``format: proto``, OTLP/HTTP bodies).
* :func:`read_jaeger_json`: Jaeger UI/API trace JSON.
* :func:`read_zipkin_json`: Zipkin v2 span JSON.
* :func:`read_prometheus_json`: Prometheus HTTP API query results (matrix or vector).
* :func:`read_openmetrics`: a metrics exposition (OpenMetrics or Prometheus text), parsed by
  ``prometheus_client``.
* :func:`read_loki_json`: Grafana Loki log query results (streams) and ``logcli`` JSON Lines.
* :func:`load`: any of these, chosen by content (``telemetry.report`` says which and why);
  :data:`FORMATS` lists them with the exports each covers (see docs/formats.md).
* :func:`read_tables`: the spans, logs and metrics of an export (any of these formats, a column
  mapping per table) read at the same time on a thread pool into one Telemetry and one report.

Every error is a :class:`~rcakit.errors.DataError` (or ``SchemaError``) naming the file, column and
row; every coercion is in ``telemetry.report``; nothing is dropped without a line there.
"""

from rcakit.telemetry.loaders.dispatch import load, sniff_format
from rcakit.telemetry.loaders.formats import FORMATS
from rcakit.telemetry.loaders.jaeger import read_jaeger_json
from rcakit.telemetry.loaders.loki import read_loki_json
from rcakit.telemetry.loaders.openmetrics import read_openmetrics
from rcakit.telemetry.loaders.otlp import read_otlp_json, write_otlp_json
from rcakit.telemetry.loaders.otlp_proto import read_otlp_proto
from rcakit.telemetry.loaders.prometheus import read_prometheus_json
from rcakit.telemetry.loaders.tables import read_tables
from rcakit.telemetry.loaders.tabular import read_csv, read_parquet, sniff_separator
from rcakit.telemetry.loaders.zipkin import read_zipkin_json

__all__ = [
    "FORMATS",
    "load",
    "read_csv",
    "read_jaeger_json",
    "read_loki_json",
    "read_openmetrics",
    "read_otlp_json",
    "read_otlp_proto",
    "read_parquet",
    "read_prometheus_json",
    "read_tables",
    "read_zipkin_json",
    "sniff_format",
    "sniff_separator",
    "write_otlp_json",
]
