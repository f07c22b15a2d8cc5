"""Candidate pairs stay within interacting components; enumeration adds usual-but-unreported metrics."""

from __future__ import annotations

import random

import networkx as nx

from rcakit.graph import SystemModel, candidate_pairs, draft_graph, enumerate_metrics, interaction_map
from rcakit.telemetry._schema import split_node


def _random_system(seed: int) -> SystemModel:
    rng = random.Random(seed)
    g = nx.gn_graph(12, seed=seed).reverse()  # a tree of callers -> callees
    metrics = ["latency", "requests_total", "error_rate", "cpu_usage", "queue_length"]
    nodes = [f"svc{n}:{m}" for n in g.nodes for m in rng.sample(metrics, rng.randint(1, 4))]
    return SystemModel.from_call_graph(nx.relabel_nodes(g, {n: f"svc{n}" for n in g.nodes}), nodes)


def test_candidates_never_pair_non_interacting_components() -> None:
    for seed in range(5):
        system = enumerate_metrics(_random_system(seed))
        calls = system.call_graph().to_undirected()
        pairs = candidate_pairs(system)
        assert pairs
        seen = set()
        for p in pairs:
            ea, eb = split_node(p.a)[0], split_node(p.b)[0]
            assert ea == eb or calls.has_edge(ea, eb), (p, seed)
            assert (p.relation == "same") == (ea == eb)
            assert p.key() not in seen
            seen.add(p.key())


def test_cross_pairs_are_oriented_from_the_caller() -> None:
    system = SystemModel.from_call_graph(nx.DiGraph([("A", "B")]), ["A:latency", "B:latency"])
    (pair,) = [p for p in candidate_pairs(system) if p.relation != "same"]
    assert (pair.a, pair.b, pair.relation) == ("A:latency", "B:latency", "invokes")


def test_enumeration_adds_unobserved_metrics_of_new_meanings_only() -> None:
    system = SystemModel.from_call_graph(nx.DiGraph([("A", "B")]), ["A:latency_p90", "B:requests_sum"])
    system.add_interaction("B", "host", "uses")
    system.add_metric("host", "cpu_usage")
    out = enumerate_metrics(system)
    unobserved = set(out.unobserved_nodes())
    assert "A:latency" not in unobserved  # A reports a latency already
    assert "A:throughput" in unobserved and "B:latency" in unobserved
    assert "B:throughput" not in unobserved  # requests_sum is its request rate
    assert {"host:power", "host:memory"} <= unobserved and "host:utilization" not in unobserved
    assert system.unobserved_nodes() == []  # the input is left alone


def test_unobserved_nodes_collapse_and_their_places_are_recorded() -> None:
    system = SystemModel()
    system.add_metric("svc", "requests_total")
    system.add_metric("svc", "latency")
    system.add_interaction("svc", "gpu", "uses")
    system.add_metric("gpu", "utilization", observed=False)
    system.add_metric("gpu", "power")
    draft = draft_graph(system, enumerate_unobserved=False)
    assert "gpu:utilization" in draft.unobserved()
    observed = draft.observed_graph()
    assert "gpu:utilization" not in observed
    assert draft.confounder_graph().has_node("gpu:utilization")


def test_links_queues_and_requests_from_an_atlas_description() -> None:
    from rcakit.sim import Topology, system_description

    system = SystemModel.from_atlas(system_description(Topology.small()))
    imap = interaction_map(system)
    assert {"Client-Router", "Router-Queue_0", "ModelInference_0-Client"} <= imap.links
    assert imap.response_links == {"ModelInference_0-Client"}
    assert imap.queues == {"Queue_0"}
    assert imap.relation("ModelInference_0", "Queue_0") == ("consumes", True)
    assert imap.relation("Client", "Queue_0") == ("request_path", True)
