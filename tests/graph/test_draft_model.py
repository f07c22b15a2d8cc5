"""CausalDraft and SystemModel: collapse of unobserved nodes, persistence, Atlas input."""

from __future__ import annotations

import networkx as nx
import pytest

from rcakit import DataError
from rcakit.graph import CausalDraft, EdgeStatus, Provenance, SystemModel
from rcakit.graph.system import template_of


def _draft() -> CausalDraft:
    d = CausalDraft(alarm="Client:latency")
    d.add_node("GPU_0:power", observed=False)
    d.add_edge("GPU_0:power", "ModelInference_0:latency", provenance="knowledge", rules=["resource drives service"])
    d.add_edge("Batcher_0:max_batch_size", "GPU_0:power", provenance="llm", votes={"a->b": 4, "none": 1})
    d.add_edge("ModelInference_0:latency", "Client:latency", provenance="knowledge")
    d.add_edge("Queue_0:latency", "Client:latency", provenance="data", status=EdgeStatus.REJECTED)
    return d


def test_unobserved_nodes_collapse_and_remember_where() -> None:
    d = _draft()
    g = d.observed_graph()
    assert "GPU_0:power" not in g
    assert g.edges["Batcher_0:max_batch_size", "ModelInference_0:latency"]["via"] == ["GPU_0:power"]
    assert not g.has_edge("Queue_0:latency", "Client:latency"), "rejected edges never reach the graph"
    assert d.collapsed_places() == {("Batcher_0:max_batch_size", "ModelInference_0:latency"): ["GPU_0:power"]}
    assert "GPU_0:power" in d.confounder_graph()
    assert d.ancestors_of_alarm() == {"Batcher_0:max_batch_size", "ModelInference_0:latency"}


def test_chains_of_unobserved_nodes_collapse_transitively() -> None:
    d = CausalDraft()
    d.add_node("x:u1", observed=False)
    d.add_node("x:u2", observed=False)
    for u, v in (("a:m", "x:u1"), ("x:u1", "x:u2"), ("x:u2", "b:m")):
        d.add_edge(u, v)
    g = d.observed_graph()
    assert list(g.edges()) == [("a:m", "b:m")]
    assert g.edges["a:m", "b:m"]["via"] == ["x:u1", "x:u2"]


def test_merge_reverse_and_round_trip(tmp_path) -> None:
    d = _draft()
    d.add_edge("ModelInference_0:latency", "Client:latency", provenance="llm", votes={"a->b": 3})
    e = d.edge("ModelInference_0:latency", "Client:latency")
    assert e.provenance == [Provenance.KNOWLEDGE, Provenance.LLM]
    d.reverse_edge("ModelInference_0:latency", "Client:latency")
    assert d.has_edge("Client:latency", "ModelInference_0:latency")
    path = d.save(tmp_path / "draft.json")
    back = CausalDraft.load(path)
    assert back.to_dict() == d.to_dict()
    assert back.fingerprint() == d.fingerprint()
    with pytest.raises(DataError, match="reverse edge"):
        back.edge("ModelInference_0:latency", "Client:latency")


def test_fingerprint_changes_with_the_graph() -> None:
    d = _draft()
    before = d.fingerprint()
    d.set_status("ModelInference_0:latency", "Client:latency", "rejected")
    assert d.fingerprint() != before


def test_from_graph_keeps_truth() -> None:
    g = nx.DiGraph([("a:m", "b:m"), ("b:m", "c:m")])
    d = CausalDraft.from_graph(g, alarm="c:m")
    assert set(d.observed_graph().edges()) == set(g.edges())
    assert all(e.status is EdgeStatus.ACCEPTED for e in d.edges.values())


ATLAS = {
    "trace": {
        "request.Client": {"service_description": "client", "resources": {}, "callees": ["Router"]},
        "request.Client.Router": {"service_description": "router", "resources": {}, "callees": ["Queue_0"]},
        "request.Client.Queue_0": {"service_description": "queue", "resources": {}, "callees": []},
        "request.Client.ModelInference_0": {"service_description": "inference", "resources": {"GPU_0": "A100"},
                                            "callees": ["Batcher_0"]},
    },
    "measurements": {
        "Queue": {"request_level": {"latency": "wait", "queue_length": "len"},
                  "service_level": {"throughput": "tp", "enqueueing_rate": "in"},
                  "to_exclude": {"service_level": ["throughput"]}},
        "GPU": {"resource_level": {"utilization": "busy share"}},
    },
}


def test_system_model_from_atlas_input_and_json(tmp_path) -> None:
    m = SystemModel.from_atlas(ATLAS)
    assert m.components["Client"].kind.value == "request"
    assert m.components["GPU_0"].kind.value == "resource"
    assert "Queue_0:throughput" not in m.metrics, "to_exclude is honoured"
    assert {"Queue_0:latency", "Queue_0:queue_length", "GPU_0:utilization"} <= set(m.metrics)
    assert ("Queue_0", "invokes") in [(n, i.kind.value) for n, i in m.neighbors("Router")]
    back = SystemModel.load(m.save(tmp_path / "system.json"))
    assert back.to_dict() == m.to_dict()
    assert template_of("GPU_3") == "GPU" and template_of("Router-Queue_1") == "Router-Queue"
