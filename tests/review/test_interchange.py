"""Graph interchange: a reviewed draft out to networkx, node-link JSON, DOT, GML, DoWhy and causal-learn, and a
user's graph in; round trips keep nodes, edges, statuses and attributes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from rcakit.errors import DataError
from rcakit.graph import CausalDraft
from rcakit.review import (
    ReviewSession,
    export,
    export_graph,
    from_causallearn,
    from_dot,
    from_networkx,
    import_graph,
    to_background_knowledge,
    to_dowhy,
    to_networkx,
)
from tests.review.conftest import make_draft

HOSTILE = 'evil"<b>:lat"ency\nline'


def _reviewed(tmp_path: Path) -> ReviewSession:
    draft, _ = make_draft()
    draft.add_node("db:pool_wait", observed=False, description='time waiting for a "connection"\nper query')
    draft.add_edge("db:pool_wait", "db:latency", provenance="knowledge", confidence=0.8, rationale="pool wait is "
                   "part of query latency", evidence={"pc": {"p_value": 0.001, "lag": [0, 1]}})
    draft.add_edge(HOSTILE, "web:latency", provenance=["llm", "data"], confidence=0.35, votes={"a->b": 2, "none": 3})
    session = ReviewSession(draft, path=tmp_path / "session.json")
    session.accept("db:latency", "api:latency", reason="callee latency adds up")
    session.reverse("api:latency", "cache:latency")
    session.reject("web:latency", "db:latency", reason="a response cannot slow the database")
    session.draft.edges[("api:latency", "web:latency")].suspicion = 0.125
    return session


def _same(a: CausalDraft, b: CausalDraft) -> None:
    """Same nodes (with observed flag and description), same edges with every attribute, same alarm."""
    assert a.alarm == b.alarm
    assert {n: (v.observed, v.description) for n, v in a.nodes.items()} == \
        {n: (v.observed, v.description) for n, v in b.nodes.items()}
    assert {k: e.to_dict() for k, e in a.edges.items()} == {k: e.to_dict() for k, e in b.edges.items()}


@pytest.mark.parametrize("fmt", ["networkx", "node-link", "dot", "gml"])
def test_round_trip_keeps_the_review(tmp_path: Path, fmt: str) -> None:
    session = _reviewed(tmp_path)
    out = export_graph(session, fmt)
    back = from_networkx(out) if fmt == "networkx" else {
        "node-link": lambda: import_graph(out), "dot": lambda: from_dot(out),
        "gml": lambda: import_graph(_write(tmp_path / "g.gml", out))}[fmt]()
    _same(back, session.draft)
    statuses = {k: e.status.value for k, e in back.edges.items()}
    assert statuses[("web:latency", "db:latency")] == "rejected", "rejected edges travel with their status"
    assert statuses[("cache:latency", "api:latency")] == "accepted", "a reversal is the accepted reverse edge"
    assert back.meta["name"] == "checkout"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_files_round_trip_through_export_and_import(tmp_path: Path) -> None:
    session = _reviewed(tmp_path)
    for suffix in ("dot", "gml"):
        path = export_graph(session, suffix, tmp_path / f"reviewed.{suffix}") and tmp_path / f"reviewed.{suffix}"
        _same(import_graph(path), session.draft)
    export_graph(session, "node-link", tmp_path / "reviewed-nodelink.json")
    _same(import_graph(tmp_path / "reviewed-nodelink.json"), session.draft)
    session.export(tmp_path / "draft.json")  # rcakit's own draft file imports as it is
    _same(import_graph(tmp_path / "draft.json"), session.draft)


def test_export_hooks_write_every_attribute_but_leave_rejected_out(tmp_path: Path) -> None:
    session = _reviewed(tmp_path)
    dot = export(session.draft, tmp_path / "g.dot").read_text()
    assert "rejected" not in dot and 'rationale="pool wait is part of query latency"' in dot
    back = from_dot(tmp_path / "g.dot")
    assert ("web:latency", "db:latency") not in back.edges
    assert back.edges[("db:latency", "api:latency")].to_dict() == session.draft.edges[
        ("db:latency", "api:latency")].to_dict()


def test_networkx_export_is_plain_python_values(tmp_path: Path) -> None:
    g = to_networkx(_reviewed(tmp_path))
    edge = g.edges["db:pool_wait", "db:latency"]
    assert edge["provenance"] == ["knowledge"] and edge["evidence"] == {"pc": {"p_value": 0.001, "lag": [0, 1]}}
    assert g.nodes["db:pool_wait"]["observed"] is False and g.graph["alarm"] == "web:latency"
    live = to_networkx(_reviewed(tmp_path), include_rejected=False)
    assert not live.has_edge("web:latency", "db:latency")


# -- a user's own graph -----------------------------------------------------------------------------------
def test_users_networkx_graph_keeps_its_attributes(tmp_path: Path) -> None:
    theirs = nx.DiGraph(name="shop architecture")
    theirs.add_node("cpu", unit="percent", team="platform")
    theirs.add_node("latency", unit="ms")
    theirs.add_edge("cpu", "latency", weight=0.7, source_doc="runbook 12")
    draft = from_networkx(theirs, entity="api")
    edge = draft.edge("api:cpu", "api:latency")
    assert edge.status.value == "proposed" and [p.value for p in edge.provenance] == ["human"]
    assert edge.evidence == {"imported_from": "networkx", "attributes": {"weight": 0.7, "source_doc": "runbook 12"}}
    assert draft.meta["node_attributes"]["api:cpu"] == {"unit": "percent", "team": "platform"}
    session = ReviewSession(draft, path=tmp_path / "s.json")
    session.accept("api:cpu", "api:latency")
    again = to_networkx(session)  # their attributes go back out, beside the review's
    assert again.edges["api:cpu", "api:latency"]["weight"] == 0.7
    assert again.edges["api:cpu", "api:latency"]["status"] == "accepted"
    assert again.nodes["api:cpu"]["team"] == "platform"
    assert 'weight="0.7"' in export_graph(session, "dot")


def test_users_dot_file(tmp_path: Path) -> None:
    path = tmp_path / "architecture.gv"
    path.write_text('''digraph shop {
      node [shape=box];
      subgraph cluster_db { label="database"; "db:latency" [label="query latency"]; }
      "db:latency" -> "api:latency" [label="calls", color=blue];
      "api:latency" -> "web:latency";
      "web:latency" [alarm=true];
    }
    ''')
    draft = import_graph(path)
    assert set(draft.edges) == {("db:latency", "api:latency"), ("api:latency", "web:latency")}
    assert draft.alarm == "web:latency"
    assert draft.nodes["db:latency"].description == "query latency"
    assert draft.edge("db:latency", "api:latency").evidence["attributes"] == {"label": "calls", "color": "blue"}
    assert all(e.status.value == "proposed" for e in draft.edges.values())


def test_bad_graphs_say_what_to_do() -> None:
    with pytest.raises(DataError, match="undirected"):
        from_networkx(nx.Graph([("a:x", "b:x")]))
    with pytest.raises(DataError, match="entity='<component>'"):
        from_networkx(nx.DiGraph([("cpu", "latency")]))
    with pytest.raises(DataError, match="self-loop"):
        from_networkx(nx.DiGraph([("a:x", "a:x")]))
    with pytest.raises(DataError, match="undirected"):
        from_dot('graph g { "a:x" -- "b:x"; }')


# -- DoWhy ---------------------------------------------------------------------------------------------------
def _linear_data(graph: nx.DiGraph, n: int, seed: int, coef: float = 0.8) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    values: dict[str, Any] = {}
    for node in nx.topological_sort(graph):
        values[node] = rng.normal(size=n) + sum(coef * values[p] for p in graph.predecessors(node))
    return pd.DataFrame(values)


@pytest.mark.parametrize("quality", ["linear", pytest.param("good", marks=pytest.mark.slow)])
def test_dowhy_model_fitted_on_data_answers_an_intervention(tmp_path: Path, quality: str) -> None:
    from dowhy import gcm

    session = _reviewed(tmp_path)
    observed = session.draft.observed_graph()
    data = _linear_data(observed, 400, seed=3)
    model = to_dowhy(session, data, quality=quality)  # "good": DoWhy's own choice of mechanisms
    assert isinstance(model, gcm.InvertibleStructuralCausalModel)
    assert set(model.graph.edges) == set(observed.edges), "accepted and proposed edges, rejected ones out"
    assert ("db:pool_wait" not in model.graph), "the unmeasured node is collapsed"
    assert not model.graph.has_edge("web:latency", "db:latency")
    samples = gcm.interventional_samples(model, {"db:latency": lambda x: x + 5.0}, observed_data=data)
    shift = samples["web:latency"].mean() - data["web:latency"].mean()
    assert shift > 1.0, "a shift of the database latency reaches the alarm through api:latency"
    # invertible: the noise of observed rows is recovered, so counterfactuals can be asked
    observed_rows = data.head(5)
    counterfactual = gcm.counterfactual_samples(model, {"db:latency": lambda x: x + 5.0},
                                                observed_data=observed_rows)
    assert (counterfactual["web:latency"] - observed_rows["web:latency"]).min() > 0
    assert np.allclose(counterfactual["lb:rps" if "lb:rps" in data else "api:cpu"],
                       observed_rows["lb:rps" if "lb:rps" in data else "api:cpu"]), "a non-descendant keeps its value"


def test_dowhy_without_data_assigns_mechanisms_to_fit_later(tmp_path: Path) -> None:
    from dowhy import gcm

    session = _reviewed(tmp_path)
    model = to_dowhy(session, invertible=False, include_proposed=False)
    assert isinstance(model, gcm.StructuralCausalModel)
    assert set(model.graph.edges) == {("db:latency", "api:latency"), ("cache:latency", "api:latency")}
    for node in model.graph.nodes:
        model.causal_mechanism(node)  # every node has one
    gcm.fit(model, _linear_data(model.graph, 200, seed=1))


def test_dowhy_refuses_a_cycle_and_missing_columns(tmp_path: Path) -> None:
    draft = CausalDraft()
    draft.add_edge("a:x", "b:x")
    draft.add_edge("b:x", "a:x")
    with pytest.raises(DataError, match="cycle"):
        to_dowhy(draft)
    session = _reviewed(tmp_path)
    with pytest.raises(DataError, match="no column for 1 node"):
        to_dowhy(session, _linear_data(session.draft.observed_graph(), 50, seed=0).drop(columns="api:cpu"))


# -- causal-learn ---------------------------------------------------------------------------------------------
def test_background_knowledge_orients_a_users_pc_run(tmp_path: Path) -> None:
    from causallearn.graph.GraphNode import GraphNode
    from causallearn.search.ConstraintBased.PC import pc

    chain = nx.DiGraph([("lb:rps", "api:latency"), ("api:latency", "web:latency")])
    data = _linear_data(chain, 2000, seed=7)
    nodes = list(data.columns)

    def directed(cg: Any) -> set[tuple[str, str]]:
        g = cg.G.graph
        return {(nodes[i], nodes[j]) for i in range(len(nodes)) for j in range(len(nodes))
                if g[j, i] == 1 and g[i, j] == -1}

    alone = pc(data.to_numpy(), 0.01, "fisherz", show_progress=False, node_names=nodes)
    assert directed(alone) == set(), "a chain has no v-structure: PC alone cannot orient it"
    draft = CausalDraft.from_graph(chain, status="proposed", provenance="llm")
    draft.add_edge("web:latency", "lb:rps", provenance="llm")
    session = ReviewSession(draft, path=tmp_path / "s.json")
    session.accept("lb:rps", "api:latency")
    session.reject("web:latency", "lb:rps")
    knowledge = to_background_knowledge(session, nodes=nodes)
    assert knowledge.is_required(GraphNode("lb:rps"), GraphNode("api:latency"))
    assert knowledge.is_forbidden(GraphNode("web:latency"), GraphNode("lb:rps"))
    assert knowledge.is_forbidden(GraphNode("api:latency"), GraphNode("lb:rps")), "the reverse of an accepted edge"
    guided = pc(data.to_numpy(), 0.01, "fisherz", background_knowledge=knowledge, show_progress=False,
                node_names=nodes)
    assert directed(guided) == set(chain.edges), "the accepted edge orients the chain (Meek's rule does the rest)"
    x_named = to_background_knowledge(session, nodes=nodes, x_names=True)
    assert x_named.is_required(GraphNode("X1"), GraphNode("X2"))
    assert json.dumps(session.background_knowledge())  # the same decisions, as plain data
    # the run comes back to the review: merged into the draft, decisions kept, data provenance added
    back = from_causallearn(guided, draft=session)
    assert back.edge("lb:rps", "api:latency").status.value == "accepted"
    assert "data" in [p.value for p in back.edge("api:latency", "web:latency").provenance]
    assert back.edge("web:latency", "lb:rps").status.value == "rejected"
    fresh = from_causallearn(alone, nodes=nodes)
    assert all(e.evidence["causal-learn"]["undirected"] for e in fresh.edges.values()), "PC alone: no direction"
    assert {tuple(sorted(k)) for k in fresh.edges} == {tuple(sorted(e)) for e in chain.edges}
