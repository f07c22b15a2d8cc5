"""NOTEARS (Zheng et al., NeurIPS 2018): a linear structure learner by continuous optimisation, in numpy/scipy.

The acyclicity constraint is h(W) = tr(e^(W∘W)) - d = 0 (CGL-BFI eq. 2), enforced with an augmented
Lagrangian; :func:`rcakit.graph.data.discover` runs it as ``method="notears"``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import networkx as nx
import numpy as np

__all__ = ["notears"]


def notears(x: np.ndarray, *, lambda1: float = 0.05, w_threshold: float = 0.3, max_iter: int = 100,
            h_tol: float = 1e-8, rho_max: float = 1e16, forbidden: Iterable[tuple[int, int]] = (),
            deadline: float | None = None, max_inner: int = 500) -> np.ndarray:
    """Linear NOTEARS: min 1/2n ||X - XW||² + λ||W||₁ subject to h(W) = tr(e^(W∘W)) - d = 0.

    Augmented Lagrangian with L-BFGS-B on W = W⁺ - W⁻ (Zheng et al. 2018). ``forbidden`` (i, j)
    entries are held at zero. Returns the weighted adjacency W (W[i, j] != 0: i -> j) after
    thresholding |W| < ``w_threshold``. Deterministic for a given input (it starts from zero).
    ``max_inner`` bounds each L-BFGS-B solve; past ``deadline`` (time.monotonic) the current
    estimate is returned (thresholded, with any cycle broken at its weakest edge).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return _notears(x, lambda1, w_threshold, max_iter, h_tol, rho_max, forbidden, deadline, max_inner)
    # Tiny matrices: BLAS threads only contend (tens of ms per product on a busy machine).
    with threadpool_limits(1):
        return _notears(x, lambda1, w_threshold, max_iter, h_tol, rho_max, forbidden, deadline, max_inner)


def _notears(x: np.ndarray, lambda1: float, w_threshold: float, max_iter: int, h_tol: float, rho_max: float,
             forbidden: Iterable[tuple[int, int]], deadline: float | None, max_inner: int) -> np.ndarray:
    import scipy.linalg as slin
    import scipy.optimize as sopt

    n, d = x.shape
    if d == 0:
        return np.zeros((0, 0))
    x = x - x.mean(axis=0)
    zero = {(i, i) for i in range(d)} | {(int(i), int(j)) for i, j in forbidden}

    def adj(w: np.ndarray) -> np.ndarray:
        mat: np.ndarray = (w[: d * d] - w[d * d:]).reshape(d, d)
        return mat

    def h_of(w_mat: np.ndarray) -> tuple[float, np.ndarray]:
        e = slin.expm(w_mat * w_mat)
        return float(np.trace(e) - d), e.T * w_mat * 2

    rho, alpha, h = 1.0, 0.0, np.inf
    last = {"w": np.zeros(2 * d * d)}

    class _OutOfTime(Exception):
        pass

    # The least-squares loss through the sample covariance: O(d^3) per evaluation instead of O(n d^2).
    cov = x.T @ x / n
    eye = np.eye(d)

    def func(w: np.ndarray) -> tuple[float, np.ndarray]:
        if deadline is not None and time.monotonic() > deadline:
            raise _OutOfTime
        last["w"] = w
        w_mat = adj(w)
        resid = eye - w_mat
        g_loss = -cov @ resid
        loss = 0.5 * float(np.sum(resid * (cov @ resid)))
        hv, g_h = h_of(w_mat)
        obj = loss + 0.5 * rho * hv * hv + alpha * hv + lambda1 * float(w.sum())
        g_smooth = g_loss + (rho * hv + alpha) * g_h
        return obj, np.concatenate((g_smooth + lambda1, -g_smooth + lambda1), axis=None)

    bounds = [(0.0, 0.0) if (i, j) in zero else (0.0, None) for _ in range(2) for i in range(d) for j in range(d)]
    w_est = np.zeros(2 * d * d)
    for _ in range(max_iter):
        w_new, h_new = w_est, h
        while rho < rho_max:
            try:
                sol = sopt.minimize(func, w_est, method="L-BFGS-B", jac=True, bounds=bounds,
                                    options={"maxiter": max_inner})
                w_new = sol.x
            except _OutOfTime:
                w_new = last["w"]
                break
            h_new, _ = h_of(adj(w_new))
            if h_new > 0.25 * h:
                rho *= 10
            else:
                break
            if deadline is not None and time.monotonic() > deadline:
                break
        w_est, h = w_new, h_new
        alpha += rho * h
        if h <= h_tol or rho >= rho_max or (deadline is not None and time.monotonic() > deadline):
            break
    w_mat = adj(w_est)
    w_mat[np.abs(w_mat) < w_threshold] = 0.0
    # The threshold usually leaves a DAG; if not, drop the weakest edge of each remaining cycle.
    g = nx.DiGraph([(i, j, {"w": abs(w_mat[i, j])}) for i, j in zip(*np.nonzero(w_mat), strict=True)])
    while True:
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            break
        i, j = min(cycle, key=lambda e: g.edges[e[0], e[1]]["w"])[:2]
        g.remove_edge(i, j)
        w_mat[i, j] = 0.0
    return w_mat
