"""Log templates, trace analysis, multimodal features and descriptions on a synthetic incident."""

from __future__ import annotations

import polars as pl
import pytest

from rcakit.detect import detect_anomalies
from rcakit.detect.describe import describe_anomalies
from rcakit.detect.features import entity_features, feature_table
from rcakit.detect.logs import LogTemplateMiner, analyze_logs, mask_messages, prepare_logs, template_counts
from rcakit.detect.traces import analyze_traces, call_counts, call_graph, call_paths, operation_baselines
from rcakit.errors import DataError

from ._synth import STEP, T0, multimodal_incident


@pytest.fixture(scope="module")
def incident():
    return multimodal_incident()


# -- logs ------------------------------------------------------------------------------------------
def test_masks_ids_numbers_ips_hex_and_uuids() -> None:
    frame = pl.DataFrame({"m": ["user 42 from 10.1.2.3:8080 req 123e4567-e89b-12d3-a456-426614174000 "
                                "span 04ba577c01a08838 addr 0xdeadbeef took 3.5 ms"]})
    masked = frame.select(mask_messages(pl.col("m"))).item()
    assert masked == "user <NUM> from <IP> req <UUID> span <HEX> addr <HEX> took <NUM> ms"


def test_json_wrapped_lines_are_unwrapped_and_levels_found() -> None:
    logs = pl.DataFrame({"message": ['{"log":"12:00:01.5 ERROR c.Foo#12 boom\\n","stream":"stdout"}', "plain INFO line"],
                         "level": [None, None]}, schema={"message": pl.String, "level": pl.String})
    prepared = prepare_logs(logs)
    assert prepared.get_column("message").to_list() == ["12:00:01.5 ERROR c.Foo#12 boom", "plain INFO line"]
    assert prepared.get_column("level").to_list() == ["ERROR", "INFO"]


def test_templates_new_and_error_flags_and_tfidf(incident) -> None:
    analysis = analyze_logs(incident)
    templates = analysis.templates
    assert templates.height >= 3
    new = analysis.new_templates()
    assert new.height == 1 and "connection pool exhausted" in new.get_column("example")[0]
    assert new.get_column("is_error")[0]
    assert new.get_column("entities")[0].to_list() == ["db"]
    # db logs two templates in the incident (routine query, new error), both only its own: both rank high
    top = analysis.top_templates("db", 2).get_column("template_id").to_list()
    assert new.get_column("template_id")[0] in top
    api_top = analysis.top_templates("api", 5).get_column("template_id").to_list()
    assert new.get_column("template_id")[0] not in api_top
    keywords = analysis.top_keywords("db", 5).get_column("keyword").to_list()
    assert {"connection", "pool", "exhausted"} & set(keywords)
    lines = analysis.describe()
    assert any("new and error" in line and "db" in line for line in lines)
    assert "LogAnalysis" in analysis._repr_html_()


def test_template_counts_per_entity_per_bin(incident) -> None:
    analysis = analyze_logs(incident, freq="5m")
    counts = analysis.counts
    per_bin = counts.group_by("time").agg(pl.col("count").sum()).sort("time")
    assert per_bin.height == 12  # 60 minutes in 5-minute bins
    assert counts.get_column("count").sum() == analysis.lines.height
    direct = template_counts(analysis.lines.select("time", "entity", "template_id"), "10m")
    assert direct.get_column("count").sum() == analysis.lines.height


def test_miner_state_saves_and_loads(tmp_path, incident) -> None:
    miner = LogTemplateMiner()
    mined = miner.fit(incident.telemetry.logs)
    path = miner.save(tmp_path / "templates.json")
    restored = LogTemplateMiner.load(path)
    assert restored.templates().equals(miner.templates())
    again = restored.assign(incident.telemetry.logs)
    assert again.get_column("template_id").to_list() == mined.get_column("template_id").to_list()
    unseen = restored.assign(pl.DataFrame({"message": ["completely different words here"]}))
    assert unseen.get_column("template_id").to_list() == [-1]
    with pytest.raises(DataError, match="no log-template state"):
        LogTemplateMiner.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(DataError, match="not JSON"):
        LogTemplateMiner.load(tmp_path / "bad.json")


def test_logs_without_lines_in_either_window_is_a_data_error(incident) -> None:
    far = (T0 + 1000 * STEP, T0 + 1001 * STEP)
    with pytest.raises(DataError, match="no log lines"):
        analyze_logs(incident.telemetry, baseline_window=far, incident_window=(T0 + 1002 * STEP, T0 + 1003 * STEP))


# -- traces ----------------------------------------------------------------------------------------
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


# -- features --------------------------------------------------------------------------------------
def test_entity_features_align_all_modalities(incident) -> None:
    tables = entity_features(incident, freq="1m")
    assert set(tables) == {"frontend", "api", "db", "cache"}
    db = tables["db"]
    assert db.height == 60 and db.get_column("time").is_sorted()
    assert {"cpu", "latency", "log.lines", "log.errors", "log.new_templates", "trace.latency_mean",
            "trace.calls"} <= set(db.columns)
    assert all(t.height == 60 for t in tables.values())
    assert db.filter(pl.col("time") < T0 + 40 * STEP).get_column("log.errors").sum() == 0
    assert db.filter(pl.col("time") >= T0 + 40 * STEP).get_column("log.errors").sum() > 0
    assert db.get_column("trace.calls").sum() == 600
    # cache has spans only in the incident: its call count is 0 where traces were observed, not null
    assert tables["cache"].get_column("trace.calls").null_count() == 0
    long = feature_table(incident, freq="1m")
    assert set(long.columns) == {"time", "entity", "feature", "value"}


# -- descriptions ----------------------------------------------------------------------------------
def test_descriptions_at_three_levels_are_deterministic(incident) -> None:
    anomalies = detect_anomalies(incident)
    series = describe_anomalies(anomalies, level="series")
    assert series == describe_anomalies(detect_anomalies(incident), level="series")
    assert series[0].startswith("The ") and "is abnormal, displaying an anomaly pattern characterized by" in series[0]
    for needle in ("began on", "ended at", "duration", "peak of", "previous value", "%)", "anomaly score is"):
        assert needle in series[0]
    entity = anomalies.describe("entity")
    assert entity[0].startswith("db: ")
    assert len(anomalies.describe("incident")) == 1
    with pytest.raises(DataError, match="level"):
        anomalies.describe("everything")
