from __future__ import annotations

import networkx as nx
import pytest

from rcakit.attribution import AttributionConfig, Method, attribute, fit
from rcakit.graph.draft import CausalDraft

from .conftest import EDGES, make_scm_incident


def test_causal_draft_input_names_the_collapsed_unobserved_node() -> None:
    incident = make_scm_incident("cache:latency")
    graph = nx.DiGraph(EDGES)
    graph.remove_edge("cache:latency", "api:latency")
    graph.add_edge("cache:latency", "cache:evictions")
    graph.add_edge("cache:evictions", "api:latency")
    draft = CausalDraft.from_graph(graph, alarm="web:latency", unobserved=["cache:evictions"])
    result = attribute(draft, incident, config=AttributionConfig(n_bootstrap=0))
    assert result.causes[0].node == "cache:latency"
    assert result.unobserved_culprits == ["cache:evictions"]
    assert "cache:evictions, unmeasured, may be the cause" in result._repr_html_()


def test_alarm_comes_from_the_draft_when_the_incident_has_none() -> None:
    incident = make_scm_incident("db:latency")
    incident.alarm = None
    draft = CausalDraft.from_graph(nx.DiGraph(EDGES), alarm="web:latency")
    assert attribute(draft, incident, config=AttributionConfig(n_bootstrap=0)).causes[0].node == "db:latency"


@pytest.mark.slow
def test_dowhy_mechanisms_are_reused_after_a_review_decision() -> None:
    incident = make_scm_incident("cache:latency", n_inc=2)
    graph = nx.DiGraph(EDGES)
    model = fit(graph, incident)
    cfg = AttributionConfig(num_distribution_samples=200, n_bootstrap=0)
    first = attribute(graph, incident, model=model, method=Method.ANOMALY_ATTRIBUTION, config=cfg)
    assert first.causes[0].node == "cache:latency"
    nodes = sorted(nx.ancestors(model.graph, "web:latency") | {"web:latency"})
    old_scm = model.dowhy_scm(nodes)
    changed = graph.copy()
    changed.remove_edge("db:latency", "auth:latency")
    updated = model.update(changed)
    new_scm = updated.dowhy_scm(nodes)
    assert new_scm.causal_mechanism("api:latency") is old_scm.causal_mechanism("api:latency")
    assert new_scm.causal_mechanism("auth:latency") is not old_scm.causal_mechanism("auth:latency")
    second = attribute(changed, incident, model=updated, method=Method.ANOMALY_ATTRIBUTION, config=cfg)
    assert second.causes[0].node == "cache:latency"
