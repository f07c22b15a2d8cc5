"""How close a drafted graph is to a true one: precision, recall, F1 (directed and skeleton) and SHD."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, TypeAlias

import networkx as nx

if TYPE_CHECKING:
    from rcakit.graph.draft import CausalDraft

__all__ = ["GraphScore", "ScoredGraph", "compare_graphs"]

#: What :func:`compare_graphs` scores: a networkx graph, a CausalDraft (its observed graph) or (cause, effect) pairs.
ScoredGraph: TypeAlias = "nx.Graph | CausalDraft | Iterable[tuple[str, str]]"


@dataclass(frozen=True)
class GraphScore:
    """Edge-level agreement of a predicted graph with the truth (nodes matched by name).

    Directed scores count an edge right only with the right direction; skeleton scores ignore
    direction. ``shd`` (structural Hamming distance) counts the edge insertions, deletions and
    reversals that turn the prediction into the truth (a reversal counts once).

    An edge the prediction leaves undirected (``undirected`` of :func:`compare_graphs`, as PC, GES
    and GRaSP leave edges they cannot orient) counts as half an edge in each direction: it adds one
    edge to ``n_predicted``, half a true positive when the truth has the pair in one direction (and
    half a false positive and half a false negative), a whole false positive when the truth lacks the
    pair. In the skeleton it is a whole edge; in the SHD it is an orientation still to be made (1)
    when the truth has the pair. Hence ``true_positives``, ``false_positives`` and ``false_negatives``
    are floats (multiples of one half).
    """

    precision: float
    recall: float
    f1: float
    skeleton_precision: float
    skeleton_recall: float
    skeleton_f1: float
    shd: int
    true_positives: float
    false_positives: float
    false_negatives: float
    reversed: int
    n_predicted: int
    n_true: int
    undirected: int = 0

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def _repr_html_(self) -> str:
        return (f"<b>GraphScore</b>: F1 {self.f1:.3f} (precision {self.precision:.3f}, recall {self.recall:.3f}); "
                f"skeleton F1 {self.skeleton_f1:.3f}; SHD {self.shd}; {self.n_predicted} predicted, "
                f"{self.n_true} true edges, {self.reversed} reversed"
                + (f", {self.undirected} undirected (half an edge each way)" if self.undirected else ""))

    def __str__(self) -> str:
        return html.unescape(self._repr_html_().replace("<b>", "").replace("</b>", ""))


def _edges(graph: ScoredGraph) -> set[tuple[str, str]]:
    if isinstance(graph, nx.Graph):
        g = graph
    elif hasattr(graph, "observed_graph"):
        g = graph.observed_graph()
    else:
        return {(str(u), str(v)) for u, v in graph if u != v}
    return {(str(u), str(v)) for u, v in g.edges if u != v}


def _prf(tp: int, n_pred: int, n_true: int) -> tuple[float, float, float]:
    precision = tp / n_pred if n_pred else (1.0 if n_true == 0 else 0.0)
    recall = tp / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def compare_graphs(predicted: ScoredGraph, truth: ScoredGraph, *, nodes: Iterable[str] | None = None,
                   undirected: Iterable[tuple[str, str]] = ()) -> GraphScore:
    """Score ``predicted`` against ``truth``: each a networkx graph, a CausalDraft or an iterable of edges.

    A CausalDraft is scored by its observed graph (unobserved nodes collapsed; proposed and accepted
    edges). ``nodes`` restricts both graphs to edges between those nodes (for example the nodes
    that have data). Self-loops are ignored. ``undirected``: pairs the prediction links without a
    direction (for example ``DiscoveryResult.undirected``), scored as half an edge each way (see
    :class:`GraphScore`); a pair that is also a directed predicted edge is scored as directed.
    """
    pred, true = _edges(predicted), _edges(truth)
    und = {frozenset((str(u), str(v))) for u, v in undirected if u != v}
    if nodes is not None:
        keep = set(nodes)
        pred = {e for e in pred if e[0] in keep and e[1] in keep}
        true = {e for e in true if e[0] in keep and e[1] in keep}
        und = {p for p in und if p <= keep}
    und -= {frozenset(e) for e in pred}
    # Each undirected pair is half an edge each way: half right per direction the truth has.
    half_hits = sum(((u, v) in true) + ((v, u) in true) for u, v in (tuple(p) for p in und))
    tp_directed = len(pred & true)
    tp = tp_directed + 0.5 * half_hits
    n_pred = len(pred) + len(und)
    reversed_ = len({(u, v) for u, v in pred - true if (v, u) in true})
    precision = tp / n_pred if n_pred else (1.0 if not true else 0.0)
    recall = tp / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    skel_pred = {frozenset(e) for e in pred} | und
    skel_true = {frozenset(e) for e in true}
    sp, sr, sf = _prf(len(skel_pred & skel_true), len(skel_pred), len(skel_true))
    # SHD: skeleton differences, plus pairs in both skeletons with another orientation (an undirected
    # predicted pair always differs from the truth's orientation).
    shd = len(skel_pred ^ skel_true)
    for pair in skel_pred & skel_true:
        u, v = tuple(pair)
        if pair in und or ((u, v) in pred) != ((u, v) in true) or ((v, u) in pred) != ((v, u) in true):
            shd += 1
    return GraphScore(precision, recall, f1, sp, sr, sf, shd, tp, n_pred - tp, len(true) - tp, reversed_, n_pred,
                      len(true), len(und))
