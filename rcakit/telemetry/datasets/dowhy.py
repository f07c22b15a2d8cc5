"""DoWhy's "root cause of elevated latencies in a microservice architecture" example (synthetic, MIT).

Layout::

    dowhy-microservice/rca_microservice_architecture_latencies.csv     10,000 normal requests
    dowhy-microservice/rca_microservice_architecture_anomaly.csv       1 outlier request
    dowhy-microservice/rca_microservice_architecture_anomaly_1000.csv  1,000 requests after a shift

Each row is one request: the latency (seconds) of 11 services. The rows carry no time, so rcakit puts
them on a synthetic 1-second grid starting at :data:`SYNTHETIC_EPOCH` (2000-01-01 UTC): the normal
rows first (row i at second i), then the anomalous rows. The entity is the service name as in the
header, the metric ``latency``. Truth (from the notebook): Caching Service's intrinsic latency grew by
2 s; the causal graph is the reversed call graph (callee latency -> caller latency), 13 edges.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import networkx as nx
import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry.datasets._common import (
    SYNTHETIC_EPOCH,
    GraphDataset,
    as_dir,
    cached,
    canonical_metrics,
    find_file,
    imax,
    require_files,
)
from rcakit.telemetry.incident import GroundTruth, Incident
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow

__all__ = [
    "DOWHY_ALARM",
    "DOWHY_EDGES",
    "DOWHY_FILES",
    "DOWHY_ROOT_CAUSE",
    "DOWHY_SERVICES",
    "dowhy_call_graph",
    "dowhy_graph",
    "dowhy_graph_dataset",
    "dowhy_system",
    "load_dowhy_microservice",
]

DOWHY_FILES = {
    "normal": "rca_microservice_architecture_latencies.csv",
    "outlier": "rca_microservice_architecture_anomaly.csv",
    "shift": "rca_microservice_architecture_anomaly_1000.csv",
}
#: cause -> effect (callee latency -> caller latency), as in the notebook's causal_graph.
DOWHY_EDGES: tuple[tuple[str, str], ...] = (
    ("www", "Website"),
    ("Auth Service", "www"),
    ("API", "www"),
    ("Customer DB", "Auth Service"),
    ("Customer DB", "API"),
    ("Product Service", "API"),
    ("Auth Service", "API"),
    ("Order Service", "API"),
    ("Shipping Cost Service", "Product Service"),
    ("Caching Service", "Product Service"),
    ("Product DB", "Caching Service"),
    ("Customer DB", "Product Service"),
    ("Order DB", "Order Service"),
)
DOWHY_SERVICES = ("Product DB", "Customer DB", "Order DB", "Shipping Cost Service", "Caching Service",
                  "Product Service", "Auth Service", "Order Service", "API", "www", "Website")
DOWHY_ROOT_CAUSE = "Caching Service"
DOWHY_ALARM = "Website:latency"
_STEP = timedelta(seconds=1)
_HINT = (f"Pass the dowhy-microservice folder holding {', '.join(DOWHY_FILES.values())} "
         "(from DoWhy's docs/source/example_notebooks)")


def dowhy_graph(metric: str | None = "latency") -> nx.DiGraph:
    """The true causal graph, 13 edges cause -> effect, on ``<service>:latency`` nodes (services if ``metric=None``)."""
    graph = nx.DiGraph()
    suffix = f":{metric}" if metric else ""
    graph.add_nodes_from(f"{s}{suffix}" for s in DOWHY_SERVICES)
    graph.add_edges_from((f"{a}{suffix}", f"{b}{suffix}") for a, b in DOWHY_EDGES)
    return graph


def dowhy_call_graph(metric: str | None = None) -> nx.DiGraph:
    """The call graph, caller -> callee, between services (the causal graph reversed)."""
    return dowhy_graph(metric).reverse(copy=True)


def dowhy_system() -> dict[str, object]:
    """A system description in the Atlas input shape (trace with callees, measurement descriptions)."""
    calls = dowhy_call_graph()
    trace: dict[str, object] = {}
    paths = nx.single_source_shortest_path(calls, "Website")
    for service in DOWHY_SERVICES:
        path = paths.get(service, [service])
        key = "request." + ".".join(path)
        kind = "database" if service.endswith("DB") else "web front end" if service in ("Website", "www") else "service"
        trace[key] = {
            "service_description": f"{service}: a {kind} of an online shop.",
            "callees": sorted(calls.successors(service)),
        }
    latency = ("Time in seconds to answer one request, including the time spent waiting for the services it "
               "calls.")
    return {
        "trace": trace,
        "measurements": {s: {"service": {"latency": latency}} for s in DOWHY_SERVICES},
    }


def _read(path: Path) -> pl.DataFrame:
    source = str(path)
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except pl.exceptions.NoDataError as exc:
        raise DataError("the file is empty", source=source, hint=_HINT) from exc
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the CSV file: {exc}", source=source, hint=_HINT) from exc
    missing = [s for s in DOWHY_SERVICES if s not in frame.columns]
    if missing:
        raise DataError(f"the header lacks the service {missing[0]!r} (it has {', '.join(frame.columns)})",
                        source=source, column=missing[0], hint=_HINT)
    if frame.height == 0:
        raise DataError("the file has a header but no rows", source=source, hint=_HINT)
    out = frame.select([pl.col(s).str.strip_chars().cast(pl.Float64, strict=False) for s in DOWHY_SERVICES])
    for service in DOWHY_SERVICES:
        bad = out.get_column(service).is_null() & frame.get_column(service).is_not_null()
        if bad.any():
            row = int(bad.arg_max() or 0)
            raise DataError(f"cannot read {frame.get_column(service)[row]!r} as a latency", source=source,
                            column=service, row=row, hint="Latencies are numbers of seconds")
    return out


def _long(wide: pl.DataFrame, offset: int, recording: str, source: str, report: LoadReport) -> pl.DataFrame:
    """One row per (request, service) on the synthetic grid starting ``offset`` seconds after the epoch."""
    seconds = pl.int_range(offset, offset + wide.height, dtype=pl.Int64, eager=True)
    frame = wide.insert_column(0, seconds.alias("second")).unpivot(index="second", variable_name="entity",
                                                                    value_name="value")
    frame = frame.with_columns(
        (pl.lit(SYNTHETIC_EPOCH) + pl.duration(seconds=pl.col("second"))).dt.cast_time_unit("ns").alias("time"),
        pl.lit("latency").alias("metric"),
        pl.lit(recording).alias("recording"),
        (pl.col("second") - offset).alias("row"),
    ).select("time", "entity", "metric", "value", "recording", "row")
    return canonical_metrics(frame, source=source, report=report)


def _folder(path: str | os.PathLike[str]) -> Path:
    folder = as_dir(path, "DoWhy microservice", "the three rca_microservice_architecture_*.csv files")
    require_files(folder, DOWHY_FILES.values(), "DoWhy microservice", _HINT)
    return folder


def _normal(folder: Path) -> tuple[pl.DataFrame, LoadReport]:
    path = find_file(folder, DOWHY_FILES["normal"])
    assert path is not None

    def build() -> tuple[pl.DataFrame, LoadReport]:
        report = LoadReport()
        return _long(_read(path), 0, "normal", str(path), report), report

    return cached(("dowhy-normal", str(path.resolve())), [path], build)


def load_dowhy_microservice(path: str | os.PathLike[str]) -> list[Incident]:
    """Two Incidents: ``dowhy-outlier`` (the one-row outlier) and ``dowhy-shift-1000`` (1,000 shifted rows)."""
    folder = _folder(path)
    normal, normal_report = _normal(folder)
    n_normal = imax(normal.get_column("row")) + 1
    baseline = TimeWindow(SYNTHETIC_EPOCH, SYNTHETIC_EPOCH + n_normal * _STEP)
    incidents = []
    for name, key, what in (("dowhy-outlier", "outlier", "a single outlier request"),
                            ("dowhy-shift-1000", "shift", "1,000 requests after a permanent shift")):
        found = find_file(folder, DOWHY_FILES[key])
        assert found is not None  # checked by _folder
        path = found
        report = LoadReport()
        report.extend(normal_report)
        wide = _read(path)
        anomalous = _long(wide, n_normal, "anomaly", str(path), report)
        report.add(str(path), None, "put rows on a synthetic 1-second grid", wide.height,
                   "the file has no time; normal rows come first, then these")
        metrics = pl.concat([normal, anomalous], how="vertical", rechunk=False)
        window = TimeWindow(baseline.end, baseline.end + wide.height * _STEP)
        description = (
            f"DoWhy microservice example ({what}; synthetic data). Each row is one request's latency at 11 "
            f"services. The rows have no time: they sit on a synthetic 1-second grid from "
            f"{SYNTHETIC_EPOCH:%Y-%m-%d} UTC, the {n_normal:,} normal rows first (baseline), then the "
            f"{wide.height:,} anomalous rows (incident). Alarm: Website latency."
        )
        incident = Incident(
            telemetry=Telemetry(metrics, report=report, validated=True),
            baseline_window=baseline,
            incident_window=window,
            alarm=None,
            truth=GroundTruth(
                root_cause_entities=(DOWHY_ROOT_CAUSE,),
                root_cause_nodes=(f"{DOWHY_ROOT_CAUSE}:latency",),
                fault_type="latency shift",
                graph=dowhy_graph(),
                notes="Caching Service's intrinsic latency shifted by +2 s (DoWhy notebook, data generation).",
            ),
            name=name,
            description=description,
            system=dowhy_system(),
            meta={
                "dataset": "dowhy-microservice",
                "file": str(path),
                "normal_file": str(find_file(folder, DOWHY_FILES["normal"])),
                "time_is_synthetic": True,
                "synthetic_grid": {"epoch": SYNTHETIC_EPOCH.isoformat(), "step_seconds": 1,
                                   "normal_rows": int(n_normal), "anomalous_rows": wide.height},
            },
            call_graph=dowhy_call_graph(),
        )
        incident.alarm = DOWHY_ALARM  # every service has a latency column (checked in _read)
        incidents.append(incident)
    return incidents


def dowhy_graph_dataset(path: str | os.PathLike[str]) -> GraphDataset:
    """The 10,000 normal rows with the 13-edge graph, for graph-drafting evaluation."""
    folder = _folder(path)
    normal, report = _normal(folder)
    return GraphDataset(
        name="dowhy",
        telemetry=Telemetry(normal, report=report, validated=True),
        graph=dowhy_graph(),
        description=("DoWhy microservice example, 10,000 normal requests (synthetic) on a synthetic 1-second grid; "
                     "true graph = 13 edges callee latency -> caller latency."),
        system=dowhy_system(),
        meta={"dataset": "dowhy-microservice", "time_is_synthetic": True},
    )
