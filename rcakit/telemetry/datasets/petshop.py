"""PetShop (Hardt et al., NeurIPS 2023 Datasets & Benchmarks): 26 labelled issues of a real microservice app.

Layout (one scenario shown; a full upstream copy has more scenarios beside ``low_traffic``)::

    petshop/dataset/<scenario>/graph.csv                    adjacency: row = caller, column = callee
    petshop/dataset/<scenario>/noissue/metrics.csv          normal operation, 5-minute rows
    petshop/dataset/<scenario>/{train,test}/issue_N/{metrics.csv,target.json}

``metrics.csv`` has three header rows (microservice, metric, statistic), a fourth row naming the
``unix_timestamp`` index column, then one row per 5 minutes. A column becomes the node
``<microservice>:<metric>_<statistic lower-cased>`` (``PetSite:latency_average``). Component names
such as ``PetSearch_AWS::ECS::Fargate`` contain ':' which separates entity and metric in rcakit, so
they become ``PetSearch_AWS__ECS__Fargate`` (``safe_entity``); ``meta["entity_names"]`` maps back.

Each Incident's telemetry is the normal recording (baseline window) together with the issue's
recording (incident window): two different recordings (the normal one is months later in
low_traffic). Where they overlap in time, the normal rows inside the issue's span are dropped and
reported in the LoadReport, so the incident window only holds the issue's own rows.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import polars as pl

from rcakit.errors import DataError, DatasetLayoutError
from rcakit.telemetry.datasets._common import (
    GraphDataset,
    as_dir,
    cached,
    canonical_metrics,
    collapse_unobserved,
    epoch_seconds_to_time,
    require_files,
    safe_entity,
    tmax,
    tmin,
)
from rcakit.telemetry.incident import GroundTruth, Incident
from rcakit.telemetry.model import Telemetry
from rcakit.telemetry.report import LoadReport
from rcakit.telemetry.window import TimeWindow, to_utc

if TYPE_CHECKING:
    import pandas as pd

    from rcakit._types import JSONObject

__all__ = [
    "PETSHOP_STEP",
    "load_petshop",
    "petshop_call_graph",
    "petshop_graph_dataset",
    "petshop_node",
    "read_petshop_metrics",
    "scenario_dir",
]

PETSHOP_STEP = timedelta(minutes=5)
_HINT = ("Pass the petshop folder that contains dataset/<scenario>/ (graph.csv, noissue/metrics.csv, "
         "train/ and test/ with issue_N/metrics.csv and target.json)")


def petshop_node(microservice: str, metric: str, statistic: str | None = "Average") -> str:
    """The node of a PetShop column: ``petshop_node("PetSite", "latency", "p90") == "PetSite:latency_p90"``."""
    name = metric if statistic is None else f"{metric}_{statistic.lower()}"
    return f"{safe_entity(microservice)}:{name}"


# -- layout ---------------------------------------------------------------------------------------------
def scenario_dir(path: str | os.PathLike[str], scenario: str = "low_traffic") -> Path:
    """``<path>/dataset/<scenario>`` after checking the layout (``path`` may also be dataset/ or the scenario)."""
    root = as_dir(path, "PetShop", "dataset/<scenario>/")
    candidates = [root / "dataset" / scenario, root / scenario, root]
    for candidate in candidates:
        if (candidate / "graph.csv").is_file() and (candidate / "noissue").is_dir():
            folder = candidate
            break
    else:
        dataset = root / "dataset"
        if dataset.is_dir():
            scenarios = sorted(p.name for p in dataset.iterdir() if (p / "graph.csv").is_file())
            raise DatasetLayoutError(
                f"PetShop scenario {scenario!r} not found under dataset/; this copy has "
                f"{', '.join(scenarios) or 'no scenario folder with a graph.csv'}",
                source=str(dataset), hint="Pass scenario= one of those" if scenarios else _HINT,
            )
        require_files(root, ["dataset/", f"dataset/{scenario}/graph.csv", f"dataset/{scenario}/noissue/"],
                      "PetShop", _HINT)
        raise DatasetLayoutError("not a PetShop folder", source=str(root), hint=_HINT)  # pragma: no cover
    require_files(folder, ["graph.csv", "noissue/metrics.csv"], "PetShop", _HINT)
    return folder


def _issue_dirs(folder: Path, split: str) -> list[Path]:
    split_dir = folder / split
    if not split_dir.is_dir():
        raise DatasetLayoutError(f"the PetShop scenario has no {split!r} split; found "
                                 f"{', '.join(sorted(p.name for p in folder.iterdir()))}",
                                 source=str(folder), hint="Pass splits= a subset of the folders present")
    issues = [p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]

    def order(p: Path) -> tuple[int, str]:
        tail = p.name.rsplit("_", 1)[-1]
        return (int(tail) if tail.isdigit() else 10**9, p.name)

    issues.sort(key=order)
    for issue in issues:
        require_files(issue, ["metrics.csv", "target.json"], "PetShop issue", _HINT)
    return issues


# -- metrics files --------------------------------------------------------------------------------------
def _read_raw(csv_path: Path) -> tuple[list[tuple[str, str, str]], pl.DataFrame]:
    """The three header rows as (microservice, metric, statistic) per column, and the data as strings."""
    source = str(csv_path)
    try:
        raw = pl.read_csv(csv_path, has_header=False, infer_schema=False, truncate_ragged_lines=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the PetShop metrics file: {exc}", source=source,
                        hint="The file should be a CSV with three header rows") from exc
    if raw.height < 4 or raw.width < 2:
        raise DataError(f"a PetShop metrics file has three header rows, an index row and data; got {raw.height} "
                        f"rows x {raw.width} columns", source=source, hint="Check that the file is complete")
    first = raw.get_column(raw.columns[0]).head(4).to_list()
    if (first[1] or "").strip() != "metric" or (first[2] or "").strip() != "statistic":
        raise DataError(f"the first column should read '[microservice], metric, statistic, unix_timestamp', got "
                        f"{first!r}", source=source, column=raw.columns[0],
                        hint="Is this a PetShop metrics.csv (three header rows)?")
    if (first[3] or "").strip() != "unix_timestamp":
        raise DataError(f"row 4 should name the index column 'unix_timestamp', got {first[3]!r}", source=source,
                        row=3, hint="Is this a PetShop metrics.csv?")
    header = raw.head(3)
    columns = []
    for name in raw.columns[1:]:
        micro, metric, stat = header.get_column(name).to_list()
        if not micro or not metric or not stat:
            raise DataError(f"a column has an empty header ({micro!r}, {metric!r}, {stat!r})", source=source,
                            column=name, hint="Every column needs microservice, metric and statistic")
        columns.append((micro, metric, stat))
    data = raw.slice(4)
    return columns, data


def _parse_data(columns: list[tuple[str, str, str]], data: pl.DataFrame, source: str,
                report: LoadReport) -> pl.DataFrame:
    """A wide frame: ``unix_timestamp`` (Float64) and one Float64 column per header triple."""
    time_col = data.columns[0]
    ts = data.get_column(time_col).str.strip_chars().cast(pl.Float64, strict=False)
    if ts.is_null().any():
        row = int(ts.is_null().arg_max() or 0)
        raise DataError(f"cannot read {data.get_column(time_col)[row]!r} as a unix timestamp", source=source,
                        column="unix_timestamp", row=row + 4, hint="Every row needs epoch seconds in column 1")
    if ts.is_duplicated().any():
        row = int(ts.is_duplicated().arg_max() or 0)
        raise DataError(f"the timestamp {ts[row]!r} appears twice", source=source, column="unix_timestamp",
                        row=row + 4, hint="Each 5-minute row must have its own timestamp")
    values = data.drop(time_col)
    text = pl.all().str.strip_chars()
    numbers = values.select(text.cast(pl.Float64, strict=False))
    # Empty cells read as null; a cell that is null only after the cast held text that is not a number.
    bad = [a - b for a, b in zip(numbers.null_count().row(0), values.null_count().row(0), strict=True)]
    for (micro, metric, stat), count in zip(columns, bad, strict=True):
        if count:
            report.add(source, f"{micro}/{metric}/{stat}", "set non-numbers to null", int(count),
                       "text that is not a number")
    return numbers.insert_column(0, ts.alias("unix_timestamp"))


def _parse_long(columns: list[tuple[str, str, str]], data: pl.DataFrame, source: str,
                report: LoadReport) -> pl.DataFrame:
    """``unix_timestamp, column, value``: the cells as numbers, non-numbers reported."""
    wide = _parse_data(columns, data, source, report)
    return wide.unpivot(index="unix_timestamp", variable_name="column", value_name="value")


def read_petshop_metrics(csv_path: str | os.PathLike[str]) -> pd.DataFrame:
    """A PetShop metrics.csv as the pandas frame upstream's harness uses.

    Columns are a 3-level MultiIndex (microservice, metric, statistic) with the upstream names; the
    index is ``unix_timestamp`` (float epoch seconds); empty cells are NaN. Same as
    ``pd.read_csv(path, header=[0, 1, 2], index_col=0)`` but read with polars.
    """
    import pandas as pd

    path = Path(csv_path)
    if not path.is_file():
        raise DataError("no such PetShop metrics file", source=str(path),
                        hint="Pass dataset/<scenario>/noissue/metrics.csv or an issue's metrics.csv")
    columns, data = _read_raw(path)
    wide = _parse_data(columns, data, str(path), LoadReport())
    frame = wide.drop("unix_timestamp").to_pandas()
    frame.columns = pd.MultiIndex.from_tuples(columns, names=["microservice", "metric", "statistic"])
    frame.index = pd.Index(wide.get_column("unix_timestamp").to_numpy(), name="unix_timestamp")
    return frame


def _long_metrics(csv_path: Path, recording: str) -> tuple[pl.DataFrame, LoadReport, dict[str, str]]:
    """A metrics.csv as the canonical long table (plus a ``recording`` column) and its load report."""
    source = str(csv_path)
    report = LoadReport()
    columns, data = _read_raw(csv_path)
    long = _parse_long(columns, data, source, report)
    names: dict[str, str] = {}
    renamed = {}
    seen: dict[str, str] = {}
    for raw_name, (micro, metric, stat) in zip(data.columns[1:], columns, strict=True):
        node = petshop_node(micro, metric, stat)
        if node in seen:
            raise DataError(f"two columns map to the node {node!r}: {seen[node]} and {micro}/{metric}/{stat}",
                            source=source, hint="Column headers must be unique")
        seen[node] = f"{micro}/{metric}/{stat}"
        renamed[raw_name] = node
        names[safe_entity(micro)] = micro
    colon = sum(1 for e, m in names.items() if e != m)
    if colon:
        report.add(source, "microservice", "replaced ':' in entity names by '_'", colon,
                   "':' separates entity and metric in node names (entity:metric)")
    long = long.with_columns(pl.col("column").replace_strict(renamed).alias("node"))
    long = long.with_columns(
        epoch_seconds_to_time(pl.col("unix_timestamp")).alias("time"),
        pl.col("node").str.split_exact(":", 1).struct.field("field_0").alias("entity"),
        pl.col("node").str.split_exact(":", 1).struct.field("field_1").alias("metric"),
        pl.lit(recording).alias("recording"),
    ).select("time", "entity", "metric", "value", "recording")
    return canonical_metrics(long, source=source, report=report), report, names


def _normal(folder: Path) -> tuple[pl.DataFrame, LoadReport, dict[str, str]]:
    path = folder / "noissue" / "metrics.csv"
    return cached(("petshop-noissue", str(path.resolve())), [path], lambda: _long_metrics(path, "noissue"))


# -- graph ----------------------------------------------------------------------------------------------
def petshop_call_graph(path: str | os.PathLike[str], scenario: str = "low_traffic") -> nx.DiGraph:
    """The call graph of a scenario: edge caller -> callee between entity names (from graph.csv)."""
    folder = scenario_dir(path, scenario)
    csv_path = folder / "graph.csv"
    return cached(("petshop-graph", str(csv_path.resolve())), [csv_path], lambda: _read_graph(csv_path)).copy()


def _read_graph(csv_path: Path) -> nx.DiGraph:
    source = str(csv_path)
    try:
        raw = pl.read_csv(csv_path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the call graph: {exc}", source=source,
                        hint="graph.csv is an adjacency matrix: row = caller, column = callee") from exc
    if raw.width < 2:
        raise DataError("graph.csv should be a square adjacency matrix with a name column", source=source,
                        hint="Row = caller, column = callee, 1.0 = call edge")
    callers = raw.get_column(raw.columns[0]).to_list()
    callees = raw.columns[1:]
    if sorted(callers) != sorted(callees):
        raise DataError("graph.csv should be a square adjacency matrix with the same names on rows and columns",
                        source=source, hint="Row = caller, column = callee, 1.0 = call edge")
    graph = nx.DiGraph()
    graph.add_nodes_from(safe_entity(n) for n in callers)
    for callee in callees:
        values = raw.get_column(callee).str.strip_chars().cast(pl.Float64, strict=False)
        if values.is_null().any():
            row = int(values.is_null().arg_max() or 0)
            raise DataError("an adjacency entry is not a number", source=source, column=callee, row=row,
                            hint="Use 0 or 1")
        for caller, value in zip(callers, values.to_list(), strict=True):
            if value:
                graph.add_edge(safe_entity(caller), safe_entity(callee))
    return graph


# -- incidents ------------------------------------------------------------------------------------------
def load_petshop(
    path: str | os.PathLike[str],
    *,
    scenario: str = "low_traffic",
    splits: tuple[str, ...] | list[str] | str = ("train", "test"),
) -> list[Incident]:
    """Every issue of a PetShop scenario as an Incident with its alarm and root cause.

    ``path`` is the petshop folder (holding ``dataset/``). Incidents are named
    ``petshop-<scenario>-<split>-issue_<N>``, in split order then issue number. The baseline window
    is the normal recording (``noissue``), the incident window the issue's own rows; the alarm is the
    target node, metric and statistic of target.json (``PetSite:latency_average``); the truth is the
    root-cause component (and its metric node when target.json names one) with the call graph
    reversed (callee -> caller) as the causal graph between entities.
    """
    folder = scenario_dir(path, scenario)
    split_list = (splits,) if isinstance(splits, str) else tuple(splits)
    call_graph = petshop_call_graph(folder)
    truth_graph = call_graph.reverse(copy=True)
    call_edges = [list(e) for e in call_graph.edges]
    normal, normal_report, normal_names = _normal(folder)
    normal_times = normal.get_column("time")
    normal_window = TimeWindow(tmin(normal_times), tmax(normal_times) + PETSHOP_STEP)

    incidents = []
    for split in split_list:
        for issue_dir in _issue_dirs(folder, split):
            incidents.append(_issue(issue_dir, split, scenario, normal, normal_report, normal_names,
                                    normal_window, truth_graph, call_edges))
    return incidents


def _read_target(path: Path) -> JSONObject:
    try:
        target: JSONObject = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"cannot read target.json: {exc}", source=str(path),
                        hint="It should be JSON with 'target' and 'root_cause'") from exc
    for key, fields in (("target", ("node", "metric", "agg", "timestamp")), ("root_cause", ("node",))):
        block = target.get(key)
        if not isinstance(block, dict):
            raise DataError(f"target.json has no {key!r} object", source=str(path), column=key,
                            hint="Expected {'target': {node, metric, agg, timestamp}, 'root_cause': {node, metric}}")
        for name in fields:
            if block.get(name) in (None, ""):
                raise DataError(f"target.json {key}.{name} is missing", source=str(path), column=f"{key}.{name}",
                                hint="Expected {'target': {node, metric, agg, timestamp}, 'root_cause': {node, metric}}")
    return target


def _issue(
    issue_dir: Path,
    split: str,
    scenario: str,
    normal: pl.DataFrame,
    normal_report: LoadReport,
    normal_names: dict[str, str],
    normal_window: TimeWindow,
    truth_graph: nx.DiGraph,
    call_edges: list[list[str]],
) -> Incident:
    target = _read_target(issue_dir / "target.json")
    metrics_path = issue_dir / "metrics.csv"
    abnormal, report, names = cached(("petshop-issue", str(metrics_path.resolve())), [metrics_path],
                                     lambda: _long_metrics(metrics_path, "issue"))
    times = abnormal.get_column("time")
    if abnormal.height == 0:
        raise DataError("the issue's metrics.csv has no data rows", source=str(metrics_path),
                        hint="An issue needs at least one 5-minute row")
    incident_window = TimeWindow(tmin(times), tmax(times) + PETSHOP_STEP)
    telemetry, baseline_window, overlap = _combine(issue_dir, normal, normal_report, normal_window, abnormal,
                                                   report, incident_window)

    tgt = target["target"]
    alarm = petshop_node(tgt["node"], tgt["metric"], tgt["agg"])
    alarm_ts = float(tgt["timestamp"])
    root = target["root_cause"]
    rc_entity = safe_entity(root["node"])
    rc_nodes: tuple[str, ...] = ()
    if root.get("metric"):
        rc_nodes = (petshop_node(root["node"], root["metric"], root.get("agg") or "Average"),)
    entity_names = {**normal_names, **names}
    name = f"petshop-{scenario}-{split}-{issue_dir.name}"
    description = (
        f"PetShop {scenario} {split} {issue_dir.name}: alarm on {alarm} at "
        f"{to_utc(alarm_ts):%Y-%m-%d %H:%M:%S} UTC. Baseline = the normal recording "
        f"(noissue, {normal_window}); incident = the issue's own recording ({incident_window}). They are "
        "different recordings" + (" that overlap in time; the normal rows inside the issue's span were dropped"
                                 if overlap else " and do not overlap in time") + "."
    )
    _check_alarm(alarm, abnormal, issue_dir)
    incident = Incident(
        telemetry=telemetry,
        baseline_window=baseline_window,
        incident_window=incident_window,
        alarm=None,
        truth=GroundTruth(
            root_cause_entities=(rc_entity,),
            root_cause_nodes=rc_nodes,
            fault_type=None,
            graph=truth_graph.copy(),
            notes="PetShop labels the root-cause component; the causal graph is the call graph reversed "
                  "(callee -> caller) between entities.",
        ),
        name=name,
        description=description,
        meta={
            "dataset": "petshop",
            "scenario": scenario,
            "split": split,
            "issue": issue_dir.name,
            "target": target,
            "alarm_timestamp": alarm_ts,
            "alarm_row": _alarm_row(abnormal, alarm_ts),
            "upstream_analysis_row": 2,
            "metrics_file": str(issue_dir / "metrics.csv"),
            "noissue_file": str(issue_dir.parent.parent / "noissue" / "metrics.csv"),
            "recordings_overlap": overlap,
            "entity_names": {k: v for k, v in entity_names.items() if k != v},
            "missing_in_baseline": sorted(set(names) - set(normal_names)),
            "step_seconds": int(PETSHOP_STEP.total_seconds()),
        },
        alarm_time=to_utc(alarm_ts),
        call_graph=tuple((a, b) for a, b in call_edges),
    )
    # Checked above against the issue's nodes; Incident's own check would scan all 170k rows per issue.
    incident.alarm = alarm
    return incident


def _combine(issue_dir: Path, normal: pl.DataFrame, normal_report: LoadReport, normal_window: TimeWindow,
             abnormal: pl.DataFrame, report: LoadReport, incident_window: TimeWindow,
             ) -> tuple[Telemetry, TimeWindow, bool]:
    """The normal and the issue's recordings in one Telemetry, the baseline window, and whether they overlap
    (then the normal rows inside the issue's span are dropped and the baseline is the larger side left)."""
    merged_report = LoadReport()
    merged_report.extend(normal_report)
    merged_report.extend(report)
    baseline_window = normal_window
    normal_part = normal
    overlap = normal_window.overlaps(incident_window)
    if overlap:
        inside = pl.col("time").is_between(incident_window.start, incident_window.end, closed="left")
        dropped = int(normal.select(inside.sum()).item())
        merged_report.add(str(issue_dir.parent.parent / "noissue" / "metrics.csv"), "time",
                          f"dropped normal rows inside the issue's span {incident_window}", dropped,
                          "the normal and the issue recordings overlap in time; the incident window keeps the "
                          "issue's rows only", dropped=True)
        normal_part = normal.filter(~inside)
        before = normal_part.filter(pl.col("time") < incident_window.start).get_column("time")
        after = normal_part.filter(pl.col("time") >= incident_window.end).get_column("time")
        if before.len() >= after.len() and before.len():
            baseline_window = TimeWindow(tmin(before), incident_window.start)
        elif after.len():
            baseline_window = TimeWindow(incident_window.end, tmax(after) + PETSHOP_STEP)
        else:
            raise DataError("the normal recording lies entirely inside the issue's span", source=str(issue_dir),
                            hint="There is no baseline left for this issue")
    parts = [normal_part, abnormal]
    parts.sort(key=lambda f: tmin(f.get_column("time")) if f.height else normal_window.start)
    combined = pl.concat(parts, how="vertical", rechunk=False)
    if overlap and not combined.get_column("time").is_sorted():
        combined = combined.sort("time", maintain_order=True)
    return Telemetry(combined, report=merged_report, validated=True), baseline_window, overlap


def _alarm_row(abnormal: pl.DataFrame, alarm_ts: float) -> int | None:
    """The index of the issue's 5-minute row holding the alarm time (None when none does)."""
    row_times = abnormal.get_column("time").unique(maintain_order=True).dt.epoch("s").to_list()
    alarm_row = None
    for index, start in enumerate(row_times):
        if start <= alarm_ts < start + PETSHOP_STEP.total_seconds():
            alarm_row = index
    return alarm_row


def _check_alarm(alarm: str, abnormal: pl.DataFrame, issue_dir: Path) -> None:
    issue_nodes = {f"{e}:{m}" for e, m in abnormal.select("entity", "metric").unique().iter_rows()}
    if alarm not in issue_nodes:
        raise DataError(f"the alarm node {alarm!r} of target.json has no column in the issue's metrics.csv",
                        source=str(issue_dir / "target.json"), column="target",
                        hint="target.node/metric/agg must name a column of metrics.csv")


def petshop_graph_dataset(path: str | os.PathLike[str], scenario: str = "low_traffic") -> GraphDataset:
    """The normal recording's ``latency_average`` nodes with the reversed call graph between them."""
    folder = scenario_dir(path, scenario)
    normal, report, _ = _normal(folder)
    latency = normal.filter(pl.col("metric") == "latency_average")
    telemetry = Telemetry(latency, report=report, validated=True)
    call_graph = petshop_call_graph(folder)
    graph = nx.DiGraph()
    graph.add_nodes_from(f"{n}:latency_average" for n in call_graph.nodes)
    graph.add_edges_from((f"{callee}:latency_average", f"{caller}:latency_average")
                         for caller, callee in call_graph.edges)
    graph, unobserved = collapse_unobserved(graph, telemetry.nodes())
    return GraphDataset(
        name="petshop-latency",
        telemetry=telemetry,
        graph=graph,
        description=(f"PetShop {scenario} normal recording, average latency of each of {len(call_graph)} components "
                     "(5-minute rows); true graph = call graph reversed (callee latency -> caller latency), components "
                     "without latency data in the normal recording collapsed out."),
        system=None,
        meta={"dataset": "petshop", "scenario": scenario, "collapsed_nodes_without_data": unobserved},
        call_graph=tuple(call_graph.edges),
    )
