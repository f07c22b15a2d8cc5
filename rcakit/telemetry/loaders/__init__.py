"""Loaders for files and wire formats: each returns a :class:`~rcakit.telemetry.Telemetry` with its
:class:`~rcakit.telemetry.LoadReport`.

* :func:`read_csv`, :func:`read_parquet`: tables of metrics, logs or spans, long or wide, with a
  column mapping; gzip read transparently, the CSV delimiter sniffed.
* :func:`read_otlp_json` / :func:`write_otlp_json`: OpenTelemetry OTLP/JSON (the collector's file
  exporter format).
* :func:`read_jaeger_json`: Jaeger UI/API trace JSON.
* :func:`read_prometheus_json`: Prometheus HTTP API query results (matrix or vector).
* :func:`load`: any of these, chosen by extension and content.
* :func:`read_tables`: the spans, logs and metrics of an export (any of these formats, a column
  mapping per table) read at the same time on a thread pool into one Telemetry and one report.

Every error is a :class:`~rcakit.errors.DataError` (or ``SchemaError``) naming the file, column and
row; every coercion is in ``telemetry.report``; nothing is dropped without a line there.
"""

from rcakit.telemetry.loaders.dispatch import load, sniff_format
from rcakit.telemetry.loaders.jaeger import read_jaeger_json
from rcakit.telemetry.loaders.otlp import read_otlp_json, write_otlp_json
from rcakit.telemetry.loaders.prometheus import read_prometheus_json
from rcakit.telemetry.loaders.tables import read_tables
from rcakit.telemetry.loaders.tabular import read_csv, read_parquet, sniff_separator

__all__ = [
    "load",
    "read_csv",
    "read_jaeger_json",
    "read_otlp_json",
    "read_parquet",
    "read_prometheus_json",
    "read_tables",
    "sniff_format",
    "sniff_separator",
    "write_otlp_json",
]
