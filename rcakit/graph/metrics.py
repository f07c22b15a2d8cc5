"""How close a drafted graph is to a true one: precision, recall, F1 (directed and skeleton) and SHD."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

__all__ = ["GraphScore", "compare_graphs"]


@dataclass(frozen=True)
class GraphScore:
    """Edge-level agreement of a predicted graph with the truth (nodes matched by name).

    Directed scores count an edge right only with the right direction; skeleton scores ignore
    direction. ``shd`` (structural Hamming distance) counts the edge insertions, deletions and
    reversals that turn the prediction into the truth (a reversal counts once).
    """

    precision: float
    recall: float
    f1: float
    skeleton_precision: float
    skeleton_recall: float
    skeleton_f1: float
    shd: int
    true_positives: int
    false_positives: int
    false_negatives: int
    reversed: int
    n_predicted: int
    n_true: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def _repr_html_(self) -> str:
        return (f"<b>GraphScore</b>: F1 {self.f1:.3f} (precision {self.precision:.3f}, recall {self.recall:.3f}); "
                f"skeleton F1 {self.skeleton_f1:.3f}; SHD {self.shd}; {self.n_predicted} predicted, "
                f"{self.n_true} true edges, {self.reversed} reversed")

    def __str__(self) -> str:
        return html.unescape(self._repr_html_().replace("<b>", "").replace("</b>", ""))


def _edges(graph: Any) -> set[tuple[str, str]]:
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


def compare_graphs(predicted: Any, truth: Any, *, nodes: Iterable[str] | None = None) -> GraphScore:
    """Score ``predicted`` against ``truth``: each a networkx graph, a CausalDraft or an iterable of edges.

    A CausalDraft is scored by its observed graph (unobserved nodes collapsed; proposed and accepted
    edges). ``nodes`` restricts both graphs to edges between those nodes (for example the nodes
    that have data). Self-loops are ignored.
    """
    pred, true = _edges(predicted), _edges(truth)
    if nodes is not None:
        keep = set(nodes)
        pred = {e for e in pred if e[0] in keep and e[1] in keep}
        true = {e for e in true if e[0] in keep and e[1] in keep}
    tp = len(pred & true)
    reversed_ = len({(u, v) for u, v in pred - true if (v, u) in true})
    p, r, f = _prf(tp, len(pred), len(true))
    skel_pred = {frozenset(e) for e in pred}
    skel_true = {frozenset(e) for e in true}
    sp, sr, sf = _prf(len(skel_pred & skel_true), len(skel_pred), len(skel_true))
    # SHD: skeleton differences, plus edges present in both skeletons with another orientation.
    shd = len(skel_pred ^ skel_true)
    for pair in skel_pred & skel_true:
        u, v = tuple(pair)
        if ((u, v) in pred) != ((u, v) in true) or ((v, u) in pred) != ((v, u) in true):
            shd += 1
    return GraphScore(p, r, f, sp, sr, sf, shd, tp, len(pred) - tp, len(true) - tp, reversed_, len(pred), len(true))
