"""Trace analysis (rcakit.detect.traces) on a synthetic incident: call graph, slow traces, new call paths."""

from __future__ import annotations

import polars as pl
import pytest

from rcakit.detect.traces import analyze_traces, call_counts, call_graph, call_paths, operation_baselines
from rcakit.errors import DataError

from ._synth import STEP, T0


def test_call_graph_counts_calls_between_services(incident) -> None:
    spans = incident.telemetry.spans
    graph = call_graph(spans)
    assert set(graph.edges) == {("frontend", "api"), ("api", "db"), ("api", "cache")}
    assert graph.edges["frontend", "api"]["calls"] == 600  # 60 minutes x 10 traces
    assert graph.edges["api", "cache"]["calls"] == 20
    counts = call_counts(spans)
    assert counts.get_column("calls").sum() == 1220


def test_slow_traces_name_the_slow_services_and_their_excess(incident) -> None:
    analysis = analyze_traces(incident)
    ops = operation_baselines(incident.baseline().spans)
    assert set(ops.get_column("entity")) == {"frontend", "api", "db"}
    assert (ops.get_column("upper") > ops.get_column("mean")).all()
    slow = analysis.slow_traces
    assert slow.height == 20  # max_traces
    first = slow.row(0, named=True)
    assert first["path"] == "frontend -> api -> db"
    assert set(first["slow_entities"]) == {"frontend", "api", "db"}
    db = next(n for n in first["slow_nodes"] if n["entity"] == "db")
    assert db["excess_s"] == pytest.approx(db["duration_s"] - db["upper_s"])
    assert db["excess_s"] > 0.15
    ranking = analysis.entity_ranking()
    assert set(ranking.filter(pl.col("score") > 0.9).get_column("entity")) >= {"db"}
    text = analysis.describe(top=1)
    assert text[0].startswith("The trace call with trace ID")
    assert "db: Call time was" in text[0] and "exceeding the normal upper limit" in text[0]


def test_new_call_paths_and_structural_traces(incident) -> None:
    analysis = analyze_traces(incident)
    assert analysis.new_paths.get_column("path").to_list() == ["frontend -> api -> cache"]
    assert analysis.structural_traces.height == 20
    paths = call_paths(incident.telemetry.spans)
    assert set(paths.get_column("path").unique()) == {"frontend", "frontend -> api", "frontend -> api -> db",
                                                       "frontend -> api -> cache"}
    assert any(line.startswith("There is a structural anomaly in the trace") for line in analysis.describe())


def test_no_spans_in_the_incident_window_is_a_data_error(incident) -> None:
    incident.set_incident_window(T0 + 500 * STEP, T0 + 510 * STEP)
    try:
        with pytest.raises(DataError, match="set_incident_window"):
            analyze_traces(incident)
    finally:
        incident.set_incident_window(T0 + 40 * STEP, T0 + 60 * STEP)
