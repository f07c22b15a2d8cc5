"""The checks behind the suspicion ranking: reach of the alarm, local Markov independences, cycle cuts, missed edges."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

import networkx as nx

from rcakit.graph.draft import CausalDraft, EdgeStatus
from rcakit.graph.validate._cache import _Data
from rcakit.graph.validate.suspect import SuspectEdge

__all__ = ["alarm_reach", "candidate_set", "cycle_cut", "entity", "entity_links", "impact_of_addition",
           "impact_of_removal", "local_markov", "missing_edges", "review_graph"]


def review_graph(draft: CausalDraft) -> nx.DiGraph:
    return draft.observed_graph(include_proposed=True)


def alarm_reach(g: nx.DiGraph, alarm: str | None) -> set[str]:
    if alarm is None or alarm not in g:
        return set()
    reach: set[str] = nx.ancestors(g, alarm)
    return reach


def impact_of_removal(g: nx.DiGraph, edge: tuple[str, str], alarm: str | None, before: set[str]) -> float:
    if alarm is None or not before or not g.has_edge(*edge):
        return 0.0
    data = g.edges[edge]
    g.remove_edge(*edge)
    after = alarm_reach(g, alarm)
    g.add_edge(*edge, **data)
    return len(before - after) / max(len(before), 1)


def impact_of_addition(g: nx.DiGraph, edge: tuple[str, str], alarm: str | None, before: set[str]) -> float:
    if alarm is None or alarm not in g or edge[0] not in g or edge[1] not in g:
        return 0.0
    g.add_edge(*edge)
    after = alarm_reach(g, alarm)
    g.remove_edge(*edge)
    return len(after - before) / max(len(g) - 1, 1)



def entity(node: str) -> str:
    return node.split(":", 1)[0]


def entity_links(g: nx.DiGraph) -> dict[frozenset[str], int]:
    """How many edges of the graph link each pair of distinct entities (either direction)."""
    out: dict[frozenset[str], int] = {}
    for u, v in g.edges:
        eu, ev = entity(u), entity(v)
        if eu != ev:
            key = frozenset((eu, ev))
            out[key] = out.get(key, 0) + 1
    return out


def candidate_set(draft: CausalDraft) -> set[frozenset[str]] | None:
    """Pairs of metrics on one component or on interacting ones (Atlas 4.4), when the draft has a system."""
    if draft.system is None:
        return None
    from rcakit.graph.candidates import candidate_pairs

    try:
        return {frozenset((p.a, p.b)) for p in candidate_pairs(draft.system, include_unobserved=True)}
    except Exception:  # a system model that cannot enumerate pairs gives no structural evidence
        return None


class MarkovViolation(TypedDict):
    """An independence the draft implies next to an edge that the data break (see :func:`local_markov`)."""

    check: str
    other: str
    partial_correlation: float
    p_value: float


class CycleCut(TypedDict):
    """Why :func:`cycle_cut` cuts an edge: the number of the draft's cycles it is on."""

    cycles: int


def local_markov(d: _Data, g: nx.DiGraph, u: str, v: str, desc: Callable[[str], set[str]],
                 alpha: float) -> list[MarkovViolation]:
    """Independences the draft implies next to u -> v that a reversed edge (v -> u) would break.

    (A) Another parent w of v, not adjacent to u and not u's descendant, is independent of u given
    u's parents (both are causes of v); with v -> u in truth, w -> v -> u makes them dependent.
    (B) A parent q of u, not adjacent to v and not v's descendant, is independent of v given v's
    parents (which hold u); with v -> u <- q in truth, conditioning on the collider u links them.
    Returns the violated ones (p < alpha), strongest first.
    """
    out: list[MarkovViolation] = []
    # (A) tests u against v's other parents, (B) tests v against u's other parents: one loop, two roles.
    for x, y, why in ((u, v, "{x} and {o} (both causes of {y}) independent given {x}'s parents"),
                      (v, u, "{x} and {o} independent given {x}'s parents")):
        adj_x = set(g.predecessors(x)) | set(g.successors(x))
        for o in g.predecessors(y):
            if o == x or o in adj_x or not d.has(o) or o in desc(x):
                continue
            r, p, _ = d.test(x, o, [z for z in g.predecessors(x) if z != o])
            if p < alpha:
                out.append({"check": why.format(x=x, o=o, y=y), "other": o, "partial_correlation": r,
                            "p_value": p})
    out.sort(key=lambda c: -abs(c["partial_correlation"]))
    return out



def cycle_cut(draft: CausalDraft, d: _Data | None, excluded: set[tuple[str, str]],
               max_cycles: int = 2000) -> dict[tuple[str, str], CycleCut]:
    g = draft.confounder_graph(include_proposed=True)
    cuts: dict[tuple[str, str], CycleCut] = {}
    while True:
        sccs = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
        if not sccs:
            return cuts
        counts: dict[tuple[str, str], int] = {}
        n = 0
        for comp in sccs:
            for cycle in nx.simple_cycles(g.subgraph(comp)):
                for i in range(len(cycle)):
                    e = (cycle[i], cycle[(i + 1) % len(cycle)])
                    counts[e] = counts.get(e, 0) + 1
                n += 1
                if n >= max_cycles:
                    break
        cuttable = [e for e in counts if draft.has_edge(*e) and draft.edge(*e).status is EdgeStatus.PROPOSED]
        if not cuttable:
            return cuts  # only accepted edges left on the cycle: a human decided that

        def support(e: tuple[str, str]) -> float:
            if d is None or not d.has(*e):
                return 0.0
            return abs(float(d.corr[d.index[e[0]], d.index[e[1]]]))

        def reversal(e: tuple[str, str]) -> float:
            if d is None or not d.has(*e):
                return 0.0
            return round(float(d.anm(*e)["reverse_preference"]), 2)

        best = max(cuttable, key=lambda e: (counts[e], -draft.edge(*e).confidence, reversal(e), -support(e), e))
        g.remove_edge(*best)
        if best not in excluded:
            cuts[best] = {"cycles": counts[best]}


def missing_edges(draft: CausalDraft, d: _Data, g: nx.DiGraph, alarm: str | None, before: set[str],
             excluded: set[tuple[str, str]], alpha: float, min_r: float, seed: int) -> list[SuspectEdge]:
    nodes = [n for n in g.nodes if d.has(n)]
    if draft.system is not None:
        from rcakit.graph.candidates import candidate_pairs

        pairs = [(p.a, p.b) for p in candidate_pairs(draft.system, include_unobserved=False)
                 if d.has(p.a, p.b)]
    else:
        pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:]]
    rejected = {e.key for e in draft.edges_where(status=EdgeStatus.REJECTED)}
    rejected |= {(v, u) for u, v in rejected}
    undirected = g.to_undirected(as_view=True)
    out = []
    for a, b in pairs:
        if g.has_edge(a, b) or g.has_edge(b, a) or (a, b) in excluded or (a, b) in rejected:
            continue
        # Condition on the parents of both ends: in a DAG that is right, two nonadjacent nodes are
        # independent given their parents (local Markov property), whichever is the other's ancestor.
        # (Their children are left out: conditioning on a common child would link them.)
        cond = [*g.predecessors(a), *g.predecessors(b)]
        r, p, used = d.test(a, b, cond)
        if p > alpha or abs(r) < min_r:
            continue
        # Direction: towards the alarm's ancestry when only one end is in it, else the ANM's choice.
        reach = before | ({alarm} if alarm else set())
        anm = d.anm(a, b)
        if (b in reach) != (a in reach):
            edge = (a, b) if b in reach else (b, a)
            how = "towards the alarm"
        else:
            edge = (b, a) if anm["reverse_preference"] > 0 else (a, b)
            how = "by the additive noise model"
        if nx.has_path(g, edge[1], edge[0]):
            edge = (edge[1], edge[0])  # never close a cycle
            how = "so as not to close a cycle"
        connected = nx.has_path(undirected, a, b)
        impact = impact_of_addition(g, edge, alarm, before)
        base = 0.45 * min(1.0, abs(r)) + (0.0 if connected else 0.1)
        score = round(base * (0.85 + 0.15 * min(1.0, impact * 4)) * (1.0 if impact > 0 or alarm is None else 0.8), 4)
        reasons = [f"dependent in the data given their parents (partial correlation {r:+.2f}, p = {p:.2g})",
                   f"oriented {how}"]
        if not connected:
            reasons.append("would connect two parts of the graph that are not connected")
        if impact > 0:
            reasons.append(f"gives {impact:.0%} of the nodes a new path to the alarm")
        out.append(SuspectEdge(edge, "missing", score, reasons,
                               {"partial_correlation": r, "p_value": p, "conditioned_on": used, "anm": anm,
                                "alarm_impact": impact, "adds_connectivity": not connected}))
    return out
