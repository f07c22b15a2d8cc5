"""``TelemetryExplorer``: look at an incident's telemetry and its anomalies in a notebook.

A thin view: every number comes from :mod:`rcakit.detect`; every control calls a public method
(``select_entities``, ``select_metrics``, ``set_method``, ``set_threshold``, ``set_incident_window``,
``on_range_selected``, ``refresh``) that a test calls without a browser. What is drawn is bounded
(``max_series`` lines of at most ``max_points`` points, ``max_heatmap_entities`` rows, ``max_templates``
log templates), so it stays responsive on the Nezha day's 46 pods. What the charts show (standardized
series, heatmap rows, log-template counts, the service graph and its layout, window shapes) is computed in
:mod:`rcakit.ui._explorer_figures`; series downsampled and times as plotly date-axis strings in
:mod:`rcakit.ui._series`. This module holds the controls, the state and the figures.

>>> explorer = TelemetryExplorer(incident)        # doctest: +SKIP
>>> explorer                                      # doctest: +SKIP  (displays the widget)
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import polars as pl

from rcakit.detect import Anomalies, DetectConfig, Method, detect_anomalies, score_timeline
from rcakit.errors import DataError
from rcakit.telemetry import Incident
from rcakit.telemetry.window import TimeWindow, to_utc
from rcakit.ui._explorer_figures import (
    anomaly_shapes,
    heatmap_rows,
    log_counts,
    service_graph,
    service_map_layout,
    standardized_series,
    window_shapes,
)
from rcakit.ui._series import _finite_or_none, _parse_plotly_time, _plotly_times, downsample

if TYPE_CHECKING:
    import ipywidgets as widgets
    import plotly.graph_objects as go
    from traitlets.utils.bunch import Bunch

    from rcakit._types import DurationLike, JSONObject, TimeLike

__all__ = ["TelemetryExplorer", "downsample"]

class TelemetryExplorer:
    """Time series, anomaly heatmap, log-template timeline and service map of one incident.

    ``method``/``config`` choose the detector (see :func:`rcakit.detect.detect_anomalies`). Pass
    ``anomalies`` (a result of ``detect_anomalies`` on the same incident) to show it without detecting
    again; its method, settings and grid become the explorer's, and detection runs again only when a
    control changes them. Initially the ``initial_entities`` highest-ranked entities and their top series
    are shown. ``interactive=False`` draws the series chart as a plain plotly output instead of a
    ``FigureWidget`` (no box selection; what the Voila dashboard uses, where the FigureWidget draws no traces).
    """

    def __init__(
        self,
        incident: Incident,
        *,
        method: Method | str = Method.NSIGMA,
        config: DetectConfig | None = None,
        freq: DurationLike | None = None,
        max_series: int = 8,
        max_points: int = 1500,
        max_heatmap_entities: int = 50,
        max_templates: int = 15,
        initial_entities: int = 3,
        context: float = 0.5,
        anomalies: Anomalies | None = None,
        interactive: bool = True,
    ) -> None:
        if not isinstance(incident, Incident):
            raise TypeError(f"TelemetryExplorer needs an Incident, got {type(incident).__name__}")
        if anomalies is not None:
            _check_anomalies_match(anomalies, incident)
            method, config, freq = anomalies.method, anomalies.config, anomalies.freq
        if max_series < 1 or max_points < 10:
            raise DataError(f"max_series must be >= 1 and max_points >= 10, got {max_series} and {max_points}")
        self.incident = incident
        self.method = Method(method)
        self.config = config or DetectConfig()
        self.freq = freq
        self.max_series = max_series
        self.max_points = max_points
        self.max_heatmap_entities = max_heatmap_entities
        self.max_templates = max_templates
        self.context = context
        self.interactive = interactive
        self.status = ""
        self.anomalies: Anomalies | None = None
        self._timeline: pl.DataFrame | None = None
        self._syncing = False
        self.selected_entities: list[str] = []
        self.selected_metrics: list[str] = []
        self._build_widgets()
        self._detect(reuse=anomalies)
        ranking = self.anomalies.entity_ranking() if self.anomalies is not None else pl.DataFrame()
        entities = ranking.get_column("entity").head(initial_entities).to_list() if ranking.height else \
            incident.telemetry.entities()[:initial_entities]
        self.select_entities(entities)

    # -- public controls -------------------------------------------------------------------------
    def select_entities(self, entities: Iterable[str]) -> None:
        """Show these entities; the metric choice becomes their top anomalous series."""
        chosen = list(dict.fromkeys(entities))
        known = set(self.incident.telemetry.entities())
        unknown = [e for e in chosen if e not in known]
        if unknown:
            from rcakit.telemetry.model import _did_you_mean

            raise DataError(f"no entity {unknown[0]!r} in incident {self.incident.name!r}",
                            hint=_did_you_mean(unknown[0], sorted(known)))
        self.selected_entities = chosen
        self.selected_metrics = self._default_metrics(chosen)
        self._sync_controls()
        self.refresh()

    def select_metrics(self, nodes: Iterable[str]) -> None:
        """Draw these ``entity:metric`` series (at most ``max_series``; the rest are ignored, see ``status``)."""
        chosen = list(dict.fromkeys(nodes))
        known = set(self.incident.telemetry.nodes())
        unknown = [n for n in chosen if n not in known]
        if unknown:
            from rcakit.telemetry.model import _did_you_mean

            raise DataError(f"no metric node {unknown[0]!r}", hint=_did_you_mean(unknown[0], sorted(known)))
        dropped = max(0, len(chosen) - self.max_series)
        self.selected_metrics = chosen[: self.max_series]
        self._sync_controls()
        self.refresh()
        if dropped:
            self._set_status(f"showing the first {self.max_series} series; {dropped} more were not drawn")

    def set_method(self, method: Method | str) -> None:
        """Detect again with another method and redraw."""
        self.method = Method(method)
        self._detect()
        self._sync_controls()
        self.refresh()

    def set_threshold(self, threshold: float) -> None:
        """Detect again with another threshold (n in n-sigma) and redraw."""
        from dataclasses import replace

        self.config = replace(self.config, threshold=float(threshold))
        self._detect()
        self.refresh()

    def set_incident_window(self, start: TimeLike, end: TimeLike) -> None:
        """Move the incident's incident window (the Incident object itself), detect again and redraw."""
        lo, hi = to_utc(start), to_utc(end)
        if hi < lo:
            lo, hi = hi, lo
        self.incident.set_incident_window(lo, hi)
        self._detect()
        self.refresh()

    def on_range_selected(self, xrange: Sequence[TimeLike]) -> None:
        """What a box selection in the time-series chart does: its x range becomes the incident window."""
        if xrange is None or len(xrange) != 2:
            return
        self.set_incident_window(_parse_plotly_time(xrange[0]), _parse_plotly_time(xrange[1]))

    def refresh(self) -> None:
        """Redraw every chart from the current state."""
        self._draw_timeseries()
        self._draw_heatmap()
        self._draw_log_timeline()
        self._draw_service_map()
        self._draw_summary()

    # -- state -----------------------------------------------------------------------------------
    def _detect(self, reuse: Anomalies | None = None) -> None:
        try:
            self.anomalies = reuse if reuse is not None else detect_anomalies(
                self.incident, method=self.method, config=self.config, freq=self.freq)
            self._timeline = score_timeline(self.incident, method=self.method, config=self.config, freq=self.freq,
                                            start=self._view().start, end=self._view().end)
            self._set_status(f"{self.anomalies.anomalous().height} anomalous series by {self.method.value}")
        except DataError as exc:
            self.anomalies = None
            self._timeline = None
            self._set_status(f"detection failed: {exc}")

    def _view(self) -> TimeWindow:
        """The drawn time range: both windows with some context around them."""
        base, inc = self.incident.baseline_window, self.incident.incident_window
        lo, hi = min(base.start, inc.start), max(base.end, inc.end)
        if base.end < inc.start and (inc.start - base.end) > 4 * (inc.end - inc.start + base.end - base.start):
            lo = inc.start - (base.end - base.start)  # far-apart windows: show the incident's surroundings
        pad = (hi - lo) * self.context / 2
        span = self.incident.telemetry.time_range()
        if span is not None:
            lo, hi = max(lo - pad, span.start), min(hi + pad, span.end)
        return TimeWindow(lo, hi if hi > lo else lo + timedelta(seconds=1))

    def _default_metrics(self, entities: list[str]) -> list[str]:
        chosen: list[str] = []
        if self.anomalies is not None:
            table = self.anomalies.to_frame().filter(pl.col("entity").is_in(entities) & pl.col("score").is_not_null())
            ordered = table.sort(["anomalous", "score", "node"], descending=[True, True, False])
            chosen = ordered.get_column("node").to_list()
        if not chosen:
            chosen = [n for n in self.incident.telemetry.nodes() if n.partition(":")[0] in entities]
        per_entity = max(1, self.max_series // max(len(entities), 1))
        picked: list[str] = []
        for entity in entities:
            picked.extend([n for n in chosen if n.partition(":")[0] == entity][:per_entity])
        return picked[: self.max_series]

    def _set_status(self, text: str) -> None:
        self.status = text
        if hasattr(self, "status_html"):
            self.status_html.value = f"<span>{html.escape(text)}</span>"

    # -- widgets ---------------------------------------------------------------------------------
    def _build_widgets(self) -> None:
        import ipywidgets as w
        import plotly.graph_objects as go

        entities = self.incident.telemetry.entities()
        self.entity_select = w.SelectMultiple(options=entities, rows=min(8, max(len(entities), 2)),
                                              description="entities")
        self.metric_select = w.SelectMultiple(options=[], rows=8, description="series")
        self.method_select = w.Dropdown(options=[m.value for m in Method], value=self.method.value,
                                        description="method")
        self.threshold_input = w.BoundedFloatText(value=self.config.threshold, min=0.5, max=50, step=0.5,
                                                  description="threshold")
        self.status_html = w.HTML()
        self.summary_html = w.HTML()
        self.entity_select.observe(self._entities_changed, names="value")
        self.metric_select.observe(self._metrics_changed, names="value")
        self.method_select.observe(lambda change: self.set_method(change["new"]), names="value")
        self.threshold_input.observe(lambda change: self.set_threshold(change["new"]), names="value")

        # One interactive chart only (the series: its box selection moves the incident window). plotly's
        # FigureWidget is an anywidget whose model gets 2 s to initialize; four of them on a loaded machine
        # left charts blank. The display-only charts are plain figures rendered by JupyterLab's own plotly
        # renderer (mime type application/vnd.plotly.v1+json, no CDN) inside Output widgets.
        layout = {"height": 420, "dragmode": "select" if self.interactive else "zoom", "autosize": True,
                  "margin": {"t": 40, "l": 60, "r": 20, "b": 120},
                  "title": {"text": "series (drag to select a new incident window)" if self.interactive
                            else "series against the baseline window"},
                  "xaxis": {"type": "date"}, "showlegend": True,
                  # below the date labels (two lines: time, day)
                  "legend": {"orientation": "h", "yanchor": "top", "y": -0.3}}
        full = w.Layout(width="100%")
        self.timeseries_output = w.Output(layout=full)
        if self.interactive:
            self.timeseries = go.FigureWidget(layout=layout)
            # responsive: as wide as the output area (and follows it), not plotly's default 700 px
            self.timeseries._config = {"responsive": True, "displaylogo": False}
        else:
            # interactive=False: a plain figure through the front end's plotly renderer (no box selection). Voila 0.5
            # leaves plotly 7's FigureWidget without its traces; the incident window still moves with
            # set_incident_window.
            self.timeseries = go.Figure(layout=layout)
        self.heatmap = go.Figure(layout={"height": 320, "margin": {"t": 40, "l": 60, "r": 20}, "autosize": True,
                                         "title": {"text": "anomaly score by entity"}, "xaxis": {"type": "date"}})
        self.log_timeline = go.Figure(layout={"height": 300, "margin": {"t": 40, "r": 20}, "autosize": True,
                                              "title": {"text": "log templates"}, "xaxis": {"type": "date"}})
        self.service_map = go.Figure(layout={"height": 380, "margin": {"t": 40, "l": 20, "r": 20}, "autosize": True,
                                             "title": {"text": "service map (colour: anomaly score)"},
                                             "xaxis": {"visible": False}, "yaxis": {"visible": False}})
        self.heatmap_output = w.Output(layout=full)
        self.log_timeline_output = w.Output(layout=full)
        self.service_map_output = w.Output(layout=full)
        controls = w.HBox([self.entity_select, self.metric_select,
                           w.VBox([self.method_select, self.threshold_input, self.status_html])],
                          layout=w.Layout(width="100%", flex_flow="row wrap"))
        # stacked, each as wide as the output area: side by side they overflowed a ~970 px notebook
        series = self.timeseries if self.interactive else self.timeseries_output
        self.widget = w.VBox([controls, self.summary_html, series, self.heatmap_output,
                              self.log_timeline_output, self.service_map_output], layout=w.Layout(width="100%"))

    def _sync_controls(self) -> None:
        self._syncing = True
        try:
            self.entity_select.value = tuple(e for e in self.selected_entities if e in self.entity_select.options)
            options = [n for n in self.incident.telemetry.nodes() if n.partition(":")[0] in self.selected_entities]
            self.metric_select.options = options
            self.metric_select.value = tuple(n for n in self.selected_metrics if n in options)
            if self.method_select.value != self.method.value:
                self.method_select.value = self.method.value
        finally:
            self._syncing = False

    def _entities_changed(self, change: Bunch) -> None:  # traitlets' change dict
        if not self._syncing:
            self.select_entities(change["new"])

    def _metrics_changed(self, change: Bunch) -> None:
        if not self._syncing:
            self.select_metrics(change["new"])

    def _selection_callback(self, trace: object, points: object, selector: object) -> None:
        xrange = getattr(selector, "xrange", None)
        if xrange:
            self.on_range_selected(xrange)

    # -- drawing ---------------------------------------------------------------------------------
    def _window_shapes(self) -> list[JSONObject]:
        return window_shapes(self.incident, self._view())

    def _anomaly_shapes(self) -> list[JSONObject]:
        return anomaly_shapes(self.anomalies, self.selected_metrics)

    def drawn_points(self) -> int:
        """How many points the time-series chart holds (bounded by max_series x max_points)."""
        return int(sum(len(t.x) for t in self.timeseries.data if t.x is not None))

    def _draw_timeseries(self) -> None:
        series = standardized_series(self.incident, self._view(), self.selected_metrics, self.max_points)
        with self.timeseries.batch_update():
            self.timeseries.data = []
            for node, t, v in series:
                self.timeseries.add_scatter(x=_plotly_times(t), y=_finite_or_none(v), mode="lines", name=node,
                                            hovertemplate=f"{html.escape(node)}<br>%{{x}}<br>z=%{{y:.2f}}<extra></extra>")
            self.timeseries.layout.shapes = self._window_shapes() + self._anomaly_shapes()
            self.timeseries.layout.yaxis.title = "baseline z-score"
        if not self.interactive:
            _show_static(self.timeseries, self.timeseries_output)
            return
        for trace in self.timeseries.data:
            trace.on_selection(self._selection_callback)

    def _draw_heatmap(self) -> None:
        try:
            self._fill_heatmap()
        finally:
            _show_static(self.heatmap, self.heatmap_output)

    def _fill_heatmap(self) -> None:
        with self.heatmap.batch_update():
            self.heatmap.data = []
            rows = heatmap_rows(self._timeline, self.anomalies, self.max_heatmap_entities)
            if rows is None:
                return
            times, order, z = rows
            cap = max(self.config.threshold * 3, 1.0)
            clipped = np.clip(z, 0, cap)
            self.heatmap.add_heatmap(x=_plotly_times(times), y=[html.escape(e) for e in order],
                                     z=[_finite_or_none(row) for row in clipped],
                                     zmin=0, zmax=cap, colorscale="Reds", colorbar={"title": "|score|"})
            self.heatmap.layout.shapes = self._window_shapes()
            self.heatmap.layout.yaxis.autorange = "reversed"

    def log_counts(self) -> pl.DataFrame:
        """Template counts of the selected entities in the drawn range (time, template_id, template, count)."""
        return log_counts(self.incident, self._view(), self.selected_entities, self.anomalies, self.max_templates)

    def _draw_log_timeline(self) -> None:
        counts = self.log_counts()
        with self.log_timeline.batch_update():
            self.log_timeline.data = []
            if counts.height == 0:
                self.log_timeline.layout.title = {"text": "log templates (no log lines for these entities)"}
                self.log_timeline.layout.shapes = ()
        if counts.height == 0:
            _show_static(self.log_timeline, self.log_timeline_output)
            return
        with self.log_timeline.batch_update():
            self.log_timeline.layout.title = {"text": "log templates of the selected entities"}
            labels = {r["template_id"]: f"T{r['template_id']}: {r['template'][:60]}"
                      for r in counts.select("template_id", "template").unique().iter_rows(named=True)}
            self.log_timeline.add_scatter(
                x=_plotly_times(counts.get_column("time").to_numpy()),
                y=[html.escape(labels[t]) for t in counts.get_column("template_id").to_list()],
                mode="markers", marker={"size": np.clip(np.sqrt(counts.get_column("count").to_numpy()) * 3, 4, 30)},
                text=counts.get_column("count").to_list(), hovertemplate="%{y}<br>%{x}<br>%{text} lines<extra></extra>",
            )
            self.log_timeline.layout.shapes = self._window_shapes()
            self.log_timeline.layout.yaxis.automargin = True
        _show_static(self.log_timeline, self.log_timeline_output)

    def service_graph(self) -> nx.DiGraph:
        """Entities with their anomaly score; edges from the incident window's spans (else the truth graph)."""
        return service_graph(self.incident, self.anomalies)

    def _draw_service_map(self) -> None:
        graph = self.service_graph()
        with self.service_map.batch_update():
            self.service_map.data = []
            if graph.number_of_nodes() == 0:
                _show_static(self.service_map, self.service_map_output)
                return
            pos, ex, ey = service_map_layout(graph)
            self.service_map.add_scatter(x=ex, y=ey, mode="lines", line={"width": 1, "color": "#999"},
                                         hoverinfo="skip", showlegend=False)
            nodes = sorted(graph.nodes)
            scores = [graph.nodes[n]["score"] for n in nodes]
            cap = max(self.config.threshold * 3, 1.0)
            self.service_map.add_scatter(
                x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers",
                marker={"size": 14, "color": np.clip(scores, 0, cap), "cmin": 0, "cmax": cap, "colorscale": "Reds",
                        "line": {"width": [3 if n in self.selected_entities else 1 for n in nodes]}},
                text=[html.escape(n) for n in nodes], hovertemplate="%{text}<br>score %{marker.color:.2f}<extra></extra>",
                showlegend=False,
            )
        _show_static(self.service_map, self.service_map_output)

    def _draw_summary(self) -> None:
        if self.anomalies is None:
            self.summary_html.value = f"<i>{html.escape(self.status)}</i>"
            return
        lines = self.anomalies.describe("entity", top=5)
        self.summary_html.value = (f"<div><b>{html.escape(self.incident.name)}</b>: incident window "
                                   f"{html.escape(str(self.incident.incident_window))}<ul>"
                                   + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul></div>")

    # -- display ---------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython import display as ipy_display

        ipy_display.display(self.widget)  # type: ignore[no-untyped-call]  # IPython leaves display unannotated

    def __repr__(self) -> str:
        return (f"TelemetryExplorer({self.incident.name!r}, entities={self.selected_entities}, "
                f"series={len(self.selected_metrics)}, method={self.method.value})")


def _show_static(figure: go.Figure, output: widgets.Output) -> None:
    """Render a plain plotly figure in an ipywidgets Output through the front end's plotly mime renderer."""
    from rcakit.ui._plotly import show_figure

    show_figure(figure, output)


def _check_anomalies_match(anomalies: Anomalies, incident: Incident) -> None:
    """Refuse anomalies detected on another incident or window: the charts would contradict them."""
    if not isinstance(anomalies, Anomalies):
        raise TypeError(f"anomalies must come from rcakit.detect.detect_anomalies, got {type(anomalies).__name__}")
    if anomalies.incident_name != incident.name or anomalies.incident_window != incident.incident_window:
        raise DataError(
            f"these anomalies were detected on {anomalies.incident_name!r} for the window "
            f"{anomalies.incident_window}, not on {incident.name!r} for {incident.incident_window}",
            hint="call detect_anomalies(incident) again, or leave anomalies= out and the explorer detects")
