"""Detection on the shared datasets (Nezha TrainTicket day, PetShop low_traffic). Slow: run with --all."""

from __future__ import annotations

import time

import polars as pl
import pytest

from rcakit.detect import Modality, detect_anomalies
from rcakit.detect.features import entity_features
from rcakit.detect.logs import analyze_logs
from rcakit.detect.traces import analyze_traces

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def nezha(nezha_dir):
    from rcakit.telemetry.datasets import load_nezha

    return load_nezha(nezha_dir)


@pytest.fixture(scope="module")
def petshop(petshop_dir):
    from rcakit.telemetry.datasets import load_petshop

    return load_petshop(petshop_dir)


def test_petshop_root_cause_is_anomalous_and_ranks_high(petshop) -> None:
    ranks, flagged = [], 0
    for incident in petshop:
        anomalies = detect_anomalies(incident)
        truth = incident.root_cause_entities[0]
        flagged += truth in anomalies.anomalous_entities()
        ranks.append(anomalies.entity_rank(truth) or 99)
        assert anomalies.to_frame().get_column("score").drop_nulls().is_finite().all()
    n = len(petshop)
    assert flagged / n >= 0.8, f"root cause anomalous in only {flagged}/{n} issues"
    assert sum(r <= 5 for r in ranks) / n >= 0.6, f"ranks {ranks}"


def test_nezha_cpu_contention_shows_in_the_injected_service(nezha) -> None:
    cpu = [i for i in nezha if i.truth and i.truth.fault_type == "cpu_contention"]
    assert cpu
    for incident in cpu:
        anomalies = detect_anomalies(incident)
        truth = incident.root_cause_entities[0]
        assert truth in anomalies.anomalous_entities()
        flagged = anomalies.anomalous().filter(pl.col("entity") == truth).get_column("metric").to_list()
        assert any(m.startswith("cpu") for m in flagged), flagged
        assert anomalies.entity_rank(truth) <= 5


def test_nezha_logs_are_unwrapped_and_mined_into_few_templates(nezha) -> None:
    incident = nezha[0]
    analysis = analyze_logs(incident)
    assert 10 <= analysis.templates.height <= 500
    assert not analysis.lines.get_column("message").str.starts_with('{"log"').any()
    assert analysis.template_tfidf.get_column("entity").n_unique() >= 10


def test_nezha_traces_call_graph_and_slow_traces(nezha) -> None:
    incident = nezha[0]
    analysis = analyze_traces(incident)
    graph = analysis.graph
    assert graph.has_node("ts-gateway-service")
    assert graph.out_degree("ts-gateway-service") >= 5
    assert all(d["calls"] > 0 for _, _, d in graph.edges(data=True))
    assert analysis.operations.height > 50
    assert analysis.slow_traces.height > 0
    assert analysis.slow_traces.get_column("path")[0].startswith("ts-gateway-service")
    text = analysis.describe(top=2)
    assert text and "exceeding the normal upper limit" in text[0]


def test_nezha_day_featurizes_all_modalities_per_entity(nezha) -> None:
    tel = nezha[0].telemetry
    t0 = time.perf_counter()
    tables = entity_features(tel, freq="1m")
    elapsed = time.perf_counter() - t0
    assert len(tables) >= 46
    basic = tables["ts-basic-service"]
    assert {"cpu_usage", "log.lines", "trace.calls", "trace.latency_mean"} <= set(basic.columns)
    assert len({t.height for t in tables.values()}) == 1
    assert elapsed < 60, f"featurizing took {elapsed:.1f} s"  # the benchmark tracks the 20 s target


def test_nezha_multimodal_detection_runs_with_reference_baseline(nezha) -> None:
    from rcakit.detect import DetectConfig

    incident = nezha[3]
    anomalies = detect_anomalies(incident, config=DetectConfig(modalities=(Modality.METRICS, Modality.LOGS,
                                                                           Modality.TRACES)))
    kinds = set(anomalies.to_frame().get_column("modality"))
    assert kinds == {"metrics", "logs", "traces"}
    assert anomalies.to_frame().get_column("score").drop_nulls().is_finite().all()
