"""An answer on one edge carried to its kind: what the suggestion lists, when it is blocked, and how the order values it."""

from __future__ import annotations

import pytest

from rcakit.graph import CausalDraft, EdgeStatus, SystemModel, next_batch
from rcakit.graph.validate import Propagation, similar_changes, similar_pairs


def _replicas(n: int = 4, reversed_at: int | None = None, missing_at: int | None = None) -> CausalDraft:
    """n replicas of gpu_i:util -> worker_i:latency -> api:latency (one reversed or missing on request)."""
    draft = CausalDraft(alarm="api:latency")
    for i in range(n):
        draft.add_node(f"gpu_{i}:util")
        u, v = f"gpu_{i}:util", f"worker_{i}:latency"
        if i != missing_at:
            draft.add_edge(*((v, u) if i == reversed_at else (u, v)), provenance="knowledge", confidence=0.8)
        draft.add_edge(f"worker_{i}:latency", "api:latency", provenance="knowledge", confidence=0.8)
    return draft


def test_accepting_one_replica_edge_lists_the_fix_of_every_other_replica() -> None:
    draft = _replicas(reversed_at=1, missing_at=2)
    found = similar_changes(draft, ("gpu_0:util", "worker_0:latency"), "accept")
    assert found.offered and not found.conflicts
    assert sorted(found.changes) == [("gpu_2:util", "worker_2:latency", "add"),
                                     ("gpu_3:util", "worker_3:latency", "accept"),
                                     ("worker_1:latency", "gpu_1:util", "reverse")]
    assert "1 to add" in found.describe() and "1 to reverse" in found.describe()
    assert Propagation.from_dict(found.to_dict()) == found
    # Reversing the odd one out asks the replicas to follow the odd one: they would all be reversed.
    odd = similar_changes(draft, ("worker_1:latency", "gpu_1:util"), "accept")
    assert sorted(a for _, _, a in odd.changes) == ["add", "reverse", "reverse"]


def test_a_human_decision_against_the_kind_blocks_the_suggestion() -> None:
    draft = _replicas()
    draft.set_status("gpu_3:util", "worker_3:latency", EdgeStatus.REJECTED)
    found = similar_changes(draft, ("gpu_0:util", "worker_0:latency"), "accept")
    assert found.conflicts == [("gpu_3:util", "worker_3:latency")] and not found.offered
    ruled_out = similar_changes(_replicas(missing_at=2), ("gpu_0:util", "worker_0:latency"), "accept",
                                forbidden=[("gpu_2:util", "worker_2:latency")])
    assert not ruled_out.offered


def test_rejecting_carries_to_the_same_edges_of_the_other_replicas() -> None:
    found = similar_changes(_replicas(), ("gpu_0:util", "worker_0:latency"), "reject")
    assert sorted(found.changes) == [(f"gpu_{i}:util", f"worker_{i}:latency", "reject") for i in (1, 2, 3)]


def test_pairs_of_different_numbers_and_unrelated_components_do_not_propagate() -> None:
    draft = _replicas()
    draft.add_edge("gpu_0:util", "worker_1:latency", provenance="knowledge")
    assert similar_pairs(draft, "gpu_0:util", "worker_1:latency") == []
    assert similar_pairs(draft, "gpu_0:util", "worker_1:latency", "role") == []  # no system: nothing related
    with pytest.raises(ValueError, match="answer"):
        similar_changes(draft, ("gpu_0:util", "worker_0:latency"), "maybe")
    with pytest.raises(ValueError, match="scope"):
        similar_changes(draft, ("gpu_0:util", "worker_0:latency"), "accept", scope="galaxy")  # type: ignore[arg-type]


def _calls() -> CausalDraft:
    """callee latency -> caller latency along four calls of a small system, one drafted backwards, one missing."""
    system = SystemModel()
    calls = [("web", "cart"), ("web", "search"), ("cart", "db"), ("search", "index")]
    for caller, callee in calls:
        for name in (caller, callee):
            system.add_metric(name, "latency")
        system.add_interaction(caller, callee)
    draft = CausalDraft(alarm="web:latency", system=system)
    draft.add_edge("cart:latency", "web:latency", provenance="knowledge")
    draft.add_edge("web:latency", "search:latency", provenance="knowledge")  # backwards
    draft.add_edge("db:latency", "cart:latency", provenance="knowledge")
    draft.add_node("index:latency")  # search <- index missing
    return draft


def test_the_role_scope_carries_an_answer_along_every_call_of_the_system() -> None:
    draft = _calls()
    assert similar_pairs(draft, "cart:latency", "web:latency") == []  # no replicas
    found = similar_changes(draft, ("cart:latency", "web:latency"), "accept", scope="role")
    assert sorted(found.changes) == [("db:latency", "cart:latency", "accept"),
                                     ("index:latency", "search:latency", "add"),
                                     ("web:latency", "search:latency", "reverse")]
    assert "related the same way" in found.describe()


def test_the_order_asks_first_the_question_whose_suggestion_fixes_most() -> None:
    draft = _replicas(n=6, reversed_at=1, missing_at=2)
    top = next_batch(draft, k=1)[0]
    assert top.evidence["similar"]["gain"] > 0 and top.evidence["similar"]["scope"] in ("replicas", "role")
    batch = next_batch(draft, k=5)
    carrying = [s for s in batch if "similar" in s.evidence and {s.edge[0][:3], s.edge[1][:3]} == {"gpu", "wor"}]
    assert len(carrying) == 1  # one question per kind carries the suggestion
    assert top.edge == ("worker_1:latency", "gpu_1:util")  # the one against its replicas, with the fix for all
