"""The offline systems-knowledge suggester: meanings, named rules, and graphs an expert would draw."""

from __future__ import annotations

import networkx as nx
import pytest

from rcakit.graph import (
    RULES,
    KnowledgeSuggester,
    Meaning,
    Provenance,
    SystemModel,
    Verdict,
    candidate_pairs,
    compare_graphs,
    draft_graph,
    metric_meaning,
)


@pytest.mark.parametrize(("name", "meaning"), [
    ("kpi_container_cpu_usage_seconds_total", Meaning.UTILIZATION),
    ("latency_p90", Meaning.LATENCY),
    ("PodServerLatencyP90(s)", Meaning.LATENCY),
    ("server_latency_p90", Meaning.LATENCY),
    ("requests_sum", Meaning.THROUGHPUT),
    ("availability_average", Meaning.AVAILABILITY),
    ("error_rate", Meaning.ERROR_RATE),
    ("queue_length", Meaning.SATURATION),
    ("max_batch_size", Meaning.CONFIG),
    ("execution_batch_size", Meaning.BATCH_SIZE),
    ("ram_global_prct", Meaning.MEMORY),
    ("publish_rate_causality_1", Meaning.ENQUEUE_RATE),
    ("container_network_receive_bytes_total", Meaning.NETWORK),
    ("memory_available_bytes", Meaning.MEMORY),
    ("pool_utilization", Meaning.SATURATION),
    ("connection_pool_in_use", Meaning.SATURATION),
    ("max_pool_size", Meaning.CONFIG),
    ("pool_size", Meaning.CONFIG),
])
def test_raw_names_map_to_meanings(name: str, meaning: Meaning) -> None:
    assert metric_meaning(name) is meaning


def test_description_decides_only_when_the_name_says_nothing() -> None:
    assert metric_meaning("m17", "The time taken to serve a request") is Meaning.LATENCY
    assert metric_meaning("m17") is Meaning.UNKNOWN


def _shop() -> tuple[SystemModel, set[tuple[str, str]]]:
    calls = nx.DiGraph([("Website", "API"), ("API", "Auth"), ("API", "Orders"), ("Orders", "OrderDB"),
                        ("Auth", "UserDB"), ("API", "UserDB")])
    nodes = [f"{c}:latency_p90" for c in calls]
    truth = {(f"{b}:latency_p90", f"{a}:latency_p90") for a, b in calls.edges}
    return SystemModel.from_call_graph(calls, nodes), truth


def test_latency_graph_is_the_reversed_call_graph_and_every_edge_names_its_rule() -> None:
    system, truth = _shop()
    draft = draft_graph(system)
    score = compare_graphs(draft, truth)
    assert score.f1 == 1.0 and score.shd == 0
    names = {r.name for r in RULES}
    for edge in draft.edges.values():
        assert edge.rules and set(edge.rules) <= names, edge
        assert edge.rationale and Provenance.KNOWLEDGE in edge.provenance


def test_every_answer_names_its_rule_and_unknown_meanings_abstain() -> None:
    system = SystemModel.from_call_graph(nx.DiGraph([("A", "B")]), ["A:latency", "B:latency", "B:zork"])
    proposals = KnowledgeSuggester().suggest(candidate_pairs(system), system)
    assert proposals
    for p in proposals:
        assert p.rule, p
        assert p.rationale
    by_pair = {frozenset((p.a, p.b)): p for p in proposals}
    assert by_pair[frozenset(("A:latency", "B:latency"))].edge == ("B:latency", "A:latency")
    assert by_pair[frozenset(("B:latency", "B:zork"))].verdict is Verdict.ABSTAIN


def test_caller_request_rate_drives_callee_request_rate_and_errors_flow_to_callers() -> None:
    system = SystemModel.from_call_graph(nx.DiGraph([("front", "back")]),
                                         ["front:requests_sum", "back:requests_sum", "front:errors", "back:errors"])
    edges = set(draft_graph(system, enumerate_unobserved=False).observed_graph().edges)
    assert ("front:requests_sum", "back:requests_sum") in edges
    assert ("back:errors", "front:errors") in edges


def test_middleware_names_alone_give_the_expert_graph() -> None:
    # MoM (EasyVista): a message queue and the host it runs on, no call graph.
    queue = ["consumers", "messages", "publish_rate"]
    host = ["cpu_global_prct", "ram_global_prct", "disk_io_read_mega_byte", "disk_io_write_mega_byte"]
    system = SystemModel.from_nodes([f"causality_1:{m}" for m in queue] + [f"server:{m}" for m in host])
    truth = {(f"causality_1:{c}", "causality_1:messages") for c in ("consumers", "publish_rate")}
    truth |= {(f"causality_1:{c}", f"server:{h}") for c in ("consumers", "publish_rate") for h in host}
    assert compare_graphs(draft_graph(system), truth).f1 == 1.0


def test_resource_and_config_rules() -> None:
    system = SystemModel()
    system.add_metric("Batcher", "max_batch_size")
    system.add_metric("Infer", "execution_batch_size")
    system.add_metric("Infer", "latency")
    system.add_metric("GPU", "utilization")
    system.add_interaction("Infer", "Batcher")
    system.add_interaction("Infer", "GPU", "uses")
    edges = set(draft_graph(system, enumerate_unobserved=False).observed_graph().edges)
    assert ("Batcher:max_batch_size", "Infer:execution_batch_size") in edges
    assert ("Infer:execution_batch_size", "Infer:latency") in edges
    assert ("Infer:latency", "GPU:utilization") in edges
    assert ("GPU:utilization", "Infer:latency") not in edges


@pytest.mark.parametrize("size", ["small", "medium", "large"])
def test_simulator_graph_from_its_description(size: str) -> None:
    from rcakit.sim import Topology, system_description, true_graph

    topo = getattr(Topology, size)()
    draft = draft_graph(SystemModel.from_atlas(system_description(topo)))
    score = compare_graphs(draft, true_graph(topo, hidden=("power",)))
    assert score.f1 >= 0.9, score
    assert nx.is_directed_acyclic_graph(draft.observed_graph())


@pytest.mark.parametrize("family", ["pipeline", "shared_db", "replicated"])
def test_a_simulator_family_the_rules_were_not_written_from_drafts_well(family: str) -> None:
    """The resource, pool and network rules were written from the web-shop family's misses; the other
    three families (other topologies, same simulator) only score them. F1 measured 0.68 / 0.76 / 0.72
    (0.45 / 0.44 / 0.45 before those rules)."""
    from rcakit.sim import TUNING_SEEDS, family_incident

    incident = family_incident(family, "cpu", seed=TUNING_SEEDS[0])
    observed = set(incident.telemetry.nodes())
    truth = incident.truth.graph.subgraph([n for n in incident.truth.graph if n in observed])
    score = compare_graphs(draft_graph(incident), truth)
    assert score.f1 >= 0.65, score
    assert score.recall >= 0.8, score


def test_callee_network_and_latency_reach_the_caller() -> None:
    from rcakit.sim import TUNING_SEEDS, family_incident

    incident = family_incident("replicated", "cpu", seed=TUNING_SEEDS[0])
    edges = set(draft_graph(incident).observed_graph().edges)
    truth = incident.truth.graph
    for cause_metric, effect_metric in (("net_rtt", "latency"), ("latency", "pool_utilization")):
        true_cross = [(a, b) for a, b in truth.edges if a.endswith(":" + cause_metric)
                      and b.endswith(":" + effect_metric) and a.split(":")[0] != b.split(":")[0]]
        assert true_cross, (cause_metric, effect_metric)
        found = [e for e in true_cross if e in edges]
        assert len(found) >= 0.8 * len(true_cross), (cause_metric, effect_metric, len(found), len(true_cross))


def test_knowledge_suggester_is_a_suggester() -> None:
    from rcakit.graph import Suggester

    assert isinstance(KnowledgeSuggester(), Suggester)
