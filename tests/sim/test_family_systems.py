"""The four systems of the simulator families (rcakit.sim._family_systems) and their true graphs
(rcakit.sim._family_truth): well-formed topologies, the metrics each kind of entity reports."""

from __future__ import annotations

import networkx as nx
import pytest

from rcakit.errors import DataError
from rcakit.sim._family_systems import BROKER_METRICS, SERVICE_METRICS, metric_names
from rcakit.sim.families import FAMILIES, family_topology, true_family_graph


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_is_a_well_formed_call_tree_reached_from_its_entry(family: str) -> None:
    small, medium = family_topology(family, "S"), family_topology(family, "M")
    assert 10 <= len(small.services) <= 13 and 12 <= len(medium.services) <= 17
    assert len(medium.services) > len(small.services)
    for topo in (small, medium):
        calls = nx.DiGraph(topo.edges())
        assert set(calls.nodes) <= set(topo.services)
        assert nx.is_directed_acyclic_graph(calls)
        assert set(topo.services) - {topo.entry} <= nx.descendants(calls, topo.entry) | {
            n for n, s in topo.services.items() if s.load > 0}   # background jobs call in from outside
        for svc in topo.services.values():
            if svc.kind == "broker":
                assert svc.consumer in topo.services
            if svc.kind == "lb":
                assert svc.backends and all(b in topo.services for b in svc.backends)


@pytest.mark.parametrize("family", FAMILIES)
def test_entities_report_the_metrics_of_their_kind_and_the_truth_covers_them(family: str) -> None:
    topo = family_topology(family, "M")
    graph = true_family_graph(topo)
    for name, svc in topo.services.items():
        names = metric_names(svc)
        if not svc.instrumented:
            assert names == ("latency", "errors")
        elif svc.kind == "broker":
            assert names == BROKER_METRICS
        else:
            assert set(SERVICE_METRICS) <= set(names) and (("disk_io" in names) == bool(svc.disk_cost))
        assert {f"{name}:{m}" for m in names} <= set(graph.nodes)
    assert set(graph.nodes) == {f"{n}:{m}" for n, s in topo.services.items() for m in metric_names(s)}
    assert all(data["why"] for _, _, data in graph.edges(data=True))


def test_unknown_family_or_size_names_the_choices() -> None:
    with pytest.raises(DataError, match="unknown family 'bank'"):
        family_topology("bank")
    with pytest.raises(DataError, match="Choose one of 'S', 'M'"):
        family_topology("webshop", "XL")
