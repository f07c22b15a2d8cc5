"""NOTEARS (rcakit.graph.notears) recovers a linear SCM, respects forbidden entries and its deadline."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np

from rcakit.graph import compare_graphs, notears

from .test_data import _linear_scm


def test_notears_recovers_a_seeded_linear_scm() -> None:
    data, truth = _linear_scm(3, n=2000)
    w = notears(data.to_numpy(), lambda1=0.05, w_threshold=0.3)
    names = list(data.columns)
    learned = [(names[i], names[j]) for i, j in zip(*np.nonzero(w), strict=True)]
    score = compare_graphs(learned, truth)
    assert score.f1 >= 0.8, score
    assert nx.is_directed_acyclic_graph(nx.DiGraph(learned))
    # h(W) = tr(exp(W∘W)) - d vanishes at the answer
    from scipy.linalg import expm

    assert abs(np.trace(expm(w * w)) - w.shape[0]) < 1e-6


def test_notears_holds_forbidden_entries_at_zero() -> None:
    data, _ = _linear_scm(4, n=1000)
    w = notears(data.to_numpy(), forbidden=[(0, 1), (1, 0)])
    assert w[0, 1] == 0 and w[1, 0] == 0


def test_notears_past_its_deadline_returns_at_once_without_a_cycle() -> None:
    data, _ = _linear_scm(5, n=500)
    started = time.monotonic()
    w = notears(data.to_numpy(), deadline=started)
    assert time.monotonic() - started < 5.0
    assert w.shape == (5, 5)
    assert nx.is_directed_acyclic_graph(nx.DiGraph([(int(i), int(j)) for i, j in zip(*np.nonzero(w), strict=True)]))


def test_notears_of_no_column_is_empty() -> None:
    assert notears(np.zeros((10, 0))).shape == (0, 0)
