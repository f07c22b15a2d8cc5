"""Graph metrics on cases worked out by hand."""

from __future__ import annotations

import networkx as nx
import pytest

from rcakit.graph import CausalDraft, compare_graphs


def test_identical_graphs() -> None:
    s = compare_graphs([("a", "b"), ("b", "c")], nx.DiGraph([("a", "b"), ("b", "c")]))
    assert (s.precision, s.recall, s.f1, s.shd) == (1.0, 1.0, 1.0, 0)


def test_reversed_extra_and_missing_edges() -> None:
    truth = [("a", "b"), ("b", "c"), ("c", "d")]
    predicted = [("b", "a"), ("b", "c"), ("a", "d")]  # one reversed, one right, one extra, one missing
    s = compare_graphs(predicted, truth)
    assert s.true_positives == 1 and s.false_positives == 2 and s.false_negatives == 2
    assert s.precision == pytest.approx(1 / 3) and s.recall == pytest.approx(1 / 3)
    assert s.skeleton_precision == pytest.approx(2 / 3) and s.skeleton_recall == pytest.approx(2 / 3)
    assert s.reversed == 1
    assert s.shd == 3  # reverse a-b, delete a-d, add c-d
    assert s.to_dict()["shd"] == 3


def test_empty_prediction_and_node_restriction() -> None:
    s = compare_graphs([], [("a", "b")])
    assert s.precision == 0.0 and s.recall == 0.0 and s.f1 == 0.0 and s.shd == 1
    s = compare_graphs([("a", "b"), ("x", "y")], [("a", "b")], nodes=["a", "b"])
    assert s.f1 == 1.0


def test_a_draft_is_scored_by_its_observed_graph() -> None:
    draft = CausalDraft()
    draft.add_node("s:u", observed=False)
    draft.add_edge("s:a", "s:u", provenance="knowledge")
    draft.add_edge("s:u", "s:b", provenance="knowledge")
    draft.add_edge("s:b", "s:c", provenance="knowledge")
    draft.set_status("s:b", "s:c", "rejected")
    s = compare_graphs(draft, [("s:a", "s:b")])
    assert s.f1 == 1.0
