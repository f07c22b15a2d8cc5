"""The review bench: seeded perturbations of the stated share, and an oracle review that F1 rises under.

Random results are checked through invariants over seeds (a review raises F1; the expected-gain
order beats a random order on average), never exact numbers.
"""

from __future__ import annotations

import random
import statistics
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from rcakit.bench.review import (
    best_possible_f1,
    f1_at,
    knowledge_perturbed_draft,
    oracle_review,
    perturbed_draft,
)
from rcakit.graph import CausalDraft, rank_suspicious
from rcakit.review import ReviewSession
from rcakit.review.session import QueueItem


def _synthetic_draft(n_nodes: int = 12, seed: int = 0) -> CausalDraft:
    rng = random.Random(seed)
    names = [f"svc{i}:m{i % 3}" for i in range(n_nodes)]
    draft = CausalDraft(alarm=names[-1], meta={"name": "synthetic"})
    while len(draft.edges) < 30:
        a, b = sorted(rng.sample(range(n_nodes), 2))
        draft.add_edge(names[a], names[b], provenance="knowledge", confidence=round(rng.uniform(0.4, 0.9), 2),
                       rules=[f"rule{a % 4}"])
    draft.add_node("svc0:hidden", observed=False)
    draft.add_edge("svc0:hidden", names[1], provenance="knowledge", confidence=0.5)
    return draft


def _changes(before: CausalDraft, after: CausalDraft) -> dict[str, int]:
    old, new = set(before.edges), set(after.edges)
    return {"removed": sum(1 for u, v in old - new if (v, u) not in new),
            "reversed": sum(1 for u, v in old - new if (v, u) in new),
            "added": sum(1 for u, v in new - old if (v, u) not in old)}


@pytest.mark.parametrize("share", [0.2, 0.4])
def test_knowledge_perturbation_is_seeded_and_changes_the_stated_share(share: float) -> None:
    draft = _synthetic_draft()
    observed_edges = sum(1 for u, v in draft.edges if draft.nodes[u].observed and draft.nodes[v].observed)
    one = knowledge_perturbed_draft(draft, seed=3, share=share)
    again = knowledge_perturbed_draft(draft, seed=3, share=share)
    other = knowledge_perturbed_draft(draft, seed=4, share=share)
    assert one.to_dict()["edges"] == again.to_dict()["edges"]
    assert set(one.edges) != set(other.edges)
    counts = _changes(draft, one)
    assert sum(counts.values()) == round(share * observed_edges)
    assert max(counts.values()) - min(counts.values()) <= 1  # a third each
    assert ("svc0:hidden", "svc1:m1") in one.edges  # edges on unobserved nodes are left alone
    assert set(draft.edges) == set(_synthetic_draft().edges)  # the input draft is not edited
    # Planted edges look like the others: every added edge copies a drafted edge's confidence and rules.
    drafted = {(e.confidence, tuple(e.rules)) for e in draft.edges.values()}
    assert all((one.edges[k].confidence, tuple(one.edges[k].rules)) in drafted for k in set(one.edges) - set(draft.edges))
    with pytest.raises(ValueError, match="share"):
        knowledge_perturbed_draft(draft, seed=0, share=1.5)


def test_true_graph_perturbation_is_seeded() -> None:
    truth = nx.DiGraph([(f"s:{i}", f"s:{j}") for i in range(8) for j in range(i + 1, 8) if (i * j) % 3 == 1])
    a, b = perturbed_draft(truth, seed=1), perturbed_draft(truth, seed=1)
    assert a.to_dict()["edges"] == b.to_dict()["edges"]
    assert set(a.edges) != set(perturbed_draft(truth, seed=2).edges)


@pytest.fixture(scope="module")
def sim_small() -> tuple[Any, nx.DiGraph, Any, CausalDraft]:
    from rcakit.bench._common import graph_case
    from rcakit.graph import KnowledgeSuggester, draft_graph

    source, truth, data = graph_case("sim-S", 0, "1h")
    return source, truth, data, draft_graph(source, suggesters=[KnowledgeSuggester()])


class _RandomOrderSession(ReviewSession):
    """A session that hands out the same candidate questions in a seeded random order (the baseline)."""

    order_seed = 0

    def next_batch(self, k: int = 5) -> list[QueueItem]:
        pool = rank_suspicious(self.draft, self.data, exclude=self.decided_edges())
        rng = random.Random(self.order_seed + len(self.undo_stack))
        rng.shuffle(pool)
        self.queue = [QueueItem.of(s) for s in pool[:k]]
        self.cursor = 0
        return list(self.queue)


def _review(cls: type[ReviewSession], draft: CausalDraft, truth: nx.DiGraph, data: Any, tmp: Path,
            order_seed: int = 0) -> list[tuple[int, float]]:
    session = cls(draft, path=tmp / f"{cls.__name__}-{order_seed}.json", data=data, autosave=False)
    if isinstance(session, _RandomOrderSession):
        session.order_seed = order_seed
    return oracle_review(session, truth, batches=2)


def test_oracle_review_raises_f1_within_ten_answers(sim_small: Any, tmp_path: Path) -> None:
    _, truth, data, knowledge = sim_small
    for seed in (0, 1):
        draft = knowledge_perturbed_draft(knowledge, seed=seed)
        curve = _review(ReviewSession, draft, truth, data, tmp_path)
        assert curve[0][0] == 0 and curve[-1][0] == 10
        assert f1_at(curve, 10) > f1_at(curve, 0)
        bound = best_possible_f1(ReviewSession(draft, autosave=False), truth, 10)
        assert f1_at(curve, 10) <= bound + 1e-9  # no order beats answers chosen with hindsight


def test_expected_gain_order_beats_a_random_order_on_average(sim_small: Any, tmp_path: Path) -> None:
    _, truth, data, knowledge = sim_small
    ours, random_order = [], []
    for seed in (10, 11, 12, 13):
        draft = knowledge_perturbed_draft(knowledge, seed=seed)
        ours.append(f1_at(_review(ReviewSession, draft.copy(), truth, data, tmp_path), 10))
        random_order.append(statistics.mean(
            f1_at(_review(_RandomOrderSession, draft.copy(), truth, data, tmp_path, order_seed=s), 10)
            for s in (0, 1)))
    assert statistics.mean(ours) > statistics.mean(random_order)
