"""Statistics of validation: partial correlation with a Fisher z test, and an additive-noise-model direction test."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NotRequired, TypedDict

import numpy as np

__all__ = ["ANM_MIN_DISTINCT", "anm_direction", "fisher_p", "partial_correlation"]


def partial_correlation(corr: np.ndarray, i: int, j: int, cond: Iterable[int]) -> float:
    """Partial correlation of variables i and j given ``cond`` from a correlation matrix."""
    idx = [i, j, *[c for c in cond if c not in (i, j)]]
    sub = corr[np.ix_(idx, idx)]
    prec = np.linalg.pinv(sub)
    denom = math.sqrt(max(prec[0, 0] * prec[1, 1], 1e-300))
    return float(np.clip(-prec[0, 1] / denom, -0.999999, 0.999999))


def fisher_p(r: float, n: int, k: int) -> float:
    dof = max(n - k - 3, 1)
    z = 0.5 * math.log((1 + r) / (1 - r)) * math.sqrt(dof)
    return float(math.erfc(abs(z) / math.sqrt(2)))


def _hsic(x: np.ndarray, y: np.ndarray) -> float:
    """Normalised HSIC statistic with Gaussian kernels (median heuristic); O(n^2) centring."""

    def centred_gram(v: np.ndarray) -> np.ndarray:
        d = (v[:, None] - v[None, :]) ** 2
        # Median heuristic on the pairs among the first 100 points (already a random sample): the
        # median of all n^2 distances costs more than the rest of the test.
        head = d[:100, :100][np.triu_indices(min(100, v.shape[0]), 1)]
        pos = head[head > 0]
        med = float(np.median(pos)) if pos.size else 1.0
        k = np.exp(-d / med)
        row = k.mean(axis=0)
        gram: np.ndarray = k - row[None, :] - row[:, None] + row.mean()
        return gram  # H K H without the two n^3 products

    k, lm = centred_gram(x), centred_gram(y)
    num = float((k * lm).sum())
    den = math.sqrt(float((k * k).sum()) * float((lm * lm).sum())) or 1.0
    return num / den


#: Fewer distinct values than this in either series and the ANM test states no preference: a cubic
#: fit through at most four distinct points interpolates them and says nothing about noise.
ANM_MIN_DISTINCT = 5


def _residual(cause: np.ndarray, effect: np.ndarray, degree: int = 3) -> np.ndarray:
    """Residual of a least-squares polynomial fit of ``effect`` on ``cause`` (standardised inputs).

    Solved with ``lstsq`` on the Vandermonde matrix of the cause scaled to [-1, 1], so that a badly
    conditioned fit is a fit of lower effective rank, never a warning.
    """
    span = float(np.max(np.abs(cause))) or 1.0
    vander = np.vander(cause / span, degree + 1)
    coef, *_ = np.linalg.lstsq(vander, effect, rcond=None)
    residual: np.ndarray = effect - vander @ coef
    return residual


class ANMResult(TypedDict):
    """What :func:`anm_direction` returns: both HSIC statistics (None when degenerate), the preference, why not."""

    hsic_forward: float | None
    hsic_backward: float | None
    reverse_preference: float
    degenerate: NotRequired[str]


def anm_direction(x: np.ndarray, y: np.ndarray, *, max_samples: int = 300, seed: int = 0) -> ANMResult:
    """Additive-noise-model check of x -> y against y -> x.

    Fits each direction with a cubic regression and measures the dependence between the cause and
    the residual (normalised HSIC; lower is better). Returns both statistics and
    ``reverse_preference`` in [-1, 1]: positive when y -> x fits better.

    Degenerate inputs get a stated answer instead of a fit: when either series is constant or has
    fewer than ``ANM_MIN_DISTINCT`` distinct values (after subsampling), or the series have fewer
    than ``ANM_MIN_DISTINCT`` rows, the result has ``reverse_preference`` 0 (no preference), None
    statistics and ``degenerate`` naming the reason.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"anm_direction needs series of equal length, got {x.shape[0]} and {y.shape[0]}")
    rng = np.random.default_rng(seed)
    if x.shape[0] > max_samples:
        idx = rng.choice(x.shape[0], size=max_samples, replace=False)
        x, y = x[idx], y[idx]
    reason = ""
    if x.shape[0] < ANM_MIN_DISTINCT:
        reason = f"only {x.shape[0]} rows"
    else:
        for name, v in (("x", x), ("y", y)):
            distinct = np.unique(v[np.isfinite(v)]).size
            if distinct <= 1:
                reason = f"{name} is constant"
                break
            if distinct < ANM_MIN_DISTINCT:
                reason = f"{name} has only {distinct} distinct values (a cubic fit interpolates them)"
                break
    if reason:
        return {"hsic_forward": None, "hsic_backward": None, "reverse_preference": 0.0,
                "degenerate": reason}
    x = (x - x.mean()) / x.std()
    y = (y - y.mean()) / y.std()
    forward = _hsic(x, _residual(x, y))
    backward = _hsic(y, _residual(y, x))
    pref = (forward - backward) / max(forward + backward, 1e-12)
    return {"hsic_forward": forward, "hsic_backward": backward, "reverse_preference": float(pref)}

