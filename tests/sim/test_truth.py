"""The model-serving system's topologies, its true graph and its Atlas description (rcakit.sim.truth)."""

from __future__ import annotations

import networkx as nx
import pytest

from rcakit.graph import SystemModel
from rcakit.sim import EDGE_TYPES, Topology, simulate, system_description, true_graph


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
