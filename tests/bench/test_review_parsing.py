"""The review bench's command line, scoring helpers and honest oracle, on hand-made inputs."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from rcakit.bench import review
from rcakit.bench._review_efficiency import _answer_item, _right
from rcakit.bench.review import (
    Options,
    answers_to,
    best_possible_f1,
    edges_at,
    f1_at,
    goal_lines,
    oracle_answer,
    parse_options,
    reached,
    tuning_line,
)
from rcakit.graph import CausalDraft
from rcakit.review import ReviewSession

CURVE = [(0, 0.80, 0), (5, 0.86, 5), (9, 0.91, 20), (14, 0.95, 26)]


def test_options_parse_lists_and_refuse_unknown_names() -> None:
    opts = parse_options(["--datasets", "mom, sim-S", "--drafts", "data", "--seeds", "3,4", "--sections", "efficiency"])
    assert isinstance(opts, Options)
    assert opts.datasets == ["mom", "sim-S"] and opts.drafts == ["data"] and opts.seeds == [3, 4]
    assert not opts.args.no_propagate
    message = parse_options(["--datasets", "mom,atlantis", "--drafts", "nope"])
    assert isinstance(message, str) and "atlantis" in message and "nope" in message
    assert "comma-separated integers" in str(parse_options(["--seeds", "1,x"]))
    assert "at least 1" in str(parse_options(["--batches", "0"]))
    assert review.main(["--datasets", "atlantis"]) == 2


def test_the_tuning_line_names_both_sides_and_warns_on_overlap() -> None:
    clean = tuning_line(["sim-S"], [0, 1], 0)
    assert "tuned on:" in clean and "scored: sim-S seeds 0, 1" in clean and "WARNING" not in clean
    assert "scored seeds [100]" in tuning_line(["sim-S"], [100], 0)
    assert "data seed 1 was used for tuning" in tuning_line(["sim-S"], [0], 1)


def test_curve_helpers_read_the_last_batch_at_or_before_a_count() -> None:
    assert f1_at(CURVE, 10) == 0.91 and f1_at(CURVE, 4) == 0.80
    assert edges_at(CURVE, 10) == 20
    assert answers_to(CURVE, 0.9) == "9" and answers_to(CURVE, 0.99) == "> 14"
    assert reached(CURVE) and not reached(CURVE, answers=8)


def test_goal_lines_count_datasets_where_every_draft_reached_it() -> None:
    rows = [{"dataset": "a", "draft": "knowledge-perturbed", "goal (<= 10)": "3/3"},
            {"dataset": "b", "draft": "knowledge-perturbed", "goal (<= 10)": "2/3"},
            {"dataset": "a", "draft": "data", "goal (<= 10)": "0/1"}]
    (line,) = goal_lines(rows, ["knowledge-perturbed", "data"])
    assert "1/2 datasets (a)" in line


def test_the_hindsight_bound_fixes_one_edge_per_answer() -> None:
    truth = nx.DiGraph([("s:a", "s:b"), ("s:b", "s:c"), ("s:c", "s:d")])
    draft = CausalDraft.from_graph(nx.DiGraph([("s:b", "s:a"), ("s:a", "s:d")]), status="proposed")
    session = ReviewSession(draft, autosave=False)
    assert best_possible_f1(session, truth, 0) == 0.0
    assert best_possible_f1(session, truth, 1) == pytest.approx(2 / 5)  # the reversal fixed
    assert best_possible_f1(session, truth, 4) == pytest.approx(1.0)


def test_the_oracle_confirms_a_suggestion_only_when_every_change_is_right(tmp_path: Path) -> None:
    truth = nx.DiGraph([(f"gpu_{i}:util", f"worker_{i}:latency") for i in range(3)])
    assert oracle_answer(("gpu_0:util", "worker_0:latency"), truth) == "accept"
    assert oracle_answer(("worker_0:latency", "gpu_0:util"), truth) == "reverse"
    assert oracle_answer(("gpu_0:util", "gpu_1:util"), truth) == "reject"
    assert oracle_answer(("gpu_0:power", "gpu_0:util"), truth) == "skip"
    assert _right(("worker_1:latency", "gpu_1:util", "reverse"), truth)
    assert not _right(("gpu_1:util", "worker_1:latency", "reject"), truth)

    draft = CausalDraft(alarm=None)
    draft.add_edge("gpu_0:util", "worker_0:latency", provenance="knowledge")
    draft.add_edge("worker_1:latency", "gpu_1:util", provenance="knowledge")
    draft.add_node("gpu_2:util")
    draft.add_node("worker_2:latency")
    session = ReviewSession(draft.copy(), path=tmp_path / "uniform.json", autosave=False)
    assert _answer_item(session, ("gpu_0:util", "worker_0:latency"), truth, propagate=True) == 3
    assert set(session.to_networkx().edges) == set(truth.edges) and len(session.undo_stack) == 1

    # One replica differs in the truth: the suggestion is declined and only the asked edge is decided.
    mixed = nx.DiGraph([("gpu_0:util", "worker_0:latency"), ("worker_1:latency", "gpu_1:util")])
    session = ReviewSession(draft.copy(), path=tmp_path / "mixed.json", autosave=False)
    assert _answer_item(session, ("gpu_0:util", "worker_0:latency"), mixed, propagate=True) == 1
    assert session.draft.edges[("worker_1:latency", "gpu_1:util")].status.value == "proposed"
