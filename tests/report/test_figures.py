"""The report's charts: the right series, the right path, the right ranking, embedded in the HTML, escaped."""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import polars as pl
import pytest

from rcakit import load_incident
from rcakit.attribution import attribute
from rcakit.detect import detect_anomalies
from rcakit.graph import CausalDraft, draft_graph
from rcakit.report import write_report
from rcakit.report.figures import graph_figure, score_figure, series_figure
from rcakit.telemetry import Incident, Telemetry

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def pieces():
    incident = load_incident(SAMPLES / "sim-S-gpu-throttle")
    anomalies = detect_anomalies(incident)
    draft = draft_graph(incident)
    attribution = attribute(draft, incident)
    report = write_report(incident, attribution=attribution, anomalies=anomalies, draft=draft, llm=None)
    return incident, anomalies, draft, attribution, report


def _plot_payloads(page: str) -> dict[str, dict]:
    """Each embedded chart's ``Plotly.newPlot`` spec, by its figure name, read back from the HTML."""
    out = {}
    for name, payload in re.findall(r"data-figure='(\w+)'.*?var spec = (\{.*?\}); var el", page, flags=re.S):
        out[name] = json.loads(payload)
    return out


def test_write_report_makes_the_three_charts_in_reading_order(pieces) -> None:
    *_, report = pieces
    assert [f.name for f in report.figures] == ["series", "graph", "scores"]


def test_series_chart_shows_the_alarm_and_the_top_cause_with_both_windows_shaded(pieces) -> None:
    incident, anomalies, _draft, attribution, report = pieces
    fig = report.figure("series")
    drawn = [t["name"] for t in fig.figure["data"]]
    assert drawn == fig.shows["series"]
    assert drawn[0] == incident.alarm
    assert attribution.causes[0].node in drawn
    # every drawn series is one the detector found anomalous, or the alarm / the cause's path
    anomalous = set(anomalies.anomalous().get_column("node").to_list())
    assert set(drawn) <= anomalous | {incident.alarm, *attribution.causes[0].path}
    # the points are the telemetry's own values, not a smoothed copy
    alarm_trace = fig.figure["data"][0]
    values = incident.telemetry.series(incident.alarm).get_column("value").to_numpy()
    assert set(v for v in alarm_trace["y"] if v is not None) <= set(values.tolist())
    # two shaded windows spanning every row: the baseline's and the incident's bounds, in UTC
    rects = [s for s in fig.figure["layout"]["shapes"] if s["type"] == "rect"]
    spans = {(s["x0"][:19], s["x1"][:19]) for s in rects}
    inc = incident.incident_window
    assert (inc.start.strftime("%Y-%m-%d %H:%M:%S"), inc.end.strftime("%Y-%m-%d %H:%M:%S")) in spans
    assert len(spans) == 2


def test_graph_chart_highlights_the_top_causes_path_to_the_alarm(pieces) -> None:
    incident, _anomalies, draft, attribution, report = pieces
    fig = report.figure("graph")
    path = attribution.causes[0].path
    assert len(path) >= 2 and path[-1] == incident.alarm
    assert fig.shows["path"] == path
    # the highlighted edges are exactly the path's, and each is an edge of the reviewed graph
    graph = draft.observed_graph()
    assert fig.shows["path_edges"] == [list(e) for e in itertools.pairwise(path)]
    assert all(graph.has_edge(u, v) for u, v in fig.shows["path_edges"])
    red = [t for t in fig.figure["data"] if t.get("line", {}).get("color") == "#d62728"]
    assert red, "a red trace draws the path"
    xy = {n: (x, y) for t in fig.figure["data"] if t["name"] == "nodes" for n, x, y in zip(t["text"], t["x"], t["y"])}
    segments = set()
    for trace in red:
        xs, ys = trace["x"], trace["y"]
        for i in range(0, len(xs), 3):
            segments.add(((xs[i], ys[i]), (xs[i + 1], ys[i + 1])))
    assert segments == {(xy[u], xy[v]) for u, v in itertools.pairwise(path)}


def test_score_chart_ranks_the_causes_best_first_with_intervals(pieces) -> None:
    *_, attribution, report = pieces
    fig = report.figure("scores")
    bar = fig.figure["data"][0]
    top = [c.node for c in attribution.causes[:10]]
    assert list(bar["y"])[::-1] == top == fig.shows["causes"]
    assert list(bar["x"])[::-1] == pytest.approx([c.score for c in attribution.causes[:10]])
    if fig.shows["intervals"]:
        first = attribution.causes[0]
        assert bar["error_x"]["array"][-1] == pytest.approx(max(first.high - first.score, 0.0))


def test_html_report_embeds_plotly_once_and_every_chart(pieces, tmp_path) -> None:
    *_, attribution, report = pieces
    page = report.save(tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count("window.Plotly = Plotly") == 1, "plotly.js inline exactly once"
    assert not re.search(r"<script[^>]*\bsrc=", page), "no script is fetched at view time"
    payloads = _plot_payloads(page)
    assert sorted(payloads) == ["graph", "scores", "series"]
    assert [t["name"] for t in payloads["series"]["data"]] == report.figure("series").shows["series"]
    assert list(payloads["scores"]["data"][0]["y"])[-1] == attribution.causes[0].node
    # the charts follow the summary, before the observation
    assert page.index("<h2>Summary") < page.index("rcakit-charts") < page.index("<h2>Observation")
    # a notebook fragment carries them too (what nbconvert keeps); charts=False leaves them out (ReportPanel)
    assert "Plotly.newPlot" in report._repr_html_()
    assert "Plotly.newPlot" not in report.to_html(standalone=False, charts=False)
    assert "Charts" not in report.to_markdown()


def test_hostile_names_cannot_leave_the_chart_script() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    times = [start + timedelta(seconds=10 * i) for i in range(120)]
    rng = np.random.default_rng(0)
    evil = "</script><script>alert(1)</script>"
    rows = []
    for i, t in enumerate(times):
        jump = 5.0 if i >= 90 else 0.0
        rows.append((t, evil, "latency", 10 + rng.normal() + jump))
        rows.append((t, "web", "latency", 20 + rng.normal() + jump))
    metrics = pl.DataFrame(rows, schema=["time", "entity", "metric", "value"], orient="row")
    incident = Incident(Telemetry(metrics), baseline_window=(times[0], times[80]), incident_window=(times[90], times[-1]),
                        alarm="web:latency", name="hostile")
    draft = CausalDraft.from_graph(nx.DiGraph([(f"{evil}:latency", "web:latency")]), alarm="web:latency")
    attribution = attribute(draft, incident)
    report = write_report(incident, attribution=attribution, draft=draft, llm=None)
    page = report.to_html()
    assert "<script>alert(1)" not in page
    assert [f.name for f in report.figures] == ["series", "graph", "scores"]
    assert f"{evil}:latency" in report.figure("graph").shows["nodes"]


def test_figures_need_only_what_they_draw() -> None:
    assert score_figure(None) is None
    g = nx.DiGraph([("a:x", "b:y"), ("b:y", "c:z")])
    fig = graph_figure(g, alarm="c:z")
    assert fig is not None and fig.shows["path"] == [] and sorted(fig.shows["nodes"]) == ["a:x", "b:y", "c:z"]
    with pytest.raises(TypeError, match="CausalDraft or a networkx DiGraph"):
        graph_figure(["not", "a", "graph"])
    incident = load_incident(SAMPLES / "sim-S-gpu-throttle")
    fig = series_figure(incident, nodes=[incident.alarm])
    assert fig is not None and fig.shows["series"] == [incident.alarm]
