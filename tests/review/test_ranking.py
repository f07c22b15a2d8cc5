"""The expected-gain question order: what the draft's own patterns say, and how answers move the next batch."""

from __future__ import annotations

from pathlib import Path

import pytest
import traitlets

from rcakit.errors import DataError
from rcakit.graph import CausalDraft, EdgeStatus, next_batch
from rcakit.graph.validate import QuestionOrder, expected_gain_order, rank_suspicious
from rcakit.review import ReviewSession
from rcakit.review._ranking import rank


def _replicas(n: int = 4, reversed_at: int | None = None, missing_at: int | None = None) -> CausalDraft:
    """n replicas of gpu_i:util -> worker_i:latency -> api:latency (one reversed or missing on request)."""
    draft = CausalDraft(alarm="api:latency")
    for i in range(n):
        draft.add_node(f"gpu_{i}:util")
        if i != missing_at:
            u, v = f"gpu_{i}:util", f"worker_{i}:latency"
            if i == reversed_at:
                u, v = v, u
            draft.add_edge(u, v, provenance="knowledge", confidence=0.8, rules=["work_drives_latency"])
        draft.add_edge(f"worker_{i}:latency", "api:latency", provenance="knowledge", confidence=0.8,
                       rules=["callee_latency"])
    return draft


def test_an_edge_against_its_replicas_is_asked_first_as_a_reversal() -> None:
    draft = _replicas(reversed_at=2)
    top = next_batch(draft, k=1)[0]
    assert top.edge == ("worker_2:latency", "gpu_2:util")
    assert top.evidence["p_reversed"] > top.evidence["p_false"]
    assert any("other way" in r for r in top.reasons)


def test_a_pair_its_replicas_have_is_offered_as_missing() -> None:
    draft = _replicas(missing_at=1)
    found = [s for s in next_batch(draft, k=5) if s.kind == "missing"]
    assert [s.edge for s in found][:1] == [("gpu_1:util", "worker_1:latency")]
    assert found[0].evidence["completion"] is True


def test_rejections_make_the_rest_of_a_rule_more_suspect() -> None:
    draft = CausalDraft(alarm="z:m")
    for i in range(4):
        draft.add_edge(f"a{i}:x{i}", f"b{i}:y{i}", provenance="knowledge", confidence=0.7, rules=["shaky"])
        draft.add_edge(f"c{i}:p{i}", f"d{i}:q{i}", provenance="knowledge", confidence=0.7, rules=["solid"])

    def p_false(d: CausalDraft) -> dict[tuple[str, str], float]:
        return {s.edge: s.evidence["p_false"] for s in expected_gain_order(d, rank_suspicious(d))}

    before = p_false(draft)
    for i in range(2):
        draft.set_status(f"a{i}:x{i}", f"b{i}:y{i}", EdgeStatus.REJECTED)
        draft.set_status(f"c{i}:p{i}", f"d{i}:q{i}", EdgeStatus.ACCEPTED)
    after = p_false(draft)
    assert after[("a3:x3", "b3:y3")] > before[("a3:x3", "b3:y3")]
    assert after[("c3:p3", "d3:q3")] < before[("c3:p3", "d3:q3")]


def test_the_old_order_is_still_available_and_bad_orders_are_refused() -> None:
    draft = _replicas(reversed_at=2)
    assert ([s.edge for s in next_batch(draft, k=3, order=QuestionOrder.SUSPICION)]
            == [s.edge for s in rank_suspicious(draft)[:3]])
    with pytest.raises(ValueError, match="order must be one of"):
        next_batch(draft, order="alphabetical")


def test_the_session_ranks_with_the_expected_gain_and_skips_decided_edges(tmp_path) -> None:  # type: ignore[no-untyped-def]
    draft = _replicas(reversed_at=2)
    session = ReviewSession(draft, path=tmp_path / "s.json")
    first = session.next_batch(1)[0]
    assert first.edge == ("worker_2:latency", "gpu_2:util") and "expected_gain" in first.evidence
    session.reverse(*first.edge)
    found, source = rank(session.draft, k=5, exclude=session.decided_edges())
    assert source == "validate" and all(set(s.edge) != set(first.edge) for s in found)


def test_the_session_asks_in_the_order_it_was_given(tmp_path: Path) -> None:
    """A completion edge exists only in the expected-gain order; a suspicion-ordered session never offers it."""
    gain = ReviewSession(_replicas(missing_at=1), path=tmp_path / "gain.json")
    suspicion = ReviewSession(_replicas(missing_at=1), path=tmp_path / "suspicion.json",
                              question_order=QuestionOrder.SUSPICION)
    assert ("gpu_1:util", "worker_1:latency") in [q.edge for q in gain.next_batch(5)]
    assert ("gpu_1:util", "worker_1:latency") not in [q.edge for q in suspicion.next_batch(5)]
    reopened = ReviewSession.open(tmp_path / "suspicion.json")
    assert reopened.question_order == QuestionOrder.SUSPICION
    assert ("gpu_1:util", "worker_1:latency") not in [q.edge for q in reopened.next_batch(5)]


def _edges(draft: CausalDraft) -> dict[tuple[str, str], str]:
    return {k: e.status.value for k, e in draft.edges.items()}


def test_a_propagated_suggestion_is_shown_before_it_is_applied_and_undone_as_one(tmp_path: Path) -> None:
    from rcakit.graph.validate import similar_changes

    session = ReviewSession(_replicas(n=5, reversed_at=2, missing_at=3), path=tmp_path / "s.json")
    item = session.next_batch(5)[0]
    assert "similar" in item.evidence  # the question says a suggestion comes with it
    before = _edges(session.draft)
    shown = similar_changes(session.draft, item.edge, "reverse" if item.edge[0].startswith("worker") else "accept")
    assert shown.offered and _edges(session.draft) == before  # shown, not applied
    answer = shown.answer
    decision = session.decide_similar(*item.edge, answer, shown.changes, reason="replicas agree")
    assert len(session.undo_stack) == 1 and "similar edge" in decision.reason
    after = _edges(session.draft)
    assert all(after.get((f"gpu_{i}:util", f"worker_{i}:latency")) == "accepted" for i in range(5))
    assert not any(k[0].startswith("worker") and k[1].startswith("gpu") and s != "rejected" for k, s in after.items())
    changed = {frozenset(c[:2]) for c in shown.changes} | {frozenset(item.edge)}
    assert all(q.done is not None for q in session.queue if frozenset(q.edge) in changed)
    session.undo()
    assert _edges(session.draft) == before
    session.redo()
    assert _edges(session.draft) == after
    reopened = ReviewSession.open(tmp_path / "s.json", takeover=True)
    assert _edges(reopened.draft) == after
    reopened.undo()
    assert _edges(reopened.draft) == before


def test_decide_similar_refuses_what_it_cannot_carry(tmp_path: Path) -> None:
    session = ReviewSession(_replicas(), path=tmp_path / "s.json", autosave=False)
    with pytest.raises(DataError, match="does not carry"):
        session.decide_similar("gpu_0:util", "worker_0:latency", "skip", [])
    with pytest.raises(DataError, match="unknown change"):
        session.decide_similar("gpu_0:util", "worker_0:latency", "accept", [("gpu_1:util", "worker_1:latency", "zap")])
    assert not session.undo_stack


def test_the_reviewer_lists_the_similar_edges_before_one_click_applies_them(tmp_path: Path) -> None:
    from rcakit.ui import GraphReviewer

    reviewer = GraphReviewer(_replicas(n=4, reversed_at=2), path=tmp_path / "w.json", start=False)
    reviewer.select_edge("gpu_0:util", "worker_0:latency")
    assert not any(k.startswith("similar edges") for k in reviewer.details)  # off by default
    reviewer._handle_message(reviewer, {"action": "set_propagate", "scope": "replicas"}, [])
    (key,) = [k for k in reviewer.details if k.startswith("similar edges")]
    assert "reverse worker_2:latency -> gpu_2:util" in reviewer.details[key]["accept"]
    before = _edges(reviewer.session.draft)
    reviewer.accept()
    assert len(reviewer.session.undo_stack) == 1
    assert reviewer.session.draft.edges[("gpu_2:util", "worker_2:latency")].status is EdgeStatus.ACCEPTED
    reviewer.undo()
    assert _edges(reviewer.session.draft) == before
    with pytest.raises(traitlets.TraitError, match="scope"):
        reviewer.set_propagate("everything")
    reviewer.close()
