"""The drafts the review bench starts from: seeded perturbations of a knowledge draft or of the truth, PC alone."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from rcakit.graph import CausalDraft
    from rcakit.graph.combine import SystemSource
    from rcakit.graph.data import WideData

__all__ = ["data_draft", "knowledge_perturbed_draft", "perturbed_draft"]


def perturbed_draft(truth: nx.DiGraph, *, seed: int, drop: float = 0.15, reverse: float = 0.15,
                    add: float = 0.15, alarm: str | None = None) -> CausalDraft:
    """The true graph with a seeded share of edges dropped, reversed and false ones added (all proposed)."""
    from rcakit.graph import CausalDraft, EdgeStatus

    rng = random.Random(seed)
    edges = sorted(truth.edges)
    rng.shuffle(edges)
    n = len(edges)
    n_drop, n_rev = round(drop * n), round(reverse * n)
    draft = CausalDraft(alarm=None, meta={"name": "perturbed"})
    for node in sorted(truth.nodes):
        draft.add_node(node)
    for i, (u, v) in enumerate(edges):
        if i < n_drop:
            continue
        src, dst = (v, u) if i < n_drop + n_rev else (u, v)
        draft.add_edge(src, dst, status=EdgeStatus.PROPOSED, provenance="llm", confidence=round(rng.uniform(0.3, 1), 2))
    nodes = sorted(truth.nodes)
    added, tries = 0, 0
    while added < round(add * n) and tries < 100 * n + 100:
        tries += 1
        u, v = rng.sample(nodes, 2)
        if truth.has_edge(u, v) or truth.has_edge(v, u) or draft.has_edge(u, v) or draft.has_edge(v, u):
            continue
        draft.add_edge(u, v, status=EdgeStatus.PROPOSED, provenance="llm", confidence=round(rng.uniform(0.3, 1), 2))
        added += 1
    draft.alarm = alarm if alarm in truth else None
    return draft


def knowledge_perturbed_draft(draft: CausalDraft, *, seed: int, share: float = 0.2) -> CausalDraft:
    """A copy of ``draft`` with a seeded ``share`` of its observed edges removed, reversed or added (a third each).

    Only edges between two observed nodes are touched (so every change shows in the observed graph);
    ``round(share * n)`` changes for ``n`` such edges. A reversed edge keeps everything the drafter
    recorded (rules, confidence, provenance); an added edge links two observed nodes the draft does
    not link, preferring nodes two steps apart (a shortcut or a link between siblings, the kind of
    error a drafter makes), and copies provenance, confidence and rules from a randomly chosen edge
    of the draft, so that none of the fields a ranking may read marks it as planted.
    """
    from rcakit.graph import EdgeStatus

    if not 0 <= share <= 1:
        raise ValueError(f"share must be within [0, 1], got {share}")
    rng = random.Random(seed)
    out = draft.copy()
    observed = {n for n, node in out.nodes.items() if node.observed}
    edges = sorted(k for k in out.edges if k[0] in observed and k[1] in observed)
    n_changes = round(share * len(edges))
    n_remove = n_changes // 3 + (1 if n_changes % 3 >= 1 else 0)
    n_reverse = n_changes // 3 + (1 if n_changes % 3 >= 2 else 0)
    n_add = n_changes - n_remove - n_reverse
    rng.shuffle(edges)
    donors = [out.edge(*k) for k in edges]
    for u, v in edges[:n_remove]:
        out.remove_edge(u, v)
    for u, v in edges[n_remove:n_remove + n_reverse]:
        if (v, u) not in out.edges:
            out.reverse_edge(u, v)
    skeleton = nx.Graph(list(out.edges))
    nodes = sorted(observed)
    near = sorted({(a, c) for b in skeleton for a in skeleton[b] for c in skeleton[b]
                   if a < c and a in observed and c in observed and not skeleton.has_edge(a, c)})
    rng.shuffle(near)
    added = tries = 0
    while added < n_add and tries < 100 * len(nodes) + 100:
        tries += 1
        a, c = near.pop() if near else tuple(rng.sample(nodes, 2))
        if (a, c) in out.edges or (c, a) in out.edges:
            continue
        u, v = (a, c) if rng.random() < 0.5 else (c, a)
        donor = rng.choice(donors)
        out.add_edge(u, v, status=EdgeStatus.PROPOSED, provenance=list(donor.provenance),
                     confidence=donor.confidence, rules=list(donor.rules), rationale=donor.rationale)
        added += 1
    out.meta["perturbation"] = {"seed": seed, "share": share, "removed": n_remove, "reversed": n_reverse,
                                "added": added}
    return out


def data_draft(source: SystemSource, data: WideData, *, seed: int, max_seconds: float = 60.0) -> CausalDraft:
    """A draft from the data alone: PC over all observed nodes (not restricted to the system's candidate pairs)."""
    from rcakit.graph import DataSuggester, draft_graph

    pc = DataSuggester("pc", data, max_seconds=max_seconds, seed=seed, restrict_to_candidates=False)
    return draft_graph(source, suggesters=[pc], data=data)
