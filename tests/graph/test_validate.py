"""Validation finds what was planted: a reversed edge, a cycle, an edge the data refute, a missed edge."""

from __future__ import annotations

import inspect

import networkx as nx
import numpy as np
import pandas as pd
import polars as pl

from rcakit.graph import (
    CausalDraft,
    EdgeStatus,
    SuspectEdge,
    annotate_suspicion,
    apply_suspects,
    next_batch,
    rank_suspicious,
)


def _chain_data(seed: int = 1, n: int = 1500) -> pd.DataFrame:
    # a -> b -> c -> d, e independent; nonlinear with uniform noise so that ANM can orient.
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, n)
    b = np.tanh(2 * a) + 0.3 * rng.uniform(-1, 1, n)
    c = b ** 3 + 0.3 * rng.uniform(-1, 1, n)
    d = 0.8 * c + 0.3 * rng.uniform(-1, 1, n)
    e = rng.uniform(-1, 1, n)
    return pd.DataFrame({"s:a": a, "s:b": b, "s:c": c, "s:d": d, "s:e": e})


def _draft(edges: list[tuple[str, str]], alarm: str = "s:d") -> CausalDraft:
    draft = CausalDraft(alarm=alarm)
    for u, v in edges:
        draft.add_edge(u, v, provenance="knowledge", confidence=0.8)
    return draft


def test_public_api_is_exactly_as_agreed() -> None:
    sig = inspect.signature(rank_suspicious)
    assert list(sig.parameters)[:2] == ["draft", "data"]
    assert sig.parameters["data"].default is None
    assert {"alarm", "exclude"} <= {n for n, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}
    sig = inspect.signature(next_batch)
    assert sig.parameters["k"].default == 5 and sig.parameters["k"].kind is inspect.Parameter.KEYWORD_ONLY
    assert [f for f in SuspectEdge.__dataclass_fields__] == ["edge", "kind", "score", "reasons", "evidence"]


def test_planted_reversed_edge_is_found() -> None:
    data = _chain_data()
    draft = _draft([("s:a", "s:b"), ("s:c", "s:b"), ("s:c", "s:d")])
    suspects = rank_suspicious(draft, data)
    scores = [s.score for s in suspects]
    assert scores == sorted(scores, reverse=True)
    by_edge = {s.edge: s for s in suspects if s.kind != "missing"}
    planted = by_edge[("s:c", "s:b")]
    assert planted.kind == "reversed" and planted.reasons
    right = [by_edge[("s:a", "s:b")], by_edge[("s:c", "s:d")]]
    assert all(planted.score > s.score for s in right)


def test_planted_independent_edge_is_questionable_and_polars_works() -> None:
    data = pl.from_pandas(_chain_data())
    draft = _draft([("s:a", "s:b"), ("s:b", "s:c"), ("s:c", "s:d"), ("s:e", "s:d")])
    top = next_batch(draft, data, k=1)[0]
    assert top.edge == ("s:e", "s:d") and top.kind == "questionable"
    assert top.evidence["p_value"] > 0.01


def test_planted_cycle_gets_a_cut_that_makes_the_draft_acyclic() -> None:
    draft = _draft([("s:a", "s:b"), ("s:b", "s:c"), ("s:c", "s:d"), ("s:d", "s:a")])
    draft.edge("s:d", "s:a").confidence = 0.3
    suspects = rank_suspicious(draft)  # structural checks only
    cuts = [s for s in suspects if s.kind == "cycle"]
    assert [s.edge for s in cuts] == [("s:d", "s:a")]
    assert suspects[0].kind == "cycle"
    annotate_suspicion(draft, suspects)
    assert draft.edge("s:d", "s:a").suspicion == cuts[0].score
    assert draft.edge("s:d", "s:a").evidence["validation"]["kind"] == "cycle"
    fixed = apply_suspects(draft, cuts)
    assert nx.is_directed_acyclic_graph(fixed.observed_graph())
    assert fixed.edge("s:d", "s:a").status is EdgeStatus.REJECTED


def test_accepted_edges_are_never_cut_and_decided_edges_are_excluded() -> None:
    draft = _draft([("s:a", "s:b"), ("s:b", "s:a")])
    draft.set_status("s:a", "s:b", "accepted")
    suspects = rank_suspicious(draft)
    assert [s.edge for s in suspects if s.kind == "cycle"] == [("s:b", "s:a")]
    assert all(s.edge != ("s:a", "s:b") for s in suspects)
    assert rank_suspicious(draft, exclude=[("s:b", "s:a")]) == []


def test_missed_edge_is_proposed_towards_the_alarm() -> None:
    data = _chain_data()
    draft = _draft([("s:a", "s:b"), ("s:b", "s:c")], alarm="s:d")  # c -> d missing
    missing = [s for s in rank_suspicious(draft, data) if s.kind == "missing"]
    assert missing and missing[0].edge == ("s:c", "s:d")
    assert any("alarm" in r for r in missing[0].reasons)


def test_batches_of_five_do_not_repeat_decided_edges() -> None:
    rng = np.random.default_rng(0)
    nodes = [f"s:m{i}" for i in range(8)]
    data = pd.DataFrame(rng.normal(size=(400, 8)), columns=nodes)
    draft = _draft([(nodes[i], nodes[j]) for i in range(8) for j in range(i + 1, 8) if (i + j) % 3 == 0])
    first = next_batch(draft, data)
    assert len(first) == 5
    decided = [s.edge for s in first]
    second = next_batch(draft, data, exclude=decided)
    assert not {s.edge for s in second} & set(decided)
    assert all(isinstance(s.to_dict()["score"], float) for s in first + second)


# -- a larger seeded SCM: planted errors come first, the cache changes nothing but the time ----------------
_SCM = [("x0", "x1"), ("x0", "x2"), ("x1", "x3"), ("x2", "x3"), ("x3", "x4"), ("x4", "x5"), ("x2", "x6"),
        ("x6", "x7"), ("x5", "x8"), ("x7", "x8"), ("x8", "x9")]


def _scm_data(seed: int = 3, n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = nx.DiGraph(_SCM)
    values: dict[str, np.ndarray] = {}
    for node in nx.topological_sort(g):
        parents = sorted(g.predecessors(node))
        # linear mechanisms (the partial-correlation tests are exact) with uniform, non-Gaussian noise (so
        # that an additive noise model can orient them)
        x = sum(rng.choice([-1, 1]) * rng.uniform(0.6, 1.0) * values[p] for p in parents)
        values[node] = (x if parents else 0.0) + rng.uniform(-1, 1, n)
        values[node] = values[node] / values[node].std()
    return pd.DataFrame({f"s:{k}": v for k, v in sorted(values.items())})


def _scm_draft(planted: list[tuple[str, str]], drop: tuple[str, str] | None = None) -> CausalDraft:
    draft = CausalDraft(alarm="s:x9")
    for u, v in _SCM:
        if (u, v) != drop:
            draft.add_edge(f"s:{u}", f"s:{v}", provenance="knowledge", confidence=0.8)
    for u, v in planted:
        draft.add_edge(f"s:{u}", f"s:{v}", provenance="knowledge", confidence=0.8)
    return draft


def test_planted_reversed_and_independent_edges_are_in_the_first_batch() -> None:
    data = _scm_data()
    # x3 -> x4 drafted as x4 -> x3; x0 -> x9 false (dependent only through the chain, so independent
    # given x9's parent x8).
    draft = _scm_draft([("x4", "x3"), ("x0", "x9")], drop=("x3", "x4"))
    batch = next_batch(draft, data)
    found = {s.edge: s for s in batch}
    assert ("s:x4", "s:x3") in found and ("s:x0", "s:x9") in found
    assert found[("s:x0", "s:x9")].kind == "questionable"
    assert found[("s:x4", "s:x3")].kind == "reversed"
    # The true edges the data support are ranked below both planted ones.
    ranked = rank_suspicious(draft, data)
    planted = min(s.score for s in ranked if s.edge in {("s:x4", "s:x3"), ("s:x0", "s:x9")})
    assert all(s.score < planted for s in ranked if s.kind != "missing" and (s.edge[0][2:], s.edge[1][2:]) in _SCM)


def test_cache_gives_the_same_batches_and_reruns_only_tests_whose_conditioning_set_changed() -> None:
    from rcakit.graph.validate import validation_cache

    data = _scm_data()
    draft = _scm_draft([("x4", "x3"), ("x0", "x9")], drop=("x3", "x4"))
    fresh = [s.to_dict() for s in rank_suspicious(draft, data, cache=False)]
    first = [s.to_dict() for s in rank_suspicious(draft, data)]
    assert first == fresh
    cache = validation_cache(draft)
    misses = cache.misses
    again = [s.to_dict() for s in rank_suspicious(draft, data)]
    assert again == fresh and cache.misses == misses and cache.hits > 0  # nothing changed, nothing rerun
    # A decision: reject x0 -> x9. x9 loses a parent, so tests conditioning on x9's parents change;
    # the test of x1 -> x3 (neighbourhood x0, x2, x4) does not.
    draft.set_status("s:x0", "s:x9", EdgeStatus.REJECTED)
    after = [s.to_dict() for s in rank_suspicious(draft, data, exclude=[("s:x0", "s:x9")])]
    assert after == [s.to_dict() for s in rank_suspicious(draft, data, exclude=[("s:x0", "s:x9")], cache=False)]
    assert ("s:x8", "s:x9") in cache.recomputed
    assert ("s:x1", "s:x3") not in cache.recomputed
    # next_batch hands out the same five with and without the cache after the decision.
    assert ([s.edge for s in next_batch(draft, data, exclude=[("s:x0", "s:x9")])]
            == [s.edge for s in next_batch(draft, data, exclude=[("s:x0", "s:x9")], cache=False)])


def test_new_data_starts_a_fresh_cache() -> None:
    from rcakit.graph.validate import validation_cache

    draft = _scm_draft([])
    rank_suspicious(draft, _scm_data(seed=3))
    other = _scm_data(seed=4)
    assert [s.to_dict() for s in rank_suspicious(draft, other)] == [
        s.to_dict() for s in rank_suspicious(draft, other, cache=False)]
    held = validation_cache(draft).data
    assert held is not None and held.n == len(other)


def test_anm_states_degenerate_inputs_without_warnings() -> None:
    import warnings

    from rcakit.graph import anm_direction

    x = np.linspace(0, 1, 200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RankWarning (or any other) fails the test
        constant = anm_direction(np.ones(200), x)
        few = anm_direction(np.arange(200) % 3.0, x)
        short = anm_direction(x[:3], x[:3])
        clustered = anm_direction(np.r_[np.zeros(195), 1e6 + np.arange(5) * 1e-9], x)
    assert constant["reverse_preference"] == 0.0 and constant["degenerate"] == "x is constant"
    assert few["reverse_preference"] == 0.0 and "3 distinct values" in few["degenerate"]
    assert short["reverse_preference"] == 0.0 and "rows" in short["degenerate"]
    assert "degenerate" not in clustered and -1.0 <= clustered["reverse_preference"] <= 1.0
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, 800)
    b = a ** 3 + 0.1 * rng.uniform(-1, 1, 800)
    assert anm_direction(a, b)["reverse_preference"] < -0.3 < 0.3 < anm_direction(b, a)["reverse_preference"]


def test_a_review_session_reuses_the_cache_between_batches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rcakit.graph.validate import validation_cache
    from rcakit.review import ReviewSession

    data = _scm_data()
    draft = _scm_draft([("x4", "x3"), ("x0", "x9")], drop=("x3", "x4"))
    session = ReviewSession(draft, path=tmp_path / "s.json", data=data)
    first = session.next_batch(5)
    cache = validation_cache(session.draft)
    misses = cache.misses
    session.reject(*first[0].edge, reason="test")
    session.next_batch(5)
    assert cache.hits > 0
    assert cache.misses - misses < misses  # the second batch reran fewer tests than the first ran


def test_the_cycle_cut_is_the_edge_the_data_say_points_the_wrong_way() -> None:
    # b -> c in the data (c = b**3 + noise), renamed so that the true edge sorts after the wrong one;
    # the draft holds both directions, equally confident and equally supported by the correlation:
    # the cut must be the direction an additive noise model rejects, not the last in name order.
    data = _chain_data().rename(columns={"s:b": "s:y"})
    draft = _draft([("s:a", "s:y"), ("s:y", "s:c"), ("s:c", "s:y"), ("s:c", "s:d")])
    cuts = [s.edge for s in rank_suspicious(draft, data) if s.kind == "cycle"]
    assert cuts == [("s:c", "s:y")]
    assert max([("s:y", "s:c"), ("s:c", "s:y")]) == ("s:y", "s:c"), "name order alone would cut the true edge"


def test_a_rate_that_fills_a_queue_is_not_questioned_for_the_queue_level() -> None:
    # arrivals fluctuate; the queue's length integrates arrivals minus a steady service: its level
    # barely correlates with the arrival rate, its change per step does.
    rng = np.random.default_rng(3)
    n = 1500
    arrivals = 10 + rng.normal(0, 1, n)
    served = 10 + rng.normal(0, 0.3, n)
    queue = np.cumsum(arrivals - served)
    other = rng.normal(0, 1, n)
    data = pd.DataFrame({"q:enqueue_rate": arrivals, "q:queue_length": queue, "q:other": other})
    level_r = abs(np.corrcoef(arrivals, queue)[0, 1])
    assert level_r < 0.1, "the level must hide the dependence for this test to mean anything"
    draft = CausalDraft(alarm="q:queue_length")
    draft.add_edge("q:enqueue_rate", "q:queue_length", provenance="knowledge", confidence=0.8)
    draft.add_edge("q:other", "q:queue_length", provenance="knowledge", confidence=0.8)
    by_edge = {s.edge: s for s in rank_suspicious(draft, data)}
    fills, unrelated = by_edge[("q:enqueue_rate", "q:queue_length")], by_edge[("q:other", "q:queue_length")]
    assert fills.evidence["p_value"] < 1e-6 and abs(fills.evidence["partial_correlation"]) > 0.5
    assert unrelated.evidence["p_value"] > 1e-3
    assert fills.score < unrelated.score
