"""What :class:`rcakit.ui.explorer.TelemetryExplorer` draws, computed from the incident and its anomalies.

No widget and no plotly figure here: each function takes the incident, the anomalies and the drawn range and
returns plain data (shapes as plotly layout dicts, arrays, a polars frame, a networkx graph) that the explorer
hands to its charts. The explorer keeps the controls, the state and the figures.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import polars as pl

from rcakit.ui._series import _plotly_time, downsample

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rcakit._types import JSONObject
    from rcakit.detect import Anomalies
    from rcakit.telemetry import Incident
    from rcakit.telemetry.window import TimeWindow

__all__ = ["anomaly_shapes", "heatmap_rows", "log_counts", "service_graph", "service_map_layout",
           "standardized_series", "window_shapes"]

_BASELINE_COLOUR = "rgba(46, 134, 193, 0.12)"
_INCIDENT_COLOUR = "rgba(231, 76, 60, 0.12)"
_ANOMALY_COLOUR = "rgba(231, 76, 60, 0.35)"


def window_shapes(incident: Incident, view: TimeWindow) -> list[JSONObject]:
    """The baseline and incident windows as shaded rectangles, for the windows that overlap ``view``."""
    shapes = []
    for window, colour in ((incident.baseline_window, _BASELINE_COLOUR),
                           (incident.incident_window, _INCIDENT_COLOUR)):
        if window.overlaps(view):
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": _plotly_time(window.start),
                           "x1": _plotly_time(window.end),
                           "y0": 0, "y1": 1, "fillcolor": colour, "line": {"width": 0}, "layer": "below"})
    return shapes


def anomaly_shapes(anomalies: Anomalies | None, nodes: Sequence[str]) -> list[JSONObject]:
    """A thin rectangle under each flagged interval of the drawn ``nodes``."""
    if anomalies is None:
        return []
    flagged = anomalies.anomalous().filter(pl.col("node").is_in(nodes))
    return [{"type": "rect", "xref": "x", "yref": "paper", "x0": _plotly_time(r["start"]),
             "x1": _plotly_time(r["end"]), "y0": 0, "y1": 0.04,
             "fillcolor": _ANOMALY_COLOUR, "line": {"width": 0}, "name": r["node"]}
            for r in flagged.iter_rows(named=True)]


def standardized_series(incident: Incident, view: TimeWindow, nodes: Sequence[str],
                        max_points: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(node, times, values) of each of ``nodes`` with data in ``view``, in that order: standardized against the
    baseline window (so that series of different units share one axis) and downsampled to ``max_points``."""
    metrics = incident.telemetry.metrics.filter(pl.col("time").is_between(view.start, view.end, closed="left"))
    keyed = metrics.with_columns(pl.concat_str([pl.col("entity"), pl.lit(":"), pl.col("metric")]).alias("node"))
    keyed = keyed.filter(pl.col("node").is_in(nodes)).sort("node", "time")
    groups = {key[0]: frame for key, frame in keyed.group_by("node")}
    out = []
    for node in nodes:
        frame = groups.get(node)
        if frame is None:
            continue
        times = frame.get_column("time").to_numpy()
        values = frame.get_column("value").to_numpy().astype(float)
        base = frame.filter(pl.col("time").is_between(incident.baseline_window.start,
                                                      incident.baseline_window.end, closed="left"))
        base_values = base.get_column("value").to_numpy().astype(float)
        centre = float(np.nanmean(base_values)) if base_values.size else float(np.nanmean(values))
        spread = float(np.nanstd(base_values, ddof=1)) if base_values.size > 1 else 0.0
        spread = spread if np.isfinite(spread) else 0.0
        spread = spread if spread > 0 else max(abs(centre) * 0.01, 1e-9)
        t, v = downsample(times, (values - centre) / spread, max_points)
        out.append((node, t, v))
    return out


def heatmap_rows(timeline: pl.DataFrame | None, anomalies: Anomalies | None,
                 max_entities: int) -> tuple[np.ndarray, list[str], np.ndarray] | None:
    """(times, entities, scores with one row per entity) of the score timeline, the highest-ranked entities first
    (at most ``max_entities``); None when there is no timeline."""
    if timeline is None or timeline.height == 0:
        return None
    order = (anomalies.entity_ranking().get_column("entity").to_list()
             if anomalies is not None else sorted(timeline.get_column("entity").unique().to_list()))
    order = [e for e in order if e in set(timeline.get_column("entity").to_list())]
    order = order[:max_entities]
    wide = (timeline.filter(pl.col("entity").is_in(order))
            .pivot(on="entity", index="time", values="score").sort("time"))
    times = wide.get_column("time").to_numpy()
    z = np.vstack([wide.get_column(e).to_numpy().astype(float) if e in wide.columns
                   else np.full(len(times), np.nan) for e in order]) if order else np.zeros((0, 0))
    return times, order, z


def log_counts(incident: Incident, view: TimeWindow, entities: Sequence[str], anomalies: Anomalies | None,
               max_templates: int) -> pl.DataFrame:
    """Template counts of ``entities`` in ``view`` (time, template_id, template, count), on the anomalies' grid
    (one minute without them), for the ``max_templates`` most frequent templates."""
    from rcakit.detect.logs import LogTemplateMiner, template_counts

    logs = incident.telemetry.logs.filter(
        pl.col("time").is_between(view.start, view.end, closed="left") & pl.col("entity").is_in(entities))
    if logs.height == 0:
        return pl.DataFrame(schema={"time": pl.Datetime("ns", "UTC"), "template_id": pl.Int64,
                                    "template": pl.String, "count": pl.Int64})
    miner = LogTemplateMiner()
    lines = miner.fit(logs)
    step = anomalies.freq if anomalies is not None else timedelta(minutes=1)
    counts = template_counts(lines.select("time", "entity", "template_id"), step, start=view.start,
                             by=("template_id",))
    top = (counts.group_by("template_id").agg(pl.col("count").sum()).sort(["count", "template_id"],
                                                                           descending=[True, False])
           .head(max_templates).get_column("template_id"))
    text = miner.templates().select("template_id", "template")
    return counts.filter(pl.col("template_id").is_in(top.implode())).join(text, on="template_id", how="left")


def service_graph(incident: Incident, anomalies: Anomalies | None) -> nx.DiGraph:
    """Entities with their anomaly score; edges from the incident window's spans (else the truth graph)."""
    from rcakit.detect.traces import call_graph

    inc = incident.incident_window
    spans = incident.telemetry.spans.filter(pl.col("start").is_between(inc.start, inc.end, closed="left"))
    graph = call_graph(spans) if spans.height else nx.DiGraph()
    if graph.number_of_edges() == 0 and incident.truth is not None and incident.truth.graph is not None:
        graph = nx.DiGraph(incident.truth.graph)
    scores = {}
    if anomalies is not None:
        scores = dict(anomalies.entity_ranking().select("entity", "score").iter_rows())
    for entity in incident.telemetry.entities():
        if entity in scores or graph.number_of_nodes() == 0:
            graph.add_node(entity)
    for node in graph.nodes:
        graph.nodes[node]["score"] = float(scores.get(node, 0.0))
    return graph


def service_map_layout(graph: nx.DiGraph) -> tuple[dict[str, np.ndarray], list[float | None], list[float | None]]:
    """(node -> position, edge x, edge y) of a non-empty service graph: a seeded spring layout (a circle without
    edges); each edge's coordinates are followed by None, the break plotly draws between line segments."""
    pos: dict[str, np.ndarray] = (nx.spring_layout(graph, seed=0) if graph.number_of_edges()
                                  else nx.circular_layout(graph))
    ex: list[float | None] = []
    ey: list[float | None] = []
    for u, v in graph.edges:
        ex += [pos[u][0], pos[v][0], None]
        ey += [pos[u][1], pos[v][1], None]
    return pos, ex, ey
