"""The learners one structure-learning job runs: causal-learn's PC, GES and GRaSP, and NOTEARS.

:func:`_learn` is what :func:`rcakit.graph.data.discover` runs, in its own process when unbounded and in
the child interpreter (:mod:`rcakit.graph._worker`) otherwise: one job in (node indices, not names),
the learned edges out as :class:`_Learned`. The global random generators are seeded from the job's seed
for the run and put back afterwards. Neither the parent's bookkeeping nor the child's framing lives here,
so both import this module and neither imports the other.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias, TypedDict

import numpy as np

from rcakit.errors import DataError, MissingDependencyError
from rcakit.graph.notears import notears

__all__ = ["DiscoveryMethod", "_Job", "_Learned", "_learn"]

#: One learner run as sent to the child process: method, data, alpha, required and forbidden edges (node
#: indices), deadline (time.monotonic) and seed; the arguments of :func:`_learn`.
_Job: TypeAlias = "tuple[str, np.ndarray, float, list[tuple[int, int]], list[tuple[int, int]], float | None, int]"


class DiscoveryMethod(StrEnum):
    PC = "pc"
    GES = "ges"
    GRASP = "grasp"
    NOTEARS = "notears"


class _Learned(TypedDict):
    """What a learner run returns (sent as JSON from the child process): node indices, not names."""

    directed: list[tuple[int, int]]
    undirected: list[tuple[int, int]]
    weights: dict[str, float]  # "i,j" -> weight of the directed edge i -> j (NOTEARS only)


# -- causal-learn -----------------------------------------------------------------------------------------
def _causallearn_edges(matrix: np.ndarray) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Directed and undirected edges of a causal-learn endpoint matrix (G[j,i]=1, G[i,j]=-1: i -> j)."""
    directed, undirected = [], []
    d = matrix.shape[0]
    for i in range(d):
        for j in range(i + 1, d):
            a, b = matrix[i, j], matrix[j, i]
            if a == -1 and b == 1:
                directed.append((i, j))
            elif a == 1 and b == -1:
                directed.append((j, i))
            elif a == -1 and b == -1:
                undirected.append((i, j))
            elif a == 1 and b == 1:
                undirected.append((i, j))  # bidirected: adjacent, direction unknown
    return directed, undirected


def _learn(method: str, x: np.ndarray, alpha: float, required: list[tuple[int, int]],
           forbidden: list[tuple[int, int]], deadline: float | None, seed: int = 0) -> _Learned:
    import random

    # causal-learn draws from the global generators (GRaSP shuffles its orders with ``random``):
    # seed them from the caller's seed for the run, and put the caller's state back afterwards.
    py_state, np_state = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn brings it
            return _learn_inner(method, x, alpha, required, forbidden, deadline)
        # Small matrices: BLAS threads only contend with each other (and with other work on the machine).
        with threadpool_limits(1):
            return _learn_inner(method, x, alpha, required, forbidden, deadline)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


def _learn_inner(method: str, x: np.ndarray, alpha: float, required: list[tuple[int, int]],
                 forbidden: list[tuple[int, int]], deadline: float | None) -> _Learned:
    d = x.shape[1]
    if method == DiscoveryMethod.NOTEARS:
        w = notears(x, forbidden=forbidden, deadline=deadline)
        directed = [(int(i), int(j)) for i, j in zip(*np.nonzero(w), strict=True)]
        return {"directed": directed, "undirected": [], "weights": {f"{i},{j}": float(w[i, j]) for i, j in directed}}
    try:
        import causallearn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - causal-learn is a core dependency
        raise MissingDependencyError("causal-learn is needed for PC, GES and GRaSP; pip install causal-learn") from exc
    names = [f"X{i + 1}" for i in range(d)]
    if method == DiscoveryMethod.PC:
        from causallearn.graph.GraphNode import GraphNode
        from causallearn.search.ConstraintBased.PC import pc
        from causallearn.utils.PCUtils.BackgroundKnowledge import BackgroundKnowledge

        bk = BackgroundKnowledge()
        nodes = [GraphNode(n) for n in names]
        for i, j in forbidden:
            bk.add_forbidden_by_node(nodes[i], nodes[j])
        for i, j in required:
            bk.add_required_by_node(nodes[i], nodes[j])
        cg = pc(x, alpha=alpha, indep_test="fisherz", background_knowledge=bk, show_progress=False, node_names=names)
        matrix = cg.G.graph
    elif method == DiscoveryMethod.GES:
        from causallearn.search.ScoreBased.GES import ges

        matrix = ges(x, score_func="local_score_BIC", node_names=names)["G"].graph
    elif method == DiscoveryMethod.GRASP:
        from causallearn.search.PermutationBased.GRaSP import grasp

        matrix = grasp(x, score_func="local_score_BIC_from_cov", verbose=False, node_names=names).graph
    else:
        raise DataError(f"unknown discovery method {method!r}", hint="Use one of: pc, ges, grasp, notears")
    directed, undirected = _causallearn_edges(np.asarray(matrix))
    return {"directed": directed, "undirected": undirected, "weights": {}}
