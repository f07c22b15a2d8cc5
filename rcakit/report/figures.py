"""The charts a person looks at in an incident report, as plotly figures (no widget import).

* :func:`series_figure`: the anomalous series (the alarm, the top cause's path, the most anomalous others),
  one small chart each on a shared time axis, with the baseline window and the incident window shaded;
* :func:`graph_figure`: the reviewed causal graph around the alarm, the top cause's path to the alarm drawn
  in red over the other edges (accepted solid, proposed dashed);
* :func:`score_figure`: the root-cause scores, best first, with their intervals as error bars.

:func:`report_figures` makes whichever of them the given results allow, as :class:`ReportFigure` objects
that :class:`rcakit.report.Report` embeds in its HTML (plotly.js inline once per page, so the page works
offline and survives nbconvert) and :class:`rcakit.ui.ReportPanel` shows through the plotly renderer of
the notebook front end. Node names are data: plotly draws them as text (SVG), never as HTML markup.
"""

from __future__ import annotations

import html
import itertools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from rcakit._types import JSONObject, JSONValue
    from rcakit.attribution import Attribution, RankedCause
    from rcakit.detect import Anomalies
    from rcakit.graph import CausalDraft
    from rcakit.telemetry import Incident
    from rcakit.telemetry.window import TimeWindow

__all__ = [
    "ReportFigure",
    "figure_html",
    "graph_figure",
    "plotlyjs_script",
    "report_figures",
    "score_figure",
    "series_figure",
]

_BASELINE = "rgba(46, 134, 193, 0.13)"
_INCIDENT = "rgba(231, 76, 60, 0.15)"
_PATH = "#d62728"
_EDGE = "#9a9a9a"
_NODE = "#5b7fa6"
MAX_SERIES = 6
MAX_POINTS = 800
MAX_GRAPH_NODES = 24


@dataclass
class ReportFigure:
    """One chart of a report: a short name (``series``, ``graph``, ``scores``), a title, a caption, the figure.

    ``figure`` is plotly's JSON form (``fig.to_plotly_json()``: plain dicts and lists), so a Report that
    holds figures pickles, copies and compares like the rest of it; :meth:`to_plotly` rebuilds the figure.
    ``shows`` says what the chart shows, for tests and screen readers: the series drawn, the path
    highlighted, the causes ranked.
    """

    name: str
    title: str
    figure: JSONObject
    caption: str = ""
    shows: JSONObject = field(default_factory=dict)

    def to_plotly(self) -> go.Figure:
        import plotly.graph_objects as go

        return go.Figure(self.figure)

    def to_dict(self) -> JSONObject:
        return {"name": self.name, "title": self.title, "caption": self.caption, "shows": self.shows,
                "figure": self.figure}

    def mimebundle(self) -> JSONObject:
        """The figure as a notebook output: plotly's own mime type (JupyterLab, Notebook 7, Voila, VS Code)."""
        spec = json.loads(_to_json(self.figure))
        spec["config"] = {"displaylogo": False}
        return {"application/vnd.plotly.v1+json": spec, "text/plain": f"<plotly chart: {self.title}>"}


def _to_json(figure: JSONObject) -> str:
    """plotly's JSON of ``figure`` with every float at 12 significant digits: a chart needs no more, and the
    last digits of a sum depend on the order it was added in (threads, set order), which would make two runs
    of the same report differ byte for byte."""
    import plotly.io as pio

    return json.dumps(_rounded(json.loads(str(pio.to_json(figure, validate=False, remove_uids=True)))))


def _rounded(value: JSONValue) -> JSONValue:
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


# -- time helpers ---------------------------------------------------------------------------------------
def _times(values: object) -> list[str]:
    """Datetimes as plotly date strings in UTC (datetime64 arrays reach plotly 7 as raw integers)."""
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return [t.replace("T", " ") for t in np.datetime_as_string(arr.astype("datetime64[us]"), unit="us")]
    out = []
    for t in arr.tolist():
        if hasattr(t, "astimezone") and getattr(t, "tzinfo", None) is not None:
            from datetime import UTC

            t = t.astimezone(UTC).replace(tzinfo=None)
        out.append(str(t))
    return out


def _window_strings(window: TimeWindow) -> tuple[str, str]:
    return _times([window.start, window.end])[0], _times([window.start, window.end])[1]


def _downsample(values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ~``max_points`` points: each bucket's minimum and maximum (spikes survive)."""
    n = len(values)
    if n <= max_points:
        return np.arange(n)
    size = math.ceil(n / (max_points // 2))
    keep: list[int] = []
    for lo in range(0, n, size):
        chunk = values[lo:lo + size]
        if np.all(np.isnan(chunk)):
            keep.append(lo)
            continue
        keep.extend(sorted({lo + int(np.nanargmin(chunk)), lo + int(np.nanargmax(chunk))}))
    return np.asarray(keep)


def _finite(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values.tolist()]


# -- the charts -----------------------------------------------------------------------------------------
def chosen_series(incident: Incident, *, attribution: Attribution | None = None, anomalies: Anomalies | None = None,
                  max_series: int = MAX_SERIES) -> list[str]:
    """The series a person looks at first: the alarm, the top cause and its path, then the most anomalous."""
    known = set(incident.telemetry.nodes())
    order: list[str] = []

    def add(node: object) -> None:
        if isinstance(node, str) and node in known and node not in order:
            order.append(node)

    add(incident.alarm)
    causes = list(getattr(attribution, "causes", []) or [])
    if causes:
        add(causes[0].node)
        for node in causes[0].path:
            add(node)
    if anomalies is not None:
        for node in anomalies.anomalous().get_column("node").to_list():
            add(node)
    for cause in causes[1:]:
        add(cause.node)
    return order[:max_series]


def series_figure(incident: Incident, *, attribution: Attribution | None = None, anomalies: Anomalies | None = None,
                  nodes: list[str] | None = None, max_series: int = MAX_SERIES,
                  max_points: int = MAX_POINTS) -> ReportFigure | None:
    """The anomalous series with both windows shaded, one row each (None when there is no metric)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    chosen = list(nodes) if nodes is not None else chosen_series(
        incident, attribution=attribution, anomalies=anomalies, max_series=max_series)
    chosen = chosen[:max_series]
    if not chosen:
        return None
    base, inc = incident.baseline_window, incident.incident_window
    lo = min(base.start, inc.start)
    hi = max(base.end, inc.end)
    pad = (hi - lo) * 0.1
    fig = make_subplots(rows=len(chosen), cols=1, shared_xaxes=True, vertical_spacing=0.04 if len(chosen) > 1 else 0,
                        subplot_titles=chosen)
    drawn: list[str] = []
    for row, node in enumerate(chosen, start=1):
        frame = incident.telemetry.series(node)
        frame = frame.filter((frame["time"] >= lo - pad) & (frame["time"] <= hi + pad))
        values = frame.get_column("value").cast(float).to_numpy()
        idx = _downsample(values, max_points)
        times = frame.get_column("time").to_numpy()[idx] if len(idx) else []
        role = "alarm" if node == incident.alarm else "series"
        fig.add_trace(go.Scatter(x=_times(times), y=_finite(values[idx]), mode="lines", name=node,
                                 line={"width": 1.4, "color": _PATH if role == "alarm" else _NODE},
                                 meta={"node": node, "role": role}, showlegend=False), row=row, col=1)
        drawn.append(node)
    for window, colour, label in ((base, _BASELINE, "baseline"), (inc, _INCIDENT, "incident")):
        x0, x1 = _window_strings(window)
        fig.add_vrect(x0=x0, x1=x1, fillcolor=colour, line_width=0, layer="below", row="all", col=1)
        fig.add_annotation(x=x0, y=1.0, xref="x", yref="paper", text=label, showarrow=False, xanchor="left",
                           yanchor="bottom", font={"size": 11, "color": "#555"})
    fig.update_layout(height=150 + 150 * len(chosen), margin={"l": 60, "r": 20, "t": 60, "b": 40},
                      title={"text": "Anomalous series (blue: baseline window, red: incident window)"},
                      template="plotly_white")
    fig.update_xaxes(type="date")
    return ReportFigure("series", "Anomalous series", fig.to_plotly_json(),
                        caption=f"{len(drawn)} series: the alarm first, then the top cause and its path to the alarm, "
                                "then the most anomalous others. Shaded: baseline (blue) and incident (red) windows.",
                        shows={"series": drawn, "baseline_window": list(_window_strings(base)),
                               "incident_window": list(_window_strings(inc))})


def _graph_of(draft: CausalDraft | nx.DiGraph) -> nx.DiGraph:
    if hasattr(draft, "observed_graph"):
        return draft.observed_graph()
    if isinstance(draft, nx.DiGraph):
        return draft
    raise TypeError(f"graph_figure needs a CausalDraft or a networkx DiGraph, got {type(draft).__name__}")


def _layers(g: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Causes left, effects right (topological generations, each top to bottom in name order, both axes in
    [-1, 1]); a seeded spring layout when the graph has a cycle. Name order, not networkx's grouping (which
    iterates sets, so the order changed with PYTHONHASHSEED), keeps the picture the same run after run."""
    if g.number_of_nodes() and nx.is_directed_acyclic_graph(g):
        generations = [sorted(map(str, generation)) for generation in nx.topological_generations(g)]
        pos: dict[str, tuple[float, float]] = {}
        for depth, generation in enumerate(generations):
            x = 2.0 * depth / (len(generations) - 1) - 1.0 if len(generations) > 1 else 0.0
            for i, node in enumerate(generation):
                pos[node] = (x, 1.0 - 2.0 * i / (len(generation) - 1) if len(generation) > 1 else 0.0)
        return pos
    spring = nx.spring_layout(g, seed=0)
    return {str(k): (float(x), float(y)) for k, (x, y) in spring.items()}


def graph_figure(draft: CausalDraft | nx.DiGraph, *, attribution: Attribution | None = None, alarm: str | None = None,
                 max_nodes: int = MAX_GRAPH_NODES) -> ReportFigure | None:
    """The reviewed graph around the alarm with the top cause's path to it highlighted (None when empty)."""
    import plotly.graph_objects as go

    full = _graph_of(draft)
    alarm = alarm or getattr(draft, "alarm", None) or getattr(attribution, "alarm", None)
    causes = list(getattr(attribution, "causes", []) or [])
    path = [n for n in (causes[0].path if causes else []) if n in full]
    if causes and not path and causes[0].node in full:
        path = [causes[0].node]
    keep = _nodes_to_draw(full, path, alarm, causes, max_nodes)
    if not keep:
        return None
    # Nodes and edges in name order: the layout then does not depend on set order (PYTHONHASHSEED), so two
    # runs draw the same picture.
    sub = full.subgraph(keep)
    g = nx.DiGraph()
    g.add_nodes_from(sorted(sub.nodes(data=True), key=lambda item: str(item[0])))
    g.add_edges_from(sorted(sub.edges(data=True), key=lambda edge: (str(edge[0]), str(edge[1]))))
    pos = _layers(g)
    fig = go.Figure()
    _draw_edges(fig, g, pos, set(itertools.pairwise(path)))
    nodes = list(g.nodes)
    column = _draw_nodes(fig, nodes, pos, path, alarm)
    dropped = full.number_of_nodes() - g.number_of_nodes()
    title = "Reviewed causal graph" + (f": causal path {' → '.join(path)}" if len(path) > 1 else "")
    tallest = max((len(v) for v in column.values()), default=1)
    xs_all = [x for x, _ in pos.values()]
    spread = (max(xs_all) - min(xs_all)) or 1.0
    fig.update_layout(height=max(360, min(900, 140 + 48 * tallest)), template="plotly_white",
                      title={"text": title if len(title) < 120 else "Reviewed causal graph (path in red)"},
                      margin={"l": 20, "r": 20, "t": 60, "b": 20},
                      legend={"orientation": "h", "yanchor": "bottom", "y": -0.08},
                      xaxis={"visible": False, "range": [min(xs_all) - 0.2 * spread, max(xs_all) + 0.2 * spread]},
                      yaxis={"visible": False})
    caption = ("Causes on the left, effects on the right; red: the top cause's path to the alarm (orange); "
               "solid: accepted edges, dashed: proposed ones.")
    if dropped > 0:
        caption += f" {dropped} nodes far from the alarm are not drawn."
    return ReportFigure("graph", "Reviewed causal graph", fig.to_plotly_json(), caption=caption,
                        shows={"path": path, "alarm": alarm, "nodes": nodes,
                               "edges": [list(e) for e in g.edges], "path_edges": [list(e) for e in itertools.pairwise(path)]})


def _nodes_to_draw(full: nx.DiGraph, path: list[str], alarm: str | None, causes: list[RankedCause],
                   max_nodes: int) -> list[str]:
    """Which nodes: the path, the other top causes' paths, the alarm's ancestors, nearest first; at most max_nodes."""
    keep: list[str] = []

    def add(nodes: Iterable[str]) -> None:
        for n in nodes:
            if n in full and n not in keep and len(keep) < max_nodes:
                keep.append(n)

    add(path)
    if alarm is not None and alarm in full:
        add([alarm])
    for cause in causes[1:5]:
        add(cause.path or [cause.node])
    for node in list(keep):  # the direct causes of what is drawn: what a reviewer checks next
        add(sorted(full.predecessors(node)))
    if alarm in full:
        dist = nx.single_source_shortest_path_length(full.reverse(copy=False), alarm)
        add(sorted(dist, key=lambda n: (dist[n], n)))
    add(sorted(full.nodes))
    return keep


def _draw_edges(fig: go.Figure, g: nx.DiGraph, pos: dict[str, tuple[float, float]], on_path: set[tuple[str, str]]) -> None:
    """The edges, one trace per kind (on the path or not, accepted or proposed), and an arrow head on each."""
    import plotly.graph_objects as go

    groups: dict[tuple[bool, str], tuple[list[float | None], list[float | None]]] = {}
    for u, v, data in g.edges(data=True):
        kind = (u, v) in on_path, "dash" if data.get("status") == "proposed" else "solid"
        xs, ys = groups.setdefault(kind, ([], []))
        (x0, y0), (x1, y1) = pos[u], pos[v]
        xs += [x0, x1, None]
        ys += [y0, y1, None]
    for (highlight, dash), (xs, ys) in sorted(groups.items()):
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                 name="path edges" if highlight else f"{'proposed' if dash == 'dash' else 'accepted'} edges",
                                 line={"color": _PATH if highlight else _EDGE, "width": 3.5 if highlight else 1.1,
                                       "dash": dash}))
    # arrow heads: one annotation per edge, placed a little before the target so the marker does not hide it
    for u, v in g.edges:
        (x0, y0), (x1, y1) = pos[u], pos[v]
        highlight = (u, v) in on_path
        fig.add_annotation(x=x0 + 0.85 * (x1 - x0), y=y0 + 0.85 * (y1 - y0), ax=x0 + 0.6 * (x1 - x0),
                           ay=y0 + 0.6 * (y1 - y0), xref="x", yref="y", axref="x", ayref="y", text="",
                           showarrow=True, arrowhead=2, arrowsize=1.2, arrowwidth=2.5 if highlight else 1,
                           arrowcolor=_PATH if highlight else _EDGE)


def _draw_nodes(fig: go.Figure, nodes: list[str], pos: dict[str, tuple[float, float]], path: list[str],
                alarm: str | None) -> dict[float, list[str]]:
    """The nodes with their labels, the path ringed; returns the nodes of each column (top to bottom)."""
    import plotly.graph_objects as go

    # labels alternate above and below within a column, so that neighbours' long names do not overprint
    column: dict[float, list[str]] = {}
    for n in sorted(nodes, key=lambda n: pos[n][1]):
        column.setdefault(round(pos[n][0], 3), []).append(n)
    place = {n: ("top center" if i % 2 else "bottom center") for names in column.values() for i, n in enumerate(names)}
    colour = [_PATH if n in path else ("#ff7f0e" if n == alarm else _NODE) for n in nodes]
    size = [16 if n in path or n == alarm else 10 for n in nodes]
    fig.add_trace(go.Scatter(x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text",
                             text=nodes, textposition=[place[n] for n in nodes], textfont={"size": 10}, hovertext=nodes,
                             hoverinfo="text", marker={"color": colour, "size": size, "line": {"width": 1, "color": "#fff"}},
                             name="nodes", showlegend=False))
    if path:
        fig.add_trace(go.Scatter(x=[pos[n][0] for n in path], y=[pos[n][1] for n in path], mode="markers",
                                 marker={"color": _PATH, "size": 18, "symbol": "circle-open", "line": {"width": 2}},
                                 name="causal path: " + " → ".join(path), meta={"path": path}, hoverinfo="skip",
                                 showlegend=True))
    return column


def score_figure(attribution: Attribution | None, *, top_k: int = 10) -> ReportFigure | None:
    """The top ``top_k`` root-cause scores with their intervals (None when nothing was ranked)."""
    import plotly.graph_objects as go

    causes = list(getattr(attribution, "causes", []) or [])[:top_k]
    if not causes:
        return None
    causes = causes[::-1]  # best at the top of a horizontal bar chart
    names = [c.node for c in causes]
    scores = [float(c.score) for c in causes]
    has_interval = any(c.low == c.low and c.high == c.high for c in causes)
    plus = [max(float(c.high) - float(c.score), 0.0) if c.high == c.high else 0.0 for c in causes]
    minus = [max(float(c.score) - float(c.low), 0.0) if c.low == c.low else 0.0 for c in causes]
    fig = go.Figure(go.Bar(x=scores, y=names, orientation="h", name="score", marker={"color": _NODE},
                           error_x={"type": "data", "array": plus, "arrayminus": minus, "visible": has_interval,
                                    "color": "#333"}))
    method = str(getattr(attribution, "method", ""))
    fig.update_layout(height=120 + 32 * len(causes), template="plotly_white",
                      title={"text": f"Root-cause scores ({method})" + (" with intervals" if has_interval else "")},
                      margin={"l": 20, "r": 20, "t": 50, "b": 40}, yaxis={"automargin": True},
                      xaxis={"title": {"text": "score"}})
    return ReportFigure("scores", "Root-cause scores", fig.to_plotly_json(),
                        caption="Best first; error bars: the score's interval over resampled baselines"
                                if has_interval else "Best first (this method gives point scores, no interval).",
                        shows={"causes": names[::-1], "intervals": has_interval})


def report_figures(incident: Incident | None, *, attribution: Attribution | None = None, draft: CausalDraft | nx.DiGraph | None = None, anomalies: Anomalies | None = None) -> list[ReportFigure]:
    """Every chart the given results allow, in reading order: series, graph, scores."""
    figures: list[ReportFigure | None] = []
    if incident is not None and incident.telemetry.metrics.height:
        figures.append(series_figure(incident, attribution=attribution, anomalies=anomalies))
    if draft is not None:
        figures.append(graph_figure(draft, attribution=attribution, alarm=getattr(incident, "alarm", None)))
    if attribution is not None:
        figures.append(score_figure(attribution))
    return [f for f in figures if f is not None]


# -- HTML -----------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def plotlyjs_script() -> str:
    """plotly.js from the installed plotly package as one ``<script>``, evaluated once per page.

    Evaluated with ``module`` hidden so that the bundle sets ``window.Plotly`` in every front end (an
    AMD or CommonJS loader on the page would otherwise capture it), and skipped when the page has it.
    Nothing is fetched from a CDN: the report works offline.
    """
    from plotly.offline import get_plotlyjs

    source: str = get_plotlyjs().replace("</script", "<\\/script")
    return ("<script type='text/javascript'>if (!window.Plotly) { (function (module, exports, define) {\n"
            + source + "\n}).call(window); }</script>")


def figure_html(figure: ReportFigure, *, div_id: str) -> str:
    """One chart as a ``<figure>``: a div drawn by ``Plotly.newPlot`` (plotly.js must be on the page) and its caption."""
    spec = json.loads(_to_json(figure.figure))
    payload = json.dumps({"data": spec.get("data", []), "layout": spec.get("layout", {}),
                          "config": {"displaylogo": False, "responsive": True}})
    # names are data: no '<' or '>' of a node name reaches the HTML parser inside the script
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    shows = html.escape(json.dumps(figure.shows, default=str), quote=True)
    return (f"<figure class='rcakit-figure' data-figure='{html.escape(figure.name)}' data-shows=\"{shows}\">"
            f"<div id='{html.escape(div_id)}' class='rcakit-plot'></div>"
            f"<figcaption><b>{html.escape(figure.title)}.</b> {html.escape(figure.caption)}</figcaption>"
            f"<script type='text/javascript'>(function () {{ var spec = {payload};"
            f" var el = document.getElementById({json.dumps(div_id)});"
            " if (el && window.Plotly) { window.Plotly.newPlot(el, spec.data, spec.layout, spec.config); } })();"
            "</script></figure>")
