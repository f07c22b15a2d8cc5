"""Kinds of edges: a pair of metric kinds with component numbers masked, and how full each kind is in a draft.

Replicas share their structure: ``GPU_0:utilization -> ModelInference_0:latency`` and
``GPU_3:utilization -> ModelInference_3:latency`` are one kind (``same`` component number), so what the
draft, the data or a reviewer says about one informs the others.
"""

from __future__ import annotations

import math
import re

import networkx as nx

from rcakit.graph.draft import CausalDraft, DraftEdge, EdgeStatus
from rcakit.graph.proposal import Provenance

__all__ = ["Kind", "Patterns", "completion_candidates", "node_kind", "pair_kind", "reverse_kind", "sigmoid",
           "was_reversed_by_review"]

#: (cause component with digits masked, cause metric, effect component, effect metric, number relation)
Kind = tuple[str, str, str, str, str]

_DIGITS = re.compile(r"\d+")


def node_kind(node: str) -> tuple[str, str, tuple[str, ...]]:
    """(component with its digits masked, metric, the digits): ``GPU_3:utilization`` -> ("GPU_#", "utilization", ("3",))."""
    entity, _, metric = node.partition(":")
    return _DIGITS.sub("#", entity), metric, tuple(_DIGITS.findall(entity))


def pair_kind(u: str, v: str) -> Kind:
    """The kind of a directed pair: both ends' kinds and whether their component numbers agree."""
    cu, mu, iu = node_kind(u)
    cv, mv, iv = node_kind(v)
    rel = "none" if not iu or not iv else ("same" if iu == iv else "differ")
    return cu, mu, cv, mv, rel


def reverse_kind(p: Kind) -> Kind:
    return p[2], p[3], p[0], p[1], p[4]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


def was_reversed_by_review(edge: DraftEdge) -> bool:
    # ReviewSession.reverse keeps the drafter's provenance and adds the human's.
    return edge.status is EdgeStatus.ACCEPTED and Provenance.HUMAN in edge.provenance and len(edge.provenance) > 1


class Patterns:
    """How often each kind of directed pair occurs among the draft's edges, and how full each kind is.

    Two granularities: with and without the component-number relation (``GPU_0 -> ModelInference_0``
    is "same number"). A kind's *fill* is its weighted edge count over the number of node pairs of
    that kind, the share of possible edges of that kind the draft has: a kind present for three of
    four replicas makes the fourth pair likely.

    A coarser *role* kind keeps only the two metrics and how their components relate in the
    system model (one component, the cause's component calls or uses the effect's, the other way
    round, or neither): ``callee:latency -> caller:latency`` is one role kind over every call of the
    system, so a latency edge drafted from caller to callee stands out even without replicas.
    """

    def __init__(self, draft: CausalDraft, w: dict[str, float]) -> None:
        self.count: dict[tuple[str, ...], float] = {}
        for e in draft.edges.values():
            if e.status is EdgeStatus.REJECTED:
                weight = -w["rejected_weight"]
            else:
                weight = w["accepted_weight"] if e.status is EdgeStatus.ACCEPTED else 1.0
            for key in self.keys(*e.key):
                self.count[key] = self.count.get(key, 0.0) + weight
        self.nodes_of: dict[tuple[str, str], list[str]] = {}
        for n, node in draft.nodes.items():
            if node.observed:
                c, m, _ = node_kind(n)
                self.nodes_of.setdefault((c, m), []).append(n)
        self._pairs: dict[tuple[str, ...], int] = {}
        self._relations: dict[tuple[str, str], str] = {}
        for inter in (draft.system.interactions if draft.system is not None else []):
            verb = "uses" if str(getattr(inter, "kind", "invokes")) == "uses" else "calls"
            self._relations[(inter.source, inter.target)] = verb
            self._relations.setdefault((inter.target, inter.source), f"{verb}-back")
        self.roles: dict[tuple[str, str, str], float] = {}
        for e in draft.edges.values():
            if e.status is not EdgeStatus.REJECTED:
                role = self.role(*e.key)
                weight = w["accepted_weight"] if e.status is EdgeStatus.ACCEPTED else 1.0
                self.roles[role] = self.roles.get(role, 0.0) + weight

    def role(self, u: str, v: str) -> tuple[str, str, str]:
        """(cause metric, effect metric, how the cause's component relates to the effect's)."""
        eu, _, mu = u.partition(":")
        ev, _, mv = v.partition(":")
        return mu, mv, "same" if eu == ev else self._relations.get((eu, ev), "unrelated")

    def role_direction(self, u: str, v: str, own: float) -> tuple[float, float]:
        """(edges of this role kind, edges of the reverse role kind), own edge left out."""
        mu, mv, rel = self.role(u, v)
        back = {"calls": "calls-back", "calls-back": "calls", "uses": "uses-back", "uses-back": "uses"}.get(rel, rel)
        same = max(0.0, self.roles.get((mu, mv, rel), 0.0) - own)
        reverse = (mv, mu, back)
        return same, (same if reverse == (mu, mv, rel) else self.roles.get(reverse, 0.0))

    @staticmethod
    def keys(u: str, v: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        p = pair_kind(u, v)
        return p, p[:4]

    def get(self, key: tuple[str, ...], own: float = 0.0) -> float:
        return max(0.0, self.count.get(key, 0.0) - own)

    def pairs(self, key: tuple[str, ...]) -> int:
        """Ordered node pairs of this kind (observed nodes)."""
        if key not in self._pairs:
            us, vs = self.nodes_of.get((key[0], key[1]), []), self.nodes_of.get((key[2], key[3]), [])
            if len(key) == 4:
                n = sum(1 for u in us for v in vs if u != v)
            else:
                n = sum(1 for u in us for v in vs if u != v and pair_kind(u, v)[4] == key[4])
            self._pairs[key] = n
        return self._pairs[key]

    def fill(self, u: str, v: str, own: float = 0.0) -> float:
        """The larger fill of the pair's kind (either granularity); ``own`` is the pair's own weight, left out."""
        out = 0.0
        for key in self.keys(u, v):
            n = self.pairs(key)
            if n > 1:
                out = max(out, min(1.0, self.get(key, own) / (n - (1 if own else 0))))
        return out

    def direction(self, u: str, v: str, own: float) -> tuple[float, float]:
        """(edges of this kind, edges of the reverse kind), own edge left out; equal when the kind is symmetric."""
        p = pair_kind(u, v)
        rev = reverse_kind(p)
        same = self.get(p, own)
        return same, (self.get(rev) if rev != p else same)


def completion_candidates(patterns: Patterns, live: nx.DiGraph, taken: set[frozenset[str]], min_fill: float,
                           limit: int = 200) -> list[tuple[str, str, float]]:
    """Unlinked pairs of a kind the draft has at ``min_fill`` or more (most full first), never closing a cycle."""
    kinds = [key for key, c in patterns.count.items() if len(key) == 5 and c >= 2]
    out: dict[frozenset[str], tuple[str, str, float]] = {}
    for key in kinds:
        n = patterns.pairs(key)
        if n < 2 or patterns.get(key) / n < min_fill:
            continue
        for u in patterns.nodes_of.get((key[0], key[1]), []):
            for v in patterns.nodes_of.get((key[2], key[3]), []):
                pair = frozenset((u, v))
                if u == v or pair in taken or pair in out or pair_kind(u, v)[4] != key[4]:
                    continue
                if u in live and v in live and nx.has_path(live, v, u):
                    continue
                out[pair] = (u, v, patterns.fill(u, v))
    return sorted(out.values(), key=lambda t: (-t[2], t[0], t[1]))[:limit]


