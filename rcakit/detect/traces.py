"""Traces: the service call graph, per-service series, per-operation baselines, slow and new call paths.

A span's caller is the entity of its parent span (same trace). A span whose parent is in another
entity (or that has no parent) is that entity's *entry* span: its duration is the service's
latency for that call, as Eadro reads latency per callee. Slow spans exceed their operation's normal
upper limit, ``mean + 3 std`` of the same (entity, operation) over the baseline window (LocaleXpert's
3-sigma rule); a call path is the chain of entities from the root span down to a span, with
repeated entities collapsed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

import networkx as nx
import polars as pl

from rcakit.errors import DataError
from rcakit.telemetry import Incident, grid
from rcakit.telemetry.window import TimeWindow, parse_duration

if TYPE_CHECKING:
    from rcakit._types import JSONObject, PolarsSchema

__all__ = [
    "PATH_SEPARATOR",
    "TraceAnalysis",
    "analyze_traces",
    "call_counts",
    "call_graph",
    "call_paths",
    "operation_baselines",
    "service_series",
    "with_parent_entity",
]

PATH_SEPARATOR = " -> "
_MAX_DEPTH = 128


def with_parent_entity(spans: pl.DataFrame) -> pl.DataFrame:
    """The spans with ``parent_entity`` (null for a root or a parent outside the table) and ``is_entry``."""
    parents = spans.select(
        pl.col("trace_id"), pl.col("span_id").alias("parent_id"), pl.col("entity").alias("parent_entity")
    ).unique(subset=["trace_id", "parent_id"], keep="first")
    out = spans.join(parents, on=["trace_id", "parent_id"], how="left")
    return out.with_columns(
        (pl.col("parent_entity").is_null() | (pl.col("parent_entity") != pl.col("entity"))).alias("is_entry")
    )


def call_counts(spans: pl.DataFrame, *, include_self: bool = False) -> pl.DataFrame:
    """``caller, callee, calls, mean_latency_s, errors``: calls between entities (parent span -> child span)."""
    linked = spans if "parent_entity" in spans.columns else with_parent_entity(spans)
    edges = linked.filter(pl.col("parent_entity").is_not_null())
    if not include_self:
        edges = edges.filter(pl.col("parent_entity") != pl.col("entity"))
    error = pl.col("error").fill_null(False) if "error" in edges.columns else pl.lit(False)
    return (
        edges.group_by(pl.col("parent_entity").alias("caller"), pl.col("entity").alias("callee"))
        .agg(pl.len().cast(pl.Int64).alias("calls"), pl.col("duration").mean().alias("mean_latency_s"),
             error.sum().cast(pl.Int64).alias("errors"))
        .sort("caller", "callee")
    )


def call_graph(spans: pl.DataFrame, *, include_self: bool = False) -> nx.DiGraph:
    """The service call graph: an edge caller -> callee per pair that called, with ``calls``,
    ``mean_latency_s`` and ``errors`` as edge attributes; every entity with spans is a node."""
    graph = nx.DiGraph()
    if spans.height:
        graph.add_nodes_from(sorted(spans.get_column("entity").unique().to_list()))
    for row in call_counts(spans, include_self=include_self).iter_rows(named=True):
        graph.add_edge(row["caller"], row["callee"], calls=row["calls"], mean_latency_s=row["mean_latency_s"],
                       errors=row["errors"])
    return graph


def service_series(spans: pl.DataFrame, freq: str | timedelta, *, start: datetime | None = None) -> pl.DataFrame:
    """Per entity and time bin (span start): ``latency_mean``, ``latency_p90`` (seconds, entry spans),
    ``calls`` (entry spans) and ``errors`` (spans with ``error``); long: time, entity, feature, value."""
    step = parse_duration(freq)
    schema: PolarsSchema = {"time": pl.Datetime("ns", "UTC"), "entity": pl.String, "feature": pl.String,
                              "value": pl.Float64}
    if spans.height == 0:
        return pl.DataFrame(schema=schema)
    linked = spans if "is_entry" in spans.columns else with_parent_entity(spans)
    anchor = start if start is not None else cast(datetime, linked.get_column("start").min())
    bucket = grid.bucket("start", anchor, step)
    error = pl.col("error").fill_null(False) if "error" in linked.columns else pl.lit(False)
    has_errors = "error" in linked.columns and linked.get_column("error").drop_nulls().len() > 0
    aggs = [
        pl.col("duration").filter(pl.col("is_entry")).mean().alias("latency_mean"),
        pl.col("duration").filter(pl.col("is_entry")).quantile(0.9, "linear").alias("latency_p90"),
        pl.col("is_entry").sum().cast(pl.Float64).alias("calls"),
    ]
    if has_errors:
        aggs.append(error.sum().cast(pl.Float64).alias("errors"))
    wide = linked.with_columns(bucket).group_by("time", "entity").agg(aggs)
    return (wide.unpivot(index=["time", "entity"], variable_name="feature", value_name="value")
            .drop_nulls("value").sort("entity", "feature", "time"))


def operation_baselines(spans: pl.DataFrame, *, sigma: float = 3.0, min_count: int = 5) -> pl.DataFrame:
    """Per (entity, operation): count, mean, std, p99 of the duration (seconds) and ``upper`` =
    ``mean + sigma * std``; operations seen fewer than ``min_count`` times get no upper limit."""
    stats = (
        spans.group_by("entity", "operation")
        .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("duration").mean().alias("mean"),
             pl.col("duration").std().fill_null(0.0).alias("std"),
             pl.col("duration").quantile(0.99, "linear").alias("p99"))
        .with_columns(
            pl.when(pl.col("count") >= min_count).then(pl.col("mean") + sigma * pl.col("std"))
            .otherwise(None).alias("upper")
        )
    )
    return stats.sort("entity", "operation")


def call_paths(spans: pl.DataFrame) -> pl.DataFrame:
    """Each span with ``path``: the entities from its trace's root down to it, repeats collapsed."""
    linked = spans if "parent_entity" in spans.columns else with_parent_entity(spans)
    # A span id that appears twice (Nezha has ~1 % such rows) would double its subtree at every level.
    unique = linked.unique(subset=["trace_id", "span_id"], keep="first", maintain_order=True)
    roots = unique.filter(pl.col("parent_entity").is_null())
    frontier = roots.select("trace_id", "span_id", pl.col("entity").alias("path"), pl.col("entity").alias("last"))
    done = [frontier]
    children = unique.filter(pl.col("parent_entity").is_not_null()).select("trace_id", "span_id", "parent_id",
                                                                          "entity")
    for _ in range(_MAX_DEPTH):
        if frontier.height == 0:
            break
        nxt = children.join(
            frontier.rename({"span_id": "parent_id"}), on=["trace_id", "parent_id"], how="inner"
        ).select(
            "trace_id", "span_id",
            pl.when(pl.col("entity") == pl.col("last")).then(pl.col("path"))
            .otherwise(pl.col("path") + PATH_SEPARATOR + pl.col("entity")).alias("path"),
            pl.col("entity").alias("last"),
        ).unique(subset=["trace_id", "span_id"], keep="first", maintain_order=True)
        done.append(nxt)
        frontier = nxt
    paths = pl.concat(done).select("trace_id", "span_id", "path").unique(subset=["trace_id", "span_id"],
                                                                         keep="first", maintain_order=True)
    return linked.join(paths, on=["trace_id", "span_id"], how="left")


@dataclass
class TraceAnalysis:
    """What the traces of an incident say, against the baseline window.

    ``graph`` / ``baseline_graph``: service call graphs (edges carry ``calls``); ``operations``: the
    per-operation baselines; ``slow_spans``: incident spans above their operation's upper limit with
    ``excess_s``; ``slow_traces``: one row per slow trace (worst first) with its critical call path
    and slow entities; ``new_paths`` / ``missing_paths``: call paths seen only in the incident / only in
    the baseline; ``structural_traces``: incident traces that contain a new path; ``series``: the
    per-service series (long).
    """

    graph: nx.DiGraph
    baseline_graph: nx.DiGraph
    operations: pl.DataFrame
    slow_spans: pl.DataFrame
    slow_traces: pl.DataFrame
    new_paths: pl.DataFrame
    missing_paths: pl.DataFrame
    structural_traces: pl.DataFrame
    series: pl.DataFrame
    sigma: float
    notes: list[str] = field(default_factory=list)
    entry_spans: pl.DataFrame | None = None

    def entity_ranking(self) -> pl.DataFrame:
        """Entities ranked by the share of their incident entry spans above the normal upper limit.

        Columns: rank, entity, score (that share, 0..1), slow_entry_spans, entry_spans, max_excess_s.
        """
        schema: PolarsSchema = {"rank": pl.Int64, "entity": pl.String, "score": pl.Float64, "slow_entry_spans": pl.Int64,
                  "entry_spans": pl.Int64, "max_excess_s": pl.Float64}
        if self.entry_spans is None or self.entry_spans.height == 0:
            return pl.DataFrame(schema=schema)
        slow = (self.slow_spans.join(self._entry_ids, on=["trace_id", "span_id"], how="inner")
                .group_by("entity").agg(pl.len().cast(pl.Int64).alias("slow_entry_spans"),
                                        pl.col("excess_s").max().alias("max_excess_s")))
        ranked = (self.entry_spans.join(slow, on="entity", how="left")
                  .with_columns(pl.col("slow_entry_spans").fill_null(0))
                  .with_columns((pl.col("slow_entry_spans") / pl.col("entry_spans")).alias("score"))
                  .sort(["score", "max_excess_s", "entity"], descending=[True, True, False], nulls_last=True))
        return ranked.with_row_index("rank", offset=1).select(
            pl.col("rank").cast(pl.Int64), "entity", "score", "slow_entry_spans", "entry_spans", "max_excess_s")

    def entity_rank(self, entity: str) -> int | None:
        ranking = self.entity_ranking().filter(pl.col("entity") == entity)
        return int(ranking.get_column("rank")[0]) if ranking.height else None

    @property
    def _entry_ids(self) -> pl.DataFrame:
        return self.slow_spans.filter(pl.col("is_entry")).select("trace_id", "span_id")

    def entity_summary(self) -> pl.DataFrame:
        """Per entity: slow spans, worst excess (s), slow traces touching it."""
        if self.slow_spans.height == 0:
            return pl.DataFrame(schema={"entity": pl.String, "slow_spans": pl.Int64, "max_excess_s": pl.Float64,
                                        "slow_traces": pl.Int64})
        return (self.slow_spans.group_by("entity")
                .agg(pl.len().cast(pl.Int64).alias("slow_spans"), pl.col("excess_s").max().alias("max_excess_s"),
                     pl.col("trace_id").n_unique().cast(pl.Int64).alias("slow_traces"))
                .sort(["slow_spans", "entity"], descending=[True, False]))

    def to_frame(self) -> pl.DataFrame:
        return self.slow_traces

    def to_dict(self) -> JSONObject:
        return {
            "edges": [{"caller": u, "callee": v, **d} for u, v, d in self.graph.edges(data=True)],
            "slow_traces": self.slow_traces.to_dicts(),
            "new_paths": self.new_paths.to_dicts(),
            "missing_paths": self.missing_paths.to_dicts(),
            "notes": list(self.notes),
        }

    def describe(self, *, top: int = 5) -> list[str]:
        from rcakit.detect.describe import describe_traces

        return describe_traces(self, top=top)

    def __repr__(self) -> str:
        return (f"TraceAnalysis({self.graph.number_of_nodes()} services, {self.graph.number_of_edges()} call edges, "
                f"{self.slow_traces.height} slow traces, {self.new_paths.height} new paths)")

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = "".join(
            f"<tr><td>{esc(str(r['trace_id']))}</td><td style='text-align:left'>{esc(r['path'])}</td>"
            f"<td>{r['duration_s'] * 1000:.0f} ms</td><td>{esc(', '.join(r['slow_entities']))}</td></tr>"
            for r in self.slow_traces.head(10).iter_rows(named=True)
        )
        paths = "".join(f"<li>{esc(r['path'])} ({r['incident_count']} spans)</li>"
                        for r in self.new_paths.head(10).iter_rows(named=True))
        return (f"<div><b>TraceAnalysis</b>: {esc(repr(self))}<table><tr><th>trace</th><th>call path</th>"
                f"<th>duration</th><th>slow services</th></tr>{rows}</table>"
                f"<div>new call paths:</div><ul>{paths or '<li>none</li>'}</ul></div>")


def _slow_path(trace: pl.DataFrame, slow_ids: pl.DataFrame) -> str:
    """The call path down to the trace's deepest slow span (ties: the larger excess); the root's otherwise."""
    slow = trace.join(slow_ids, on=["trace_id", "span_id"], how="inner").drop_nulls("path")
    if slow.height == 0:
        paths = trace.get_column("path").drop_nulls()
        return str(paths[0]) if paths.len() else ""
    slow = slow.with_columns(pl.col("path").str.count_matches(PATH_SEPARATOR, literal=True).alias("_depth"))
    best = slow.sort(["_depth", "excess_s"], descending=[True, True]).row(0, named=True)
    return str(best["path"])


def analyze_traces(
    incident: Incident,
    *,
    sigma: float = 3.0,
    min_count: int = 5,
    freq: str | timedelta | None = None,
    max_traces: int = 20,
    baseline_window: TimeWindow | None = None,
) -> TraceAnalysis:
    """Call graph, slow traces (``sigma`` over the baseline per operation) and new call paths.

    The baseline is ``baseline_window``, else the incident's, else (when that holds no span)
    ``incident.reference_window``, a fault-free recording such as Nezha's. Raises DataError
    when the incident window holds no span; with no baseline spans the slow and new-path checks
    cannot run and ``notes`` says so.
    """
    if not isinstance(incident, Incident):
        raise TypeError(f"analyze_traces needs an Incident, got {type(incident).__name__}")
    spans = incident.telemetry.spans
    step = parse_duration(freq) if freq is not None else timedelta(minutes=1)
    inc_win = incident.incident_window
    if baseline_window is not None:
        base_win = TimeWindow.of(baseline_window)
    else:
        from rcakit.detect.config import Modality
        from rcakit.detect.reference import reference_window

        base_win = reference_window(incident, (Modality.TRACES,))
    linked = with_parent_entity(spans)
    in_window = pl.col("start").is_between
    inc_spans = linked.filter(in_window(inc_win.start, inc_win.end, closed="left"))
    base_spans = linked.filter(in_window(base_win.start, base_win.end, closed="left"))
    if inc_spans.height == 0:
        span = incident.telemetry.time_range()
        raise DataError(f"no spans of {incident.name!r} start in the incident window {inc_win}"
                        f" (the telemetry covers {span})",
                        hint="Move the window with incident.set_incident_window(start, end), or skip traces")
    notes: list[str] = []
    if base_win != incident.baseline_window:
        notes.append(f"baseline for traces: the reference window {base_win}")
    if base_spans.height == 0:
        notes.append("the baseline window holds no spans: slow spans and new call paths cannot be judged")
    operations = operation_baselines(base_spans, sigma=sigma, min_count=min_count)
    slow_spans = _slow_spans(inc_spans, operations)
    new_paths, missing_paths, structural = _path_changes(inc_spans, base_spans)
    window = TimeWindow(min(base_win.start, inc_win.start), max(base_win.end, inc_win.end))
    series = service_series(linked.filter(in_window(window.start, window.end, closed="left")), step,
                            start=window.start)
    return TraceAnalysis(
        graph=call_graph(inc_spans), baseline_graph=call_graph(base_spans), operations=operations,
        slow_spans=slow_spans, slow_traces=_slow_traces(inc_spans, slow_spans, max_traces), new_paths=new_paths,
        missing_paths=missing_paths, structural_traces=structural, series=series, sigma=sigma, notes=notes,
        entry_spans=inc_spans.filter(pl.col("is_entry")).group_by("entity").agg(
            pl.len().cast(pl.Int64).alias("entry_spans")),
    )


def _slow_spans(inc_spans: pl.DataFrame, operations: pl.DataFrame) -> pl.DataFrame:
    """The incident's spans longer than their operation's baseline ``upper`` bound, with the excess."""
    return (
        inc_spans.join(operations.select("entity", "operation", "mean", "upper"), on=["entity", "operation"],
                       how="inner")
        .filter(pl.col("upper").is_not_null() & (pl.col("duration") > pl.col("upper")))
        .with_columns((pl.col("duration") - pl.col("upper")).alias("excess_s"))
        .select("trace_id", "span_id", "entity", "operation", "start", "end", "duration", "mean", "upper", "excess_s",
                "is_entry")
    )


def _path_changes(inc_spans: pl.DataFrame, base_spans: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Call paths new in the incident, paths of the baseline missing from it, and the traces holding new
    paths (all empty without baseline spans)."""
    inc_paths = call_paths(inc_spans)
    base_paths = call_paths(base_spans) if base_spans.height else inc_paths.clear()
    inc_count = inc_paths.group_by("path").agg(pl.len().cast(pl.Int64).alias("incident_count"),
                                               pl.col("trace_id").n_unique().cast(pl.Int64).alias("traces"))
    base_count = base_paths.group_by("path").agg(pl.len().cast(pl.Int64).alias("baseline_count"))
    if not base_spans.height:
        return inc_count.clear(), base_count.clear(), pl.DataFrame(
            schema={"trace_id": pl.String, "start": pl.Datetime("ns", "UTC"), "end": pl.Datetime("ns", "UTC"),
                    "new_paths": pl.List(pl.String)})
    new_paths = inc_count.join(base_count, on="path", how="anti").sort(["incident_count", "path"],
                                                                       descending=[True, False])
    missing_paths = base_count.join(inc_count, on="path", how="anti").sort(["baseline_count", "path"],
                                                                           descending=[True, False])
    new_set = new_paths.get_column("path")
    structural = (
        inc_paths.filter(pl.col("path").is_in(new_set.implode()))
        .group_by("trace_id")
        .agg(pl.col("start").min().alias("start"), pl.col("end").max().alias("end"),
             pl.col("path").unique().sort().alias("new_paths"))
        .sort("start", "trace_id")
    )
    return new_paths, missing_paths, structural


def _slow_traces(inc_spans: pl.DataFrame, slow_spans: pl.DataFrame, max_traces: int) -> pl.DataFrame:
    schema: PolarsSchema = {"trace_id": pl.String, "start": pl.Datetime("ns", "UTC"), "end": pl.Datetime("ns", "UTC"),
              "duration_s": pl.Float64, "path": pl.String, "slow_entities": pl.List(pl.String),
              "slow_nodes": pl.List(pl.Struct({"entity": pl.String, "duration_s": pl.Float64,
                                               "upper_s": pl.Float64, "excess_s": pl.Float64})),
              "total_excess_s": pl.Float64}
    if slow_spans.height == 0:
        return pl.DataFrame(schema=schema)
    # Per trace and entity, the worst slow span; traces ranked by their summed worst excesses.
    per_entity = (
        slow_spans.sort("excess_s", descending=True)
        .group_by("trace_id", "entity", maintain_order=True)
        .agg(pl.col("duration").first().alias("duration_s"), pl.col("upper").first().alias("upper_s"),
             pl.col("excess_s").first())
    )
    ranked = (per_entity.group_by("trace_id").agg(pl.col("excess_s").sum().alias("total_excess_s"))
              .sort(["total_excess_s", "trace_id"], descending=[True, False]).head(max_traces))
    keep = ranked.get_column("trace_id")
    spans = call_paths(inc_spans.filter(pl.col("trace_id").is_in(keep.implode())))
    slow_ids = slow_spans.select("trace_id", "span_id", "excess_s")
    rows = []
    by_trace = {key[0]: frame for key, frame in spans.group_by("trace_id")}
    for trace_id, total in ranked.iter_rows():
        trace = by_trace[trace_id]
        nodes = per_entity.filter(pl.col("trace_id") == trace_id).sort(["excess_s", "entity"],
                                                                        descending=[True, False])
        start: datetime = trace.get_column("start").min()  # type: ignore[assignment]
        end: datetime = trace.get_column("end").max()  # type: ignore[assignment]
        rows.append({
            "trace_id": trace_id, "start": start, "end": end, "duration_s": (end - start).total_seconds(),
            "path": _slow_path(trace, slow_ids),
            "slow_entities": nodes.get_column("entity").to_list(),
            "slow_nodes": nodes.select("entity", "duration_s", "upper_s", "excess_s").to_dicts(),
            "total_excess_s": total,
        })
    return pl.DataFrame(rows, schema=schema)
