"""Data-driven discovery for :meth:`ReviewSession.rediscover`, with the review decisions as background knowledge.

``rcakit.graph.data.discover`` does the work when it is importable (PC, GES, GRaSP, NOTEARS with
exact background knowledge, time-bounded); the code below is the fallback used only if that
import fails. In the fallback, the PC algorithm of causal-learn takes the decisions directly (``BackgroundKnowledge``: required and
forbidden edges); GES and GRaSP do not accept them there, so their output is filtered by the same
constraints afterwards. Undirected edges of the learned CPDAG are oriented by the draft when it has
one direction, and otherwise left out (the reviewer is shown directed proposals only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from rcakit.errors import DataError
from rcakit.graph.draft import CausalDraft
from rcakit.review._ranking import wide_frame

__all__ = ["discover"]

Edge = tuple[str, str]
METHODS = ("pc", "ges", "grasp")


def discover(
    draft: CausalDraft, data: Any, *, method: str = "pc", alpha: float = 0.05,
    required: Iterable[Edge] = (), forbidden: Iterable[Edge] = (),
) -> tuple[dict[Edge, dict[str, Any]], str]:
    """Directed edges the data support, each with a small evidence dict, and the method's name."""
    method = method.lower()
    try:
        from rcakit.graph.data import Background
        from rcakit.graph.data import discover as graph_discover
    except ImportError:
        return _fallback(draft, data, method=method, alpha=alpha, required=required, forbidden=forbidden)
    observed = [n for n, node in draft.nodes.items() if node.observed]
    frame = wide_frame(data, observed) if not hasattr(data, "columns") or "time" not in list(data.columns) else data
    present = [n for n in observed if n in list(frame.columns)]
    if len(present) < 2:
        raise DataError("the data hold fewer than two of the draft's nodes as columns",
                        hint="Pass a wide frame whose columns are the draft's 'entity:metric' node names")
    background = Background(required=set(map(tuple, required)), forbidden=set(map(tuple, forbidden)))  # type: ignore[arg-type]
    result = graph_discover(frame, method=method, nodes=present, background=background, alpha=alpha)
    found: dict[Edge, dict[str, Any]] = {}
    for u, v in result.graph.edges:
        found[(u, v)] = {"directed": True, "confidence": 0.6, "seconds": result.seconds}
    for u, v in result.undirected:  # direction unknown: follow the draft when it has one, else skip
        for e in ((u, v), (v, u)):
            if draft.has_edge(*e):
                found[e] = {"directed": False, "confidence": 0.5}
    return found, result.method


def _fallback(
    draft: CausalDraft, data: Any, *, method: str, alpha: float, required: Iterable[Edge], forbidden: Iterable[Edge],
) -> tuple[dict[Edge, dict[str, Any]], str]:
    if method not in METHODS:
        raise DataError(f"unknown discovery method {method!r}", hint=f"Choose one of {', '.join(METHODS)}")
    frame = wide_frame(data, [n for n, node in draft.nodes.items() if node.observed])
    if frame is None or frame.shape[1] < 2:
        raise DataError("the data hold fewer than two of the draft's nodes as columns",
                        hint="Pass a wide frame whose columns are the draft's 'entity:metric' node names")
    frame = frame.loc[:, frame.std(skipna=True) > 0].dropna()
    if len(frame) < 10:
        raise DataError(f"only {len(frame)} complete rows for discovery", hint="Pass a longer window or fill gaps")
    names = [str(c) for c in frame.columns]
    index = {n: i for i, n in enumerate(names)}
    values = frame.to_numpy(dtype=float)
    values = (values - values.mean(axis=0)) / values.std(axis=0)
    required = [e for e in required if e[0] in index and e[1] in index]
    forbidden_set = {e for e in forbidden if e[0] in index and e[1] in index}
    matrix = _learn(method, values, names, alpha, required, forbidden_set)
    found: dict[Edge, dict[str, Any]] = {}
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i >= j:
                continue
            # causal-learn: G[j, i] == 1 and G[i, j] == -1 means i -> j; both -1 means undirected.
            if matrix[j, i] == 1 and matrix[i, j] == -1:
                edges = [(a, b)]
            elif matrix[i, j] == 1 and matrix[j, i] == -1:
                edges = [(b, a)]
            elif matrix[i, j] == -1 and matrix[j, i] == -1:
                if draft.has_edge(a, b):
                    edges = [(a, b)]
                elif draft.has_edge(b, a):
                    edges = [(b, a)]
                else:
                    edges = []
            else:
                edges = []
            for e in edges:
                if e not in forbidden_set:
                    r = float(np.corrcoef(values[:, index[e[0]]], values[:, index[e[1]]])[0, 1])
                    found[e] = {"abs_correlation": round(abs(r), 4), "confidence": round(min(0.9, 0.5 + abs(r) / 2), 3)}
    return found, method


def _learn(method: str, values: np.ndarray, names: list[str], alpha: float, required: list[Edge],
           forbidden: set[Edge]) -> np.ndarray:
    if method == "pc":
        from causallearn.graph.GraphNode import GraphNode
        from causallearn.search.ConstraintBased.PC import pc
        from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

        nodes = {n: GraphNode(f"X{i + 1}") for i, n in enumerate(names)}
        knowledge = BackgroundKnowledge()
        for a, b in forbidden:
            knowledge.add_forbidden_by_node(nodes[a], nodes[b])
        for a, b in required:
            knowledge.add_required_by_node(nodes[a], nodes[b])
        result = pc(values, alpha=alpha, indep_test="fisherz", background_knowledge=knowledge, show_progress=False)
        return np.asarray(result.G.graph)
    if method == "ges":
        from causallearn.search.ScoreBased.GES import ges

        return np.asarray(ges(values)["G"].graph)
    from causallearn.search.PermutationBased.GRaSP import grasp

    return np.asarray(grasp(values).graph)
