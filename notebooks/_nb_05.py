"""Cells of notebooks/05_bring_your_own_data.ipynb."""

from _cells import SETUP, code, md

NAME = "05_bring_your_own_data.ipynb"

CELLS = [
    md("""
# Bring your own data

rcakit reads telemetry from the formats you already have and turns it into an `Incident`:

* CSV or Parquet (long or wide, gzip or not) with a column mapping: `read_csv`, `read_parquet`
* OpenTelemetry OTLP/JSON (collector file exporter): `read_otlp_json`
* Jaeger JSON traces: `read_jaeger_json`
* Prometheus range-query JSON: `read_prometheus_json`
* or any of these by extension and content: `load`; several tables of one export at once: `read_tables`

Every loader returns a `Telemetry` whose `report` lists every coercion it made (times read as UTC, units
recognised, non-numbers set to null); nothing is dropped silently. Here we write small files of each kind
and read them back."""),
    code(SETUP),
    code("""
import json, tempfile
from pathlib import Path
import numpy as np
import pandas as pd

work = Path(tempfile.mkdtemp(prefix="rcakit-byod-"))
rng = np.random.default_rng(7)
times = pd.date_range("2024-05-01 10:00", periods=120, freq="1min")   # naive: rcakit reads them as UTC
latency = 100 + rng.normal(0, 5, 120)
latency[90:] += 80                                                    # the incident
cpu = 40 + rng.normal(0, 3, 120)
cpu[88:] += 35                                                        # ... caused by CPU
wide = pd.DataFrame({"timestamp": times, "checkout:latency_ms": latency, "db:cpu_percent": cpu})
wide.loc[5, "db:cpu_percent"] = np.nan
wide.to_csv(work / "metrics.csv.gz", index=False)
wide.head(3)"""),
    md("### CSV, wide layout, with a column mapping for the time column"),
    code("""
from rcakit.telemetry.loaders import read_csv

metrics = read_csv(work / "metrics.csv.gz", layout="wide", columns={"time": "timestamp"})
print(metrics)
print(metrics.report)"""),
    md("### Prometheus range-query JSON"),
    code("""
from rcakit.telemetry.loaders import read_prometheus_json

prom = {"status": "success", "data": {"resultType": "matrix", "result": [
    {"metric": {"__name__": "http_requests_per_second", "job": "checkout"},
     "values": [[t.timestamp(), str(100 + i % 7)] for i, t in enumerate(times)]}]}}
(work / "prom.json").write_text(json.dumps(prom))
requests = read_prometheus_json(work / "prom.json")
requests.nodes()"""),
    md("### Jaeger traces"),
    code("""
from rcakit.telemetry.loaders import read_jaeger_json

t0 = int(times[0].timestamp() * 1e6)
jaeger = {"data": [{"traceID": f"t{i}", "processes": {"p1": {"serviceName": "checkout"}, "p2": {"serviceName": "db"}},
                    "spans": [
    {"traceID": f"t{i}", "spanID": f"a{i}", "operationName": "POST /buy", "references": [],
     "startTime": t0 + i * 60_000_000, "duration": 120_000, "processID": "p1", "tags": []},
    {"traceID": f"t{i}", "spanID": f"b{i}", "operationName": "SELECT", "processID": "p2",
     "references": [{"refType": "CHILD_OF", "traceID": f"t{i}", "spanID": f"a{i}"}],
     "startTime": t0 + i * 60_000_000 + 10_000, "duration": 80_000, "tags": []}]}
                   for i in range(120)]}
(work / "traces.json").write_text(json.dumps(jaeger))
traces = read_jaeger_json(work / "traces.json")
traces.spans.head(3)"""),
    md("### OTLP JSON round trip\n`write_otlp_json` writes what the OpenTelemetry collector's file exporter writes; `read_otlp_json` reads it."),
    code("""
from rcakit.telemetry.loaders import read_otlp_json, write_otlp_json

write_otlp_json(metrics.merge(traces), work / "otlp.json")
back = read_otlp_json(work / "otlp.json")
print(back)"""),
    md("""
### An export of several tables in one call
`read_tables` reads the spans, logs and metrics of an export at the same time (a thread per table, each in
any format above, with its own column mapping and options) and merges them, with one report."""),
    code("""
from rcakit.telemetry.loaders import read_tables

both = read_tables(metrics=work / "metrics.csv.gz", spans=work / "traces.json",
                   columns={"metrics": {"time": "timestamp"}}, options={"metrics": {"layout": "wide"}})
assert both.spans.height == traces.spans.height and both.metrics.height == metrics.metrics.height
print(both)"""),
    md("### One incident from all sources\nMerge the sources, set the windows and the alarm, and run the pipeline."),
    code("""
from rcakit import Incident

telemetry = metrics.merge(requests, traces)
incident = Incident(telemetry,
                    baseline_window=("2024-05-01T10:00Z", "2024-05-01T11:20Z"),
                    incident_window=("2024-05-01T11:28Z", "2024-05-01T12:00Z"),
                    alarm="checkout:latency_ms", name="my-incident")
incident"""),
    code("""
from rcakit.pipeline import analyze

analysis = analyze(incident, llm=None)
print(analysis.summary())
analysis.attribution.to_frame().head(3)[["rank", "node", "score", "path"]]"""),
    md("""
### When something is wrong with a file
Errors name the file, the column or row, and what to do:"""),
    code("""
(work / "bad.csv").write_text("ts,entity,metric,value\\n2024-05-01T10:00Z,db,cpu,1\\n")
try:
    read_csv(work / "bad.csv")
except rcakit.DataError as exc:
    print(type(exc).__name__, ":", exc)"""),
]
