"""Data-driven structure learning (rcakit.graph.data): background knowledge is law, bounded runs,
the DataSuggester."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from rcakit.graph import (
    Background,
    DataSuggester,
    SystemModel,
    candidate_pairs,
    discover,
)


def _linear_scm(seed: int, n: int = 1500) -> tuple[pd.DataFrame, nx.DiGraph]:
    rng = np.random.default_rng(seed)
    truth = nx.DiGraph([("s:a", "s:b"), ("s:b", "s:c"), ("s:a", "s:d"), ("s:c", "s:e"), ("s:d", "s:e")])
    values: dict[str, np.ndarray] = {}
    for node in nx.topological_sort(truth):
        noise = rng.normal(size=n)
        parents = list(truth.predecessors(node))
        values[node] = sum((rng.choice([-1, 1]) * rng.uniform(0.8, 1.5) * values[p] for p in parents),
                           start=np.zeros(n)) + noise
    return pd.DataFrame(values), truth


@pytest.mark.slow  # importing causal-learn alone takes seconds
@pytest.mark.parametrize("method", ["pc", "ges", "grasp"])
@pytest.mark.parametrize("seed", [0, 1])
def test_background_knowledge_is_respected(method: str, seed: int) -> None:
    data, truth = _linear_scm(seed, n=800)
    rng = np.random.default_rng(seed)
    nodes = list(data.columns)
    pairs = [(u, v) for u in nodes for v in nodes if u != v]
    picks = rng.choice(len(pairs), size=4, replace=False)
    required = {pairs[picks[0]]}
    if pairs[picks[1]][::-1] != pairs[picks[0]]:
        required.add(pairs[picks[1]])
    rejected = [p for p in (pairs[picks[2]], pairs[picks[3]]) if p not in required and p[::-1] not in required]
    bg = Background.from_decisions(required, rejected)
    # Also forbid a true edge: the learner must not bring it back in either direction.
    true_edge = next(e for e in truth.edges if e not in required and e[::-1] not in required)
    bg.forbidden |= {true_edge, true_edge[::-1]}
    result = discover(data, method=method, background=bg, max_seconds=None, seed=seed)
    edges = set(result.graph.edges)
    assert required <= edges
    assert not (bg.forbidden & edges)
    assert not ({frozenset(e) for e in result.undirected} & {frozenset(e) for e in bg.forbidden})


def test_required_edges_in_both_directions_are_refused() -> None:
    from rcakit.errors import DataError

    data, _ = _linear_scm(7, n=200)
    with pytest.raises(DataError, match="both"):
        discover(data, method="notears", background=Background(required={("s:a", "s:b"), ("s:b", "s:a")}),
                 max_seconds=None)


@pytest.mark.slow
def test_data_suggester_answers_candidate_pairs() -> None:
    data, _ = _linear_scm(5, n=600)
    system = SystemModel.from_call_graph(nx.DiGraph(), list(data.columns))
    pairs = candidate_pairs(system)
    suggester = DataSuggester("pc", data, max_seconds=None)
    proposals = suggester.suggest(pairs, system)
    assert len(proposals) == len(pairs)
    assert all(p.provenance.value == "data" and p.suggester == "data:pc" for p in proposals)
    assert any(p.edge is not None for p in proposals)


def test_constant_and_missing_columns_are_dropped_and_reported() -> None:
    data, _ = _linear_scm(6, n=300)
    data["s:const"] = 1.0
    result = discover(data, method="notears", nodes=[*data.columns, "s:absent"], max_seconds=None)
    assert set(result.dropped) == {"s:const", "s:absent"}
    assert "s:const" not in result.graph


@pytest.mark.slow
def test_time_bound_stops_a_long_run() -> None:
    rng = np.random.default_rng(0)
    # Correlated columns make GES search long on any machine (independent ones finished in 2 s on an idle
    # one); the bound is far below that, so the run must be stopped whatever the machine's speed.
    base = rng.normal(size=(3000, 8))
    mix = rng.normal(size=(8, 60))
    data = pd.DataFrame(base @ mix + rng.normal(size=(3000, 60)), columns=[f"s:m{i}" for i in range(60)])
    result = discover(data, method="ges", max_seconds=0.5, max_samples=None)
    assert result.timed_out and result.graph.number_of_edges() == 0
    # the child is replaced: the next bounded run works
    small = discover(data.iloc[:, :3], method="pc", max_seconds=120)
    assert not small.timed_out


def test_grasp_is_reproducible_from_the_seed_whatever_the_global_random_state(dowhy_dir) -> None:  # type: ignore[no-untyped-def]
    # causal-learn's GRaSP shuffles with the global ``random``; on the DoWhy microservice data two
    # unseeded runs found different graphs. The seed parameter now decides, and the caller's state
    # is left as it was.
    import random

    from rcakit.bench._common import wide_metrics
    from rcakit.graph.data import _learn, wide_matrix
    from rcakit.telemetry.datasets import load_graph_datasets

    data = wide_metrics(load_graph_datasets(dowhy_dir.parent)["dowhy"].telemetry)
    x, _, _ = wide_matrix(data, max_samples=2000, seed=0)
    results = []
    for state in (1, 2, 3):
        random.seed(state)
        np.random.seed(state)
        results.append(_learn("grasp", x, 0.05, [], [], None, 0))
        after = (random.random(), np.random.random())
        random.seed(state)
        np.random.seed(state)
        assert after == (random.random(), np.random.random())  # the caller's generators untouched
    assert results[0] == results[1] == results[2]
