"""TelemetryExplorer driven through its public methods (no browser)."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("plotly")

from plotly.callbacks import BoxSelector, Points

from rcakit.errors import DataError
from rcakit.telemetry.window import to_utc
from rcakit.ui.explorer import TelemetryExplorer, downsample
from tests.detect._synth import STEP, T0, multimodal_incident


@pytest.fixture(scope="module")
def explorer() -> TelemetryExplorer:
    return TelemetryExplorer(multimodal_incident(), max_series=4)


def test_opens_on_the_most_anomalous_entities(explorer: TelemetryExplorer) -> None:
    assert explorer.selected_entities[0] == "db"
    assert explorer.selected_metrics and all(n.startswith(("db:", "api:", "frontend:"))
                                             for n in explorer.selected_metrics)
    assert len(explorer.timeseries.data) == len(explorer.selected_metrics)
    assert "anomalous" in explorer.status


def test_windows_and_anomaly_intervals_are_shaded(explorer: TelemetryExplorer) -> None:
    explorer.select_metrics(["db:latency", "api:cpu"])
    shapes = explorer.timeseries.layout.shapes
    bands = {(to_utc(s.x0), to_utc(s.x1)) for s in shapes if s.name is None}
    for window in (explorer.incident.baseline_window, explorer.incident.incident_window):
        assert (window.start, window.end) in bands
    anomaly = [s for s in shapes if s.name == "db:latency"]
    assert anomaly, "the anomalous interval of db:latency is drawn"
    assert not [s for s in shapes if s.name == "api:cpu"], "a normal series gets no anomaly band"


def test_heatmap_has_one_row_per_entity_and_the_culprit_is_hot(explorer: TelemetryExplorer) -> None:
    heat = explorer.heatmap.data[0]
    rows = list(heat.y)
    assert set(rows) == {"db", "api", "frontend"}
    z = np.asarray(heat.z, dtype=float)
    assert np.nanmax(z[rows.index("db")]) > np.nanmax(z[rows.index("frontend")])


def test_log_timeline_and_service_map(explorer: TelemetryExplorer) -> None:
    explorer.select_entities(["db", "api"])
    counts = explorer.log_counts()
    assert counts.height > 0 and counts.get_column("count").sum() > 0
    assert len(explorer.log_timeline.data) == 1
    graph = explorer.service_graph()
    assert graph.has_edge("frontend", "api") and graph.has_edge("api", "db")
    assert graph.nodes["db"]["score"] > graph.nodes["frontend"]["score"]
    colours = dict(zip(explorer.service_map.data[1].text, explorer.service_map.data[1].marker.color, strict=True))
    assert colours["db"] >= colours["frontend"]


def test_selecting_a_range_in_the_chart_moves_the_incident_window() -> None:
    incident = multimodal_incident(seed=1)
    explorer = TelemetryExplorer(incident)
    lo, hi = T0 + 45 * STEP, T0 + 55 * STEP
    trace = explorer.timeseries.data[0]
    # What plotly does on a box selection in the browser: dispatch to the trace's selection callbacks.
    trace._dispatch_on_selection(Points(point_inds=[], xs=[], ys=[], trace_name=trace.name, trace_index=0),
                                 BoxSelector(xrange=[lo.strftime("%Y-%m-%d %H:%M:%S"),
                                                     hi.strftime("%Y-%m-%d %H:%M:%S")], yrange=[0, 1]))
    assert incident.incident_window.start == lo and incident.incident_window.end == hi
    assert explorer.anomalies is not None and explorer.anomalies.incident_window.start == lo
    explorer.set_incident_window(T0 + 40 * STEP, T0 + 60 * STEP)
    assert incident.incident_window.duration == timedelta(minutes=20)


def test_controls_call_the_public_methods() -> None:
    explorer = TelemetryExplorer(multimodal_incident(seed=2))
    explorer.method_select.value = "robust_z"
    assert explorer.anomalies is not None and explorer.anomalies.method == "robust_z"
    explorer.entity_select.value = ("api",)
    assert explorer.selected_entities == ["api"]
    assert all(n.startswith("api:") for n in explorer.selected_metrics)
    explorer.metric_select.value = ("api:cpu",)
    assert explorer.selected_metrics == ["api:cpu"] and len(explorer.timeseries.data) == 1
    explorer.threshold_input.value = 10.0
    assert explorer.config.threshold == 10.0


def test_bad_choices_are_clear_errors(explorer: TelemetryExplorer) -> None:
    with pytest.raises(DataError, match="Did you mean"):
        explorer.select_entities(["dbb"])
    with pytest.raises(DataError, match="no metric node"):
        explorer.select_metrics(["db:nothing"])


def test_an_empty_window_shows_a_message_instead_of_failing() -> None:
    explorer = TelemetryExplorer(multimodal_incident(seed=3))
    explorer.set_incident_window(T0 + 500 * STEP, T0 + 510 * STEP)
    assert explorer.anomalies is None and "detection failed" in explorer.status
    assert "set_incident_window" in explorer.status


def test_downsample_keeps_extremes_and_bounds_points() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(0, 1, 100_000)
    values[54_321] = 50.0
    times = np.arange(values.size)
    t, v = downsample(times, values, 1000)
    assert len(v) <= 1000 and v.max() == 50.0 and np.all(np.diff(t) > 0)


@pytest.mark.slow
def test_stays_responsive_on_the_nezha_day(nezha_dir) -> None:
    from rcakit.telemetry.datasets import load_nezha

    incident = load_nezha(nezha_dir)[1]
    explorer = TelemetryExplorer(incident, max_series=8, max_points=500)
    assert explorer.drawn_points() <= 8 * 500
    assert len(explorer.heatmap.data[0].y) <= explorer.max_heatmap_entities
    t0 = time.perf_counter()
    explorer.select_entities(explorer.anomalies.entity_ranking().get_column("entity").head(4).to_list())
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"redrawing for 4 entities took {elapsed:.1f} s"
    assert explorer.log_counts().height > 0  # Nezha logs are unwrapped and mined


def test_a_date_axis_selection_with_fractional_seconds_sets_that_window() -> None:
    """What plotly.js sends for a box selection on a date axis: 'YYYY-MM-DD HH:MM:SS.f' strings (UTC here)."""
    incident = multimodal_incident(seed=4)
    explorer = TelemetryExplorer(incident)
    lo, hi = T0 + 44 * STEP + timedelta(milliseconds=500), T0 + 57 * STEP + timedelta(milliseconds=250)
    sent = [lo.strftime("%Y-%m-%d %H:%M:%S") + ".5", hi.strftime("%Y-%m-%d %H:%M:%S") + ".25"]
    trace = explorer.timeseries.data[-1]
    trace._dispatch_on_selection(Points(point_inds=[], xs=[], ys=[], trace_name=trace.name, trace_index=0),
                                 BoxSelector(xrange=sent, yrange=[0, 1]))
    assert (incident.incident_window.start, incident.incident_window.end) == (lo, hi)
    # reversed ends, minutes only, a trailing Z and epoch milliseconds all mean the same instants
    explorer.on_range_selected([(T0 + 60 * STEP).strftime("%Y-%m-%d %H:%M") + "Z",
                                (T0 + 50 * STEP).strftime("%Y-%m-%dT%H:%M")])
    assert incident.incident_window.start == (T0 + 50 * STEP).replace(second=0, microsecond=0)
    assert incident.incident_window.end == (T0 + 60 * STEP).replace(second=0, microsecond=0)
    explorer.on_range_selected([(T0 + 41 * STEP).timestamp() * 1000, (T0 + 49 * STEP).timestamp() * 1000])
    assert incident.incident_window.duration == 8 * STEP
    with pytest.raises(DataError, match="cannot read"):
        explorer.on_range_selected(["yesterday", "today"])


def test_charts_use_a_date_axis_and_hold_no_nan(explorer: TelemetryExplorer) -> None:
    import json

    explorer.select_entities(["db", "api"])
    for trace in explorer.timeseries.data:
        assert all(isinstance(x, str) for x in trace.x), "times go to plotly as date strings, not nanoseconds"
        assert to_utc(trace.x[0]) >= explorer._view().start and to_utc(trace.x[-1]) < explorer._view().end
        assert not any(isinstance(y, float) and np.isnan(y) for y in trace.y)
    assert explorer.timeseries.layout.xaxis.type == "date"
    heat = explorer.heatmap.data[0]
    assert to_utc(heat.x[0]) >= explorer._view().start
    assert not any(isinstance(v, float) and np.isnan(v) for row in heat.z for v in row)
    # the display-only charts are rendered by JupyterLab's plotly mime renderer, NaN-free JSON, full width
    for figure, output in ((explorer.heatmap, explorer.heatmap_output),
                           (explorer.log_timeline, explorer.log_timeline_output),
                           (explorer.service_map, explorer.service_map_output)):
        (shown,) = output.outputs
        spec = shown["data"]["application/vnd.plotly.v1+json"]
        assert len(spec["data"]) == len(figure.data) >= 1
        assert "NaN" not in json.dumps(spec, allow_nan=False)
        assert "width" not in spec["layout"] and output.layout.width == "100%"
    assert explorer.widget.children[-3:] == (explorer.heatmap_output, explorer.log_timeline_output,
                                             explorer.service_map_output), "charts are stacked, not side by side"


def test_only_the_series_chart_is_a_widget(explorer: TelemetryExplorer) -> None:
    """plotly's FigureWidget is an anywidget with a 2 s init limit; several of them left charts blank."""
    import plotly.graph_objects as go

    widgets = [c for c in explorer.widget.children if isinstance(c, go.FigureWidget)]
    assert widgets == [explorer.timeseries]
    explorer.select_entities(["frontend"])
    assert explorer.service_map_output.outputs[0]["data"]["application/vnd.plotly.v1+json"]["data"]


def test_given_anomalies_are_shown_without_detecting_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from rcakit.detect import detect_anomalies
    from rcakit.ui import explorer as explorer_module

    incident = multimodal_incident(seed=4)
    found = detect_anomalies(incident, method="robust_z")
    calls: list[object] = []
    real = explorer_module.detect_anomalies
    monkeypatch.setattr(explorer_module, "detect_anomalies", lambda *a, **k: calls.append(a) or real(*a, **k))
    explorer = TelemetryExplorer(incident, anomalies=found)
    assert calls == [] and explorer.anomalies is found and explorer.method.value == "robust_z"
    assert explorer.selected_entities[0] == found.entity_ranking().get_column("entity")[0]
    explorer.set_threshold(5.0)  # a control that changes the settings detects again
    assert len(calls) == 1 and explorer.anomalies is not found


def test_anomalies_of_another_window_are_refused() -> None:
    from rcakit.detect import detect_anomalies

    incident = multimodal_incident(seed=5)
    found = detect_anomalies(incident)
    incident.set_incident_window(T0 + 45 * STEP, T0 + 60 * STEP)
    with pytest.raises(DataError, match="detect_anomalies"):
        TelemetryExplorer(incident, anomalies=found)
