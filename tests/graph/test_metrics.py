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


def test_an_undirected_edge_is_half_an_edge_each_way() -> None:
    truth = [("a", "b"), ("b", "c")]
    # a-b undirected (truth has a->b): half right; c-d undirected: not in the truth at all.
    s = compare_graphs([("b", "c")], truth, undirected=[("a", "b"), ("c", "d")])
    assert s.undirected == 2 and s.n_predicted == 3
    assert s.true_positives == 1.5 and s.false_positives == 1.5 and s.false_negatives == 0.5
    assert s.precision == pytest.approx(0.5) and s.recall == pytest.approx(0.75)
    assert s.skeleton_precision == pytest.approx(2 / 3) and s.skeleton_recall == 1.0
    assert s.shd == 2  # orient a-b, delete c-d
    # The lenient convention (an undirected edge right in either direction) scores higher: strict is strict.
    lenient = compare_graphs([("b", "c"), ("a", "b"), ("c", "d")], truth)
    assert s.f1 < lenient.f1
    # Fully oriented correctly beats undirected, which beats reversed.
    right = compare_graphs([("a", "b"), ("b", "c")], truth)
    half = compare_graphs([("b", "c")], truth, undirected=[("b", "a")])
    wrong = compare_graphs([("b", "a"), ("b", "c")], truth)
    assert right.f1 > half.f1 > wrong.f1
    assert half.shd == wrong.shd == 1


def test_an_undirected_pair_also_predicted_directed_is_scored_as_directed() -> None:
    s = compare_graphs([("a", "b")], [("a", "b")], undirected=[("b", "a")])
    assert s.f1 == 1.0 and s.undirected == 0 and s.shd == 0
