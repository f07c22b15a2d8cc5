from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from rcakit._progress import Cancelled, CancelToken
from rcakit.attribution import AttributionConfig, Method, attribute, classify_fault, fit
from rcakit.attribution._scores import additive_units
from rcakit.errors import DataError, GraphChangedError

from .conftest import make_scm_incident


@pytest.mark.parametrize("root", ["cache:latency", "db:latency", "auth:latency"])
@pytest.mark.parametrize("seed", [0, 1])
def test_injected_root_cause_ranks_first(root: str, seed: int, scm_graph: nx.DiGraph) -> None:
    incident = make_scm_incident(root, seed=seed)
    result = attribute(scm_graph, incident, config=AttributionConfig(n_bootstrap=10, seed=seed))
    assert result.final
    assert result.causes[0].node == root
    assert result.causes[0].path[-1] == "web:latency"
    assert result.rank_of(root.split(":")[0]) == 1  # entity aggregation


def test_graph_free_references_rank_an_anomalous_node(scm_incident, scm_graph) -> None:
    for method in (Method.ROBUST_Z, Method.N_SIGMA):
        result = attribute(None, scm_incident, method=method, config=AttributionConfig(n_bootstrap=5))
        assert result.method == method.value
        assert result.causes[0].score >= result.causes[-1].score
        top = {c.node for c in result.top(4)}
        assert "cache:latency" in top


def test_intervals_bracket_scores(scm_incident, scm_graph) -> None:
    result = attribute(scm_graph, scm_incident, config=AttributionConfig(n_bootstrap=20, seed=3))
    top = result.causes[0]
    assert top.low <= top.score <= top.high or abs(top.score - top.low) < 1e-9


def test_partial_results_arrive_before_the_final_one(scm_incident, scm_graph) -> None:
    seen = []
    result = attribute(scm_graph, scm_incident, on_progress=seen.append, config=AttributionConfig(n_bootstrap=3))
    assert len(seen) >= 2
    assert not any(p.final for p in seen)
    assert seen[0].stage == "quick"
    assert result.final and result.stage == "final"


def test_cancel_stops_the_run(scm_incident, scm_graph) -> None:
    token = CancelToken()

    def stop(_partial) -> None:
        token.cancel()

    with pytest.raises(Cancelled):
        attribute(scm_graph, scm_incident, on_progress=stop, cancel=token)


def test_fitted_model_refuses_a_changed_graph_and_refits_only_changed_nodes(scm_incident, scm_graph) -> None:
    model = fit(scm_graph, scm_incident)
    result = attribute(scm_graph, scm_incident, model=model, config=AttributionConfig(n_bootstrap=0))
    assert result.causes[0].node == "cache:latency"
    changed = scm_graph.copy()
    changed.remove_edge("db:latency", "auth:latency")
    with pytest.raises(GraphChangedError):
        attribute(changed, scm_incident, model=model)
    updated = model.update(changed)
    assert updated.refitted == ["auth:latency"]
    assert updated.linear["api:latency"] is model.linear["api:latency"]
    again = attribute(changed, scm_incident, model=updated, config=AttributionConfig(n_bootstrap=0))
    assert again.causes[0].node == "cache:latency"


def test_ate_scores_are_normalized(scm_incident, scm_graph) -> None:
    result = attribute(scm_graph, scm_incident, method=Method.ATE, config=AttributionConfig(n_bootstrap=0))
    total = sum(c.score for c in result.causes)
    assert total == pytest.approx(1.0)
    assert "cache:latency" in {c.node for c in result.top(2)}


def test_unobserved_node_on_the_path_is_named(scm_incident) -> None:
    graph = nx.DiGraph()
    graph.add_edge("cache:latency", "api:latency", via=["cache:evictions"])
    graph.add_edge("db:latency", "api:latency", via=[])
    graph.add_edge("api:latency", "web:latency", via=[])
    result = attribute(graph, scm_incident, config=AttributionConfig(n_bootstrap=0))
    assert result.causes[0].node == "cache:latency"
    assert "cache:evictions" in result.unobserved_culprits
    assert any("cache:evictions, unmeasured, may be the cause" in line for line in result.explanations())


def test_result_exports_and_escapes(scm_incident, scm_graph) -> None:
    graph = nx.relabel_nodes(scm_graph, {"cache:latency": "<b>cache</b>:latency"})
    frame = scm_incident.telemetry.metrics
    import polars as pl

    from rcakit.telemetry import Incident, Telemetry

    tel = Telemetry(frame.with_columns(pl.col("entity").replace("cache", "<b>cache</b>")), validated=True)
    inc = Incident(tel, scm_incident.baseline_window, scm_incident.incident_window, alarm="web:latency")
    result = attribute(graph, inc, config=AttributionConfig(n_bootstrap=0))
    html = result._repr_html_()
    assert "<b>cache</b>" not in html and "&lt;b&gt;cache&lt;/b&gt;" in html
    df = result.to_frame()
    assert list(df["rank"]) == list(range(1, len(df) + 1))
    assert result.to_dict()["causes"][0]["node"] == result.causes[0].node


def test_missing_alarm_is_a_clear_error(scm_incident, scm_graph) -> None:
    scm_incident.alarm = None
    with pytest.raises(DataError, match="alarm"):
        attribute(scm_graph, scm_incident)


def test_cycle_is_refused_with_a_hint(scm_incident, scm_graph) -> None:
    cyclic = scm_graph.copy()
    cyclic.add_edge("web:latency", "db:latency")
    with pytest.raises(DataError, match="cycle"):
        fit(cyclic, scm_incident)


def test_fault_type_from_metric_meanings() -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    base = pd.DataFrame({"svc:cpu_usage": rng.normal(1, 0.05, 100), "svc:latency_p90": rng.normal(10, 0.5, 100),
                         "svc:memory_usage": rng.normal(300, 5, 100)})
    cpu = base.iloc[:5].copy() + 0
    cpu["svc:cpu_usage"] = 3.0
    cpu["svc:latency_p90"] = 20.0
    assert classify_fault((base, cpu), "svc").fault_type == "cpu_contention"
    net = base.iloc[:5].copy() + 0
    net["svc:latency_p90"] = 30.0
    assert classify_fault((base, net), "svc").fault_type == "network_delay"


@pytest.mark.slow
def test_dowhy_attribute_anomalies_finds_the_injected_cause(scm_graph) -> None:
    incident = make_scm_incident("cache:latency", n_inc=2)
    result = attribute(scm_graph, incident, method=Method.ANOMALY_ATTRIBUTION,
                       config=AttributionConfig(n_jobs=1, num_distribution_samples=300))
    assert result.causes[0].node == "cache:latency"


def _unit_mismatch_frames(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A:value (scale ~0.001) drives B:value (scale ~1, 1000x larger), which drives four C nodes.

    A's fault is a 40-sigma shift of 0.04; it moves B by 6 (6 sigma) and every C with it. In raw units
    A's shift is tiny next to B's, in its own units it is far larger: A is the root cause.
    """
    rng = np.random.default_rng(seed)
    n_base, n_inc = 300, 6
    n = n_base + n_inc
    a = rng.normal(0.01, 0.001, n)
    a[n_base:] += 0.04
    b = 10.0 + 150.0 * (a - 0.01) + rng.normal(0.0, 1.0, n)
    frame = pd.DataFrame({"A:value": a, "B:value": b}
                         | {f"C{i}:value": b + rng.normal(0.0, 1.0, n) for i in range(4)})
    return frame.iloc[:n_base].reset_index(drop=True), frame.iloc[n_base:].reset_index(drop=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shared_metric_name_does_not_mean_shared_units(seed: int) -> None:
    """Nodes whose metric is called ``value`` on every entity are compared in z, not in raw amounts."""
    graph = nx.DiGraph([("A:value", "B:value")] + [("B:value", f"C{i}:value") for i in range(4)])
    base, inc = _unit_mismatch_frames(seed)
    result = attribute(graph, (base, inc), alarm="C0:value",
                       config=AttributionConfig(n_bootstrap=0, fault_type=False))
    assert result.causes[0].node == "A:value"
    assert result.rank_of("B:value") == 2


def test_only_latencies_of_the_same_metric_are_compared_in_raw_units() -> None:
    assert additive_units("api:latency", "db:latency")
    assert additive_units("api:request_duration_seconds", "db:request_duration_seconds")
    assert not additive_units("bolt1:value", "bolt2:value")
    assert not additive_units("api:latency", "db:latency_p99")
    assert not additive_units("api:error_rate", "db:error_rate")


def test_randomness_comes_from_the_passed_generator_and_leaves_numpys_global_stream_alone(scm_graph) -> None:
    """Intervals repeat for the same generator seed, differ for another, and DoWhy's sampling does not move the
    caller's global NumPy stream."""
    incident = make_scm_incident("db:latency", seed=0)
    cfg = AttributionConfig(n_bootstrap=8, num_distribution_samples=100)

    def intervals(rng: np.random.Generator | int) -> list[tuple[float, float]]:
        return [(c.low, c.high) for c in attribute(scm_graph, incident, config=cfg, rng=rng).causes]

    assert intervals(np.random.default_rng(5)) == intervals(5)
    assert intervals(5) != intervals(6)
    np.random.seed(123)
    expected = np.random.random_sample(3)
    np.random.seed(123)
    result = attribute(scm_graph, incident, method=Method.ANOMALY_ATTRIBUTION, config=cfg, rng=7)
    assert result.causes[0].node == "db:latency"
    assert np.array_equal(np.random.random_sample(3), expected)


def test_a_slow_consumer_not_the_queue_it_fills_is_the_root_cause() -> None:
    """A backlog integrates: a small lasting slowdown of its consumer fills the queue far beyond its own spread.
    The consumer explains all of it and ranks first, though the queue's z is larger."""
    rng = np.random.default_rng(4)
    n_base, n_inc = 120, 30
    consumer = np.r_[rng.normal(50, 2, n_base), rng.normal(62, 2, n_inc)]  # ms per message, +6 sigma
    backlog = np.r_[rng.normal(10, 1, n_base), 10 + np.cumsum(np.full(n_inc, 4.0)) + rng.normal(0, 1, n_inc)]
    producer = np.r_[rng.normal(100, 3, n_base), 100 + 0.3 * backlog[n_base:] + rng.normal(0, 3, n_inc)]
    frame = pd.DataFrame({"consumer:latency": consumer, "queue:queue_length": backlog, "producer:latency": producer})
    graph = nx.DiGraph([("consumer:latency", "queue:queue_length"), ("queue:queue_length", "producer:latency")])
    result = attribute(graph, (frame.iloc[:n_base], frame.iloc[n_base:]), alarm="producer:latency",
                       config=AttributionConfig(n_bootstrap=0))
    assert result.causes[0].node == "consumer:latency"
    anomaly = {c.node: c.anomaly for c in result.causes}
    assert anomaly["queue:queue_length"] > anomaly["consumer:latency"]


@pytest.mark.parametrize(("fault", "target", "seed"), [("disk", "warehouse-db", 5), ("cpu", "writer", 2),
                                                       ("cpu", "enricher", 2)])
def test_a_queues_wait_and_rejects_are_its_backlogs_doing(fault: str, target: str, seed: int) -> None:
    """A slow consumer backs up the queue in front of it: the time a message waits there grows with the backlog
    (Little's law) and a full queue rejects publishes. Both move far more, each in its own spread, than the
    consumer's metrics; with the backlog behind them anomalous they are its doing, and the consumer ranks first."""
    from rcakit.graph import draft_graph
    from rcakit.sim import families

    inc = families.family_incident("pipeline", fault, seed=seed, target=target)
    result = attribute(draft_graph(inc, alarm=inc.alarm), inc, config=AttributionConfig(n_bootstrap=0, fault_type=False))
    assert result.causes[0].entity == target
    anomaly = {c.node: c.anomaly for c in result.causes}
    waits = [n for n in anomaly if n.split(":")[0].endswith("-queue") and n.split(":")[1] in ("latency", "error_rate")]
    assert max(anomaly[n] for n in waits) > max(v for n, v in anomaly.items() if n.startswith(f"{target}:"))
