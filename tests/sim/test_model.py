"""Topologies, the true graph, the Atlas description, determinism and input validation."""

from __future__ import annotations

import networkx as nx
import polars as pl
import pytest

from rcakit.errors import DataError
from rcakit.graph import SystemModel
from rcakit.sim import (
    EDGE_TYPES,
    BatchSizeMisconfig,
    ErrorBurst,
    GpuThrottle,
    NetworkSlowdown,
    Topology,
    WorkloadSpike,
    simulate,
    system_description,
    true_graph,
)


@pytest.mark.parametrize(("topology", "gpus", "nodes"), [
    (Topology.small(), 1, 19), (Topology.medium(), 4, 40), (Topology.large(), 8, 74), (Topology.of(3, 2), 6, 66),
])
def test_topologies_and_their_graphs(topology: Topology, gpus: int, nodes: int) -> None:
    assert topology.n_gpus == gpus
    graph = true_graph(topology)
    assert nx.is_directed_acyclic_graph(graph)
    assert graph.number_of_nodes() == nodes
    assert all(data["why"] for _, _, data in graph.edges(data=True))
    # every metric the simulator reports (with nothing hidden) is a node of the true graph, and back
    tel = simulate(topology, duration="2min", seed=1, hide=(), logs=False, trace_sample=None)
    assert set(tel.nodes()) == set(graph.nodes)
    # everything upstream of the alarm reaches it; the workload and GPU capacity are roots
    assert "Client:request_rate" in nx.ancestors(graph, "Client:latency")
    assert all(f"GPU_{g}:power" in nx.ancestors(graph, "Client:latency") for g in range(gpus))
    assert graph.in_degree("Client:request_rate") == 0


def test_edge_types_are_all_used_and_explained() -> None:
    graph = true_graph(Topology.large())
    used = {data["type"] for _, _, data in graph.edges(data=True)}
    assert used == {f"{c} -> {e}" for c, e, _, _ in EDGE_TYPES}
    # replicas connect only within their worker / GPU
    assert graph.has_edge("GPU_5:power", "ModelInference_5:latency")
    assert not graph.has_edge("GPU_5:power", "ModelInference_4:latency")
    assert graph.has_edge("ModelInference_5:latency", "Queue_1:dequeueing_rate")
    assert not graph.has_edge("ModelInference_5:latency", "Queue_0:dequeueing_rate")


def test_hidden_nodes_are_collapsed() -> None:
    full = true_graph(Topology.small())
    hidden = true_graph(Topology.small(), hidden=("power",))
    assert "GPU_0:power" in full and "GPU_0:power" not in hidden
    assert set(full.nodes) - set(hidden.nodes) == {"GPU_0:power"}
    tel = simulate(Topology.small(), duration="1min", seed=1, logs=False, trace_sample=None)
    assert "GPU_0:power" not in tel.nodes()
    assert set(tel.nodes()) == set(hidden.nodes)


def test_system_description_reads_as_atlas_input() -> None:
    doc = system_description(Topology.large())
    assert doc["atlas_version"] == 1 and set(doc) == {"atlas_version", "trace", "measurements", "common_metrics"}
    assert doc["trace"]["request.Client.ModelInference_5"]["resources"] == {"GPU_5": "An A100 GPU"}
    assert doc["trace"]["request.Client.ModelInference_5"]["callees"] == ["Batcher_1", "ModelInference_5-Client"]
    assert "power" not in doc["measurements"]["GPU"]["resource_level"]     # hidden by default
    assert "power" in doc["common_metrics"]["resource"]["resource_level"]  # but enumerable
    model = SystemModel.from_atlas(doc)
    observed = set(simulate(Topology.large(), duration="1min", seed=1, logs=False, trace_sample=None).nodes())
    described = {m.node for m in model.metrics.values()}
    assert described == observed


def test_same_seed_same_telemetry() -> None:
    faults = (ErrorBurst("ModelInference_1", start=30, duration=60, magnitude=0.2),
              NetworkSlowdown("Router", "Queue_0", start=20, duration=30))
    one = simulate(Topology.medium(), duration="2min", seed=42, faults=faults, trace_sample=10)
    two = simulate(Topology.medium(), duration="2min", seed=42, faults=faults, trace_sample=10)
    other = simulate(Topology.medium(), duration="2min", seed=43, faults=faults, trace_sample=10)
    for kind in ("metrics", "logs", "spans"):
        assert getattr(one, kind).height > 0
        assert getattr(one, kind).equals(getattr(two, kind)), kind
    assert not one.metrics.equals(other.metrics)


def test_metrics_are_on_a_regular_grid() -> None:
    tel = simulate(Topology.small(), duration="5min", seed=3, step="30s", logs=False, trace_sample=None)
    times = tel.metrics.get_column("time").unique().sort()
    assert times.len() == 10
    assert set(times.diff().drop_nulls().dt.total_seconds().to_list()) == {30}
    rates = tel.series("Client:request_rate").get_column("value")
    assert 45 < rates.mean() < 75          # the default S rate is 60 requests/s


def test_traces_have_one_span_per_component_and_a_tree() -> None:
    tel = simulate(Topology.small(), duration="1min", seed=3, trace_sample=50, logs=False)
    spans = tel.spans
    per_trace = spans.group_by("trace_id").agg(pl.len().alias("n"), pl.col("parent_id").null_count().alias("roots"))
    assert per_trace.get_column("n").unique().to_list() == [8]
    assert per_trace.get_column("roots").unique().to_list() == [1]
    ids = set(spans.get_column("span_id").to_list())
    assert set(spans.get_column("parent_id").drop_nulls().to_list()) <= ids
    assert (spans.get_column("end") >= spans.get_column("start")).all()
    # the client's span covers the whole request
    client = spans.filter(pl.col("entity") == "Client").select("trace_id", "start", "end")
    inner = spans.group_by("trace_id").agg(pl.col("start").min().alias("lo"), pl.col("end").max().alias("hi"))
    joined = client.join(inner, on="trace_id")
    assert (joined.get_column("start") == joined.get_column("lo")).all()
    assert (joined.get_column("end") == joined.get_column("hi")).all()


@pytest.mark.parametrize(("make", "fragment"), [
    (lambda: NetworkSlowdown("Router", "Queue_7"), "no network link 'Router-Queue_7'"),
    (lambda: NetworkSlowdown("Queue_0", "Batcher_0"), "no network link"),
    (lambda: GpuThrottle("GPU_9"), "GPU_<g>"),
    (lambda: BatchSizeMisconfig("Queue_0"), "Batcher_<w>"),
    (lambda: ErrorBurst("GPU_0"), "ModelInference_<g>"),
])
def test_faults_on_missing_components_are_refused(make, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match=fragment):
        simulate(Topology.small(), duration="1min", faults=(make(),))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(DataError, match="magnitude"):
        WorkloadSpike(magnitude=-1)
    with pytest.raises(DataError, match="probability"):
        ErrorBurst(magnitude=3)
    with pytest.raises(DataError, match="whole number"):
        BatchSizeMisconfig(magnitude=2.5)
    with pytest.raises(DataError, match="rate"):
        simulate(Topology.small(), duration="1min", rate=0)
    with pytest.raises(DataError, match="duration"):
        simulate(Topology.small(), duration="soon")
    with pytest.raises(DataError, match="workers"):
        Topology.of(0, 4)
    with pytest.raises(TypeError, match="Topology"):
        simulate("S", duration="1min")  # type: ignore[arg-type]


def test_simulated_tables_are_already_canonical() -> None:
    """The simulator skips validation for speed; re-validating must change nothing."""
    from rcakit.telemetry import Telemetry

    tel = simulate(Topology.small(), duration="1min", seed=1, trace_sample=10,
                   faults=(ErrorBurst(duration=30, magnitude=0.3),))
    again = Telemetry(tel.metrics, tel.logs, tel.spans)
    for kind in ("metrics", "logs", "spans"):
        assert getattr(again, kind).equals(getattr(tel, kind)), kind
    assert set(tel.logs.get_column("level").unique().to_list()) == {"INFO", "WARNING", "ERROR"}
