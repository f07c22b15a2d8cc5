"""EasyVista IT monitoring (Ait-Bachir, Assaad et al. 2023): MoM activity and the Storm topology incident.

Layout (as in ../shared/datasets/it-monitoring)::

    case_studies/data/Middleware_oriented_message_Activity/{monitoring_metrics_1.csv, monitoring_metrics_2.csv,
                                                            structure.txt}
    case_studies/data/Storm_Ingestion_Activity/{storm_data_normal.csv, storm_structure.txt}
    easyrca/TestEasyRCA/monitoring_data/data_with_incident_between_46683_and_46783.csv

MoM: one machine running a message-oriented middleware with one queue. The column names allow a
component per metric: ``*_causality_1`` columns belong to the queue ``causality_1`` (metric =
the rest of the name: ``causality_1:publish_rate``), the others to the host ``server``
(``server:cpu_global_prct``). ``meta["columns"]`` maps every upstream column to its node.

Storm: eight bolts of an ingestion topology, one series per bolt sampled each minute. The source
does not say which statistic each column is, so the entity is the column (the bolt) and the metric
is ``value`` (``pre_Message_dispatcher_bolt:value``). The rows carry only an index (minutes); rcakit
puts row ``i`` at :data:`SYNTHETIC_EPOCH` + ``i`` minutes.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from pathlib import Path

import networkx as nx
import polars as pl

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry.datasets._common import (
    SYNTHETIC_EPOCH,
    GraphDataset,
    as_dir,
    cached,
    canonical_metrics,
    epoch_seconds_to_time,
    imax,
    imin,
    read_edge_list,
    tmax,
    tmin,
)
from rcakit.telemetry.incident import GroundTruth, Incident
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow

__all__ = [
    "MOM_DIR",
    "STORM_ALARM",
    "STORM_DIR",
    "STORM_INCIDENT_FILE",
    "STORM_INCIDENT_ROWS",
    "STORM_ROOT_CAUSES",
    "load_mom",
    "load_storm",
    "mom_node",
    "storm_graph_dataset",
]

MOM_DIR = "case_studies/data/Middleware_oriented_message_Activity"
STORM_DIR = "case_studies/data/Storm_Ingestion_Activity"
STORM_INCIDENT_FILE = "easyrca/TestEasyRCA/monitoring_data/data_with_incident_between_46683_and_46783.csv"
STORM_INCIDENT_ROWS = (46683, 46783)  # inclusive, as labelled upstream
STORM_ROOT_CAUSES = ("capacity_elastic_search_bolt", "pre_Message_dispatcher_bolt")
#: The Storm alarm: capacity_last_metric_bolt is a sink of the topology's causal graph that lies
#: downstream of the root cause pre_Message_dispatcher_bolt (through message_dispatcher, check_message
#: and metric bolts) and is not itself a root cause: the place where an operator sees the end of the chain.
STORM_ALARM = "capacity_last_metric_bolt:value"
_STORM_STEP = timedelta(minutes=1)
_HINT = (f"Pass the it-monitoring folder (holding {MOM_DIR}/ , {STORM_DIR}/ and "
         "easyrca/TestEasyRCA/monitoring_data/)")
_QUEUE = re.compile(r"^(?P<metric>.+)_(?P<queue>causality_\d+)$")


def mom_node(column: str) -> str:
    """The node of a MoM column: queue metrics on the queue, the rest on the host ``server``."""
    match = _QUEUE.match(column)
    if match:
        return f"{match.group('queue')}:{match.group('metric')}"
    return f"server:{column}"


# -- layout -------------------------------------------------------------------------------------------
def _locate(path: str | os.PathLike[str], names: list[str], sub: str, what: str) -> Path:
    """The folder holding ``names``: ``path/sub`` or ``path`` itself."""
    folder = as_dir(path, what, sub + "/")
    for candidate in (folder / sub, folder):
        if all((candidate / n).is_file() for n in names):
            return candidate
    base = folder / sub if (folder / sub).is_dir() else folder
    missing = [n for n in names if not (base / n).is_file()]
    try:
        found = ", ".join(sorted(p.name + ("/" if p.is_dir() else "") for p in base.iterdir())[:8]) or "an empty folder"
    except OSError:
        found = "nothing readable"
    raise DatasetLayoutError(
        f"this is not an {what} folder: missing {', '.join(f'{sub}/{n}' if base != folder else n for n in missing)}; "
        f"found {found}", source=str(folder), hint=_HINT)


def _read_csv(path: Path, *, separator: str = ",") -> pl.DataFrame:
    try:
        frame = pl.read_csv(path, separator=separator, infer_schema=False)
    except pl.exceptions.NoDataError as exc:
        raise DataError("the file is empty", source=str(path), hint=_HINT) from exc
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the CSV file: {exc}", source=str(path), hint=_HINT) from exc
    if frame.width < 2:
        raise DataError(f"expected an index column and metric columns separated by {separator!r}; got one column "
                        f"{frame.columns[0][:60]!r}", source=str(path),
                        hint="Check the delimiter (MoM and storm_data_normal use ',', the incident file ';')")
    return frame


def _numbers(frame: pl.DataFrame, columns: list[str], source: str, report: LoadReport) -> pl.DataFrame:
    text = pl.col(columns).str.strip_chars()
    out = frame.with_columns(text.cast(pl.Float64, strict=False))
    bad = frame.select((text.cast(pl.Float64, strict=False).is_null() & text.is_not_null() & (text != "")).sum())
    for column, count in zip(columns, bad.row(0), strict=True):
        if count:
            report.add(source, column, "set non-numbers to null", int(count), "text that is not a number")
    return out


def _index(frame: pl.DataFrame, column: str, source: str) -> pl.Series:
    index = frame.get_column(column).str.strip_chars().cast(pl.Float64, strict=False)
    if index.is_null().any():
        row = int(index.is_null().arg_max() or 0)
        raise DataError(f"cannot read {frame.get_column(column)[row]!r} as a number", source=source, column=column,
                        row=row, hint="The first column is the time (MoM) or the row index (Storm)")
    if index.is_duplicated().any():
        row = int(index.is_duplicated().arg_max() or 0)
        raise DataError(f"the value {index[row]!r} appears twice", source=source, column=column, row=row,
                        hint="Each row needs its own time or index")
    return index


# -- MoM ----------------------------------------------------------------------------------------------
def load_mom(path: str | os.PathLike[str]) -> GraphDataset:
    """MoM: 7 metrics of one middleware host and its queue, two recordings, the 10-edge expert graph."""
    names = ["monitoring_metrics_1.csv", "monitoring_metrics_2.csv", "structure.txt"]
    folder = _locate(path, names, MOM_DIR, "IT-monitoring MoM")
    files = [folder / n for n in names]
    return cached(("mom", str(folder.resolve())), files, lambda: _build_mom(folder))


def _build_mom(folder: Path) -> GraphDataset:
    report = LoadReport()
    parts = []
    recordings = {}
    columns: dict[str, str] = {}
    for number in (1, 2):
        path = folder / f"monitoring_metrics_{number}.csv"
        raw = _read_csv(path)
        time_col = raw.columns[0]
        values = [c for c in raw.columns if c != time_col]
        for column in values:
            columns[column] = mom_node(column)
        stamp = _index(raw, time_col, str(path))
        frame = _numbers(raw, values, str(path), report).with_columns(stamp.alias(time_col))
        long = frame.unpivot(index=time_col, variable_name="column", value_name="value").with_columns(
            epoch_seconds_to_time(pl.col(time_col)).alias("time"),
            pl.col("column").replace_strict(columns).alias("node"),
            pl.lit(number, dtype=pl.Int64).alias("recording"),
        )
        long = long.with_columns(
            pl.col("node").str.split_exact(":", 1).struct.field("field_0").alias("entity"),
            pl.col("node").str.split_exact(":", 1).struct.field("field_1").alias("metric"),
        ).select("time", "entity", "metric", "value", "recording")
        parts.append(canonical_metrics(long, source=str(path), report=report))
        times = parts[-1].get_column("time")
        recordings[number] = TimeWindow(tmin(times), tmax(times) + timedelta(seconds=1)).to_dict()
    metrics = pl.concat(parts, how="vertical").sort("time", maintain_order=True)
    graph = read_edge_list(folder / "structure.txt", dataset="MoM")
    unknown = sorted(set(graph.nodes) - set(columns))
    if unknown:
        raise DataError(f"structure.txt names {unknown[0]!r}, which is no column of the MoM files",
                        source=str(folder / "structure.txt"), hint=f"Columns: {', '.join(columns)}")
    graph = nx.relabel_nodes(graph, columns)
    graph.add_nodes_from(columns.values())
    return GraphDataset(
        name="mom",
        telemetry=Telemetry(metrics, report=report, validated=True),
        graph=graph,
        description=("Middleware-oriented message activity (EasyVista): host RAM, CPU and disk I/O of the server and "
                     "the consumers, messages and publish rate of its queue causality_1; two recordings at ~1 s "
                     "sampling (column 'recording'); expert summary graph of 10 edges."),
        system=None,
        meta={"dataset": "it-monitoring/mom", "columns": columns, "recordings": recordings,
              "files": [str(folder / f"monitoring_metrics_{n}.csv") for n in (1, 2)]},
    )


# -- Storm --------------------------------------------------------------------------------------------
def _storm_long(raw: pl.DataFrame, source: str, report: LoadReport, recording: str) -> pl.DataFrame:
    index_col = raw.columns[0]
    bolts = [c for c in raw.columns if c != index_col]
    index = _index(raw, index_col, source).cast(pl.Int64)
    frame = _numbers(raw, bolts, source, report).with_columns(index.alias("row")).drop(index_col)
    long = frame.unpivot(index="row", variable_name="entity", value_name="value").with_columns(
        (pl.lit(SYNTHETIC_EPOCH) + pl.duration(minutes=pl.col("row"))).dt.cast_time_unit("ns").alias("time"),
        pl.lit("value").alias("metric"),
        pl.lit(recording).alias("recording"),
    ).select("time", "entity", "metric", "value", "row", "recording")
    return canonical_metrics(long, source=source, report=report)


def _storm_graph(structure: Path) -> nx.DiGraph:
    graph = read_edge_list(structure, dataset="Storm", suffix=":value")
    return graph


def _row_time(row: int) -> datetime:
    return SYNTHETIC_EPOCH + row * _STORM_STEP


def load_storm(path: str | os.PathLike[str]) -> Incident:
    """The Storm topology's real incident (rows 46683..46783) with its two root causes and 9-edge graph."""
    root = as_dir(path, "IT-monitoring", "easyrca/ and case_studies/")
    incident_path = root / STORM_INCIDENT_FILE
    if not incident_path.is_file():
        flat = root / Path(STORM_INCIDENT_FILE).name
        incident_path = flat if flat.is_file() else incident_path
    storm_dir = _locate(root, ["storm_structure.txt"], STORM_DIR, "IT-monitoring Storm")
    if not incident_path.is_file():
        raise DatasetLayoutError(f"this is not an IT-monitoring folder: missing {STORM_INCIDENT_FILE}",
                                 source=str(root), hint=_HINT)
    normal_path = storm_dir / "storm_data_normal.csv"
    report = LoadReport()
    source = str(incident_path)
    metrics = _storm_long(_read_csv(incident_path, separator=";"), source, report, "incident")
    rows = metrics.get_column("row")
    low, high = imin(rows), imax(rows)
    first, last = STORM_INCIDENT_ROWS
    if low >= first or high < last:
        raise DataError(f"the incident file should cover rows before {first} and up to {last}; it has "
                        f"{low}..{high}", source=source, column="index",
                        hint="Is this data_with_incident_between_46683_and_46783.csv?")
    report.add(source, "index", "put rows on a synthetic 1-minute grid (row i at 2000-01-01 + i minutes)",
               int(rows.n_unique()), "the file has a row index, no time")
    matches_normal = None
    if normal_path.is_file():
        normal = _storm_long(_read_csv(normal_path), str(normal_path), LoadReport(), "normal")
        same = normal.join(metrics, on=["row", "entity"], how="left", suffix="_incident")
        matches_normal = bool(same.select(
            ((pl.col("value") == pl.col("value_incident")) | (pl.col("value").is_null() & pl.col("value_incident").is_null()))
            .all()).item())
    graph = _storm_graph(storm_dir / "storm_structure.txt")
    bolts = set(metrics.get_column("entity").unique())
    unknown = sorted({n.split(":", 1)[0] for n in graph.nodes} - bolts)
    if unknown:
        raise DataError(f"storm_structure.txt names {unknown[0]!r}, which is no column of the incident file",
                        source=str(storm_dir / "storm_structure.txt"), hint=f"Columns: {', '.join(sorted(bolts))}")
    graph.add_nodes_from(f"{b}:value" for b in bolts)
    baseline = TimeWindow(_row_time(low), _row_time(first))
    window = TimeWindow(_row_time(first), _row_time(last + 1))
    incident = Incident(
        telemetry=Telemetry(metrics, report=report, validated=True),
        baseline_window=baseline,
        incident_window=window,
        alarm=None,
        truth=GroundTruth(
            root_cause_entities=STORM_ROOT_CAUSES,
            root_cause_nodes=tuple(f"{b}:value" for b in STORM_ROOT_CAUSES),
            fault_type=None,
            graph=graph,
            notes="Root causes as labelled by the authors of T-RCA (EasyRCA test data).",
        ),
        name="storm-incident",
        description=(
            f"A real incident of an Apache Storm ingestion topology (EasyVista): 8 bolts, one series each, 1-minute "
            f"rows {low}..{high} on a synthetic grid (row i at {SYNTHETIC_EPOCH:%Y-%m-%d} + "
            f"i minutes). Incident = rows {first}..{last} inclusive ({last - first + 1} rows); baseline = the earlier "
            f"rows. Alarm: {STORM_ALARM}, a sink of the causal graph downstream of pre_Message_dispatcher_bolt "
            "and not itself a root cause."
        ),
        system=None,
        meta={
            "dataset": "it-monitoring/storm",
            "file": source,
            "incident_rows": [first, last],
            "time_is_synthetic": True,
            "synthetic_grid": {"epoch": SYNTHETIC_EPOCH.isoformat(), "step_seconds": 60, "time_of_row": "epoch + row min"},
            "normal_file": str(normal_path) if normal_path.is_file() else None,
            "normal_file_matches_incident_rows": matches_normal,
            "alarm_choice": STORM_ALARM,
        },
    )
    incident.alarm = STORM_ALARM if "capacity_last_metric_bolt" in bolts else None
    return incident


def storm_graph_dataset(path: str | os.PathLike[str]) -> GraphDataset:
    """storm_data_normal.csv (991 normal minutes) with the 9-edge expert graph."""
    folder = _locate(path, ["storm_data_normal.csv", "storm_structure.txt"], STORM_DIR, "IT-monitoring Storm")
    report = LoadReport()
    normal_path = folder / "storm_data_normal.csv"
    metrics = _storm_long(_read_csv(normal_path), str(normal_path), report, "normal")
    graph = _storm_graph(folder / "storm_structure.txt")
    graph.add_nodes_from(f"{b}:value" for b in metrics.get_column("entity").unique())
    return GraphDataset(
        name="storm",
        telemetry=Telemetry(metrics, report=report, validated=True),
        graph=graph,
        description=("Storm ingestion topology (EasyVista), 8 bolts, 991 normal minutes on a synthetic 1-minute grid; "
                     "expert summary graph of 9 edges."),
        system=None,
        meta={"dataset": "it-monitoring/storm", "file": str(normal_path), "time_is_synthetic": True},
    )
