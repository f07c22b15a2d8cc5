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
