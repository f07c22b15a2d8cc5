"""The shape of an anomaly: spike, dip, level shift, gradual change, fluctuation or none.

Each class rests on a test rather than on a picture:

* **fluctuation**: points beyond the threshold on both sides and a variance ratio (F test of the
  incident against the baseline) significant at ``alpha``;
* **spike / dip**: a short excursion (at most ``spike_max_points`` points, or ``spike_max_fraction``
  of the window) that has returned to normal by the window's end;
* **level shift vs gradual change**: on the baseline's tail plus the incident, a step model (two
  means, split anywhere) and a hinge model (flat, then a straight line from some point on) are fitted
  by least squares; both have three parameters, so the smaller residual sum of squares wins. A hinge
  win counts as a gradual change only when Kendall's tau trend test on the incident is significant.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from rcakit.detect.config import Pattern, PatternConfig

__all__ = ["classify_pattern", "step_vs_hinge"]


def _longest_run(mask: np.ndarray) -> int:
    if not mask.any():
        return 0
    padded = np.concatenate([[0], mask.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max())


def _block_mean(y: np.ndarray, max_points: int) -> np.ndarray:
    if y.size <= max_points:
        return y
    width = int(np.ceil(y.size / max_points))
    pad = (-y.size) % width
    padded = np.concatenate([y, np.full(pad, y[-1])])
    means: np.ndarray = padded.reshape(-1, width).mean(axis=1)
    return means


def step_vs_hinge(y: np.ndarray) -> tuple[float, float]:
    """Residual sums of squares of the best step model and the best hinge model of ``y``."""
    n = y.size
    if n < 4:
        return float("inf"), float("inf")
    t = np.arange(n, dtype=float)
    # Step: for each split s (1..n-1) the RSS of two means, from cumulative sums.
    c1 = np.cumsum(y)
    c2 = np.cumsum(y * y)
    s = np.arange(1, n)
    left_n, right_n = s.astype(float), (n - s).astype(float)
    left_sum, right_sum = c1[s - 1], c1[-1] - c1[s - 1]
    left_sq, right_sq = c2[s - 1], c2[-1] - c2[s - 1]
    rss_step = (left_sq - left_sum**2 / left_n) + (right_sq - right_sum**2 / right_n)
    # Hinge: y = a + b * max(0, t - h) for each hinge h (0..n-3); closed-form simple regression.
    hinges = np.arange(0, n - 2, dtype=float)
    x = np.maximum(0.0, t[None, :] - hinges[:, None])
    xm = x.mean(axis=1, keepdims=True)
    ym = y.mean()
    sxx = ((x - xm) ** 2).sum(axis=1)
    sxy = ((x - xm) * (y - ym)[None, :]).sum(axis=1)
    syy = ((y - ym) ** 2).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        rss_hinge = np.where(sxx > 0, syy - sxy**2 / sxx, syy)
    return float(max(rss_step.min(), 0.0)), float(max(np.nanmin(rss_hinge), 0.0))


def classify_pattern(
    baseline_z: np.ndarray,
    incident_z: np.ndarray,
    threshold: float,
    config: PatternConfig | None = None,
) -> Pattern:
    """The pattern of one series, given its baseline-standardized values.

    ``baseline_z`` and ``incident_z`` are ``(x - centre) / spread`` in the baseline and the incident
    windows (NaN allowed, dropped); ``threshold`` is the detection threshold in the same units.
    """
    cfg = config or PatternConfig()
    zi = np.asarray(incident_z, dtype=float)
    zi = zi[~np.isnan(zi)]
    zb = np.asarray(baseline_z, dtype=float)
    zb = zb[~np.isnan(zb)]
    if zi.size == 0:
        return Pattern.NONE
    up = zi > threshold
    down = zi < -threshold
    n_up, n_down = int(up.sum()), int(down.sum())
    if n_up + n_down == 0:
        return Pattern.NONE

    if min(n_up, n_down) >= 2 and min(n_up, n_down) >= 0.25 * max(n_up, n_down) and zi.size >= 3:
        var_b = float(np.var(zb, ddof=1)) if zb.size >= 2 else 1.0
        var_i = float(np.var(zi, ddof=1))
        if var_b <= 0:
            return Pattern.FLUCTUATION
        ratio = var_i / var_b
        p_value = stats.f.sf(ratio, zi.size - 1, max(zb.size - 1, 1))
        if p_value < cfg.alpha:
            return Pattern.FLUCTUATION

    direction = 1 if (n_up > n_down or (n_up == n_down and zi.max() >= -zi.min())) else -1
    mask = up if direction > 0 else down
    count = int(mask.sum())
    returned = not mask[-1] and abs(zi[-1]) <= threshold
    short = max(cfg.spike_max_points, int(cfg.spike_max_fraction * zi.size))
    if returned and count <= short and _longest_run(mask) <= cfg.spike_max_points:
        return Pattern.SPIKE if direction > 0 else Pattern.DIP

    tail = zb[-max(zi.size, 10):]
    y = _block_mean(np.concatenate([tail, zi]), cfg.max_points)
    rss_step, rss_hinge = step_vs_hinge(y)
    if rss_hinge < rss_step and zi.size >= 4:
        tau, p_value = stats.kendalltau(np.arange(zi.size), zi)
        if np.isfinite(p_value) and p_value < cfg.alpha and np.sign(tau) == direction:
            return Pattern.GRADUAL_INCREASE if direction > 0 else Pattern.GRADUAL_DECREASE
    return Pattern.LEVEL_SHIFT_UP if direction > 0 else Pattern.LEVEL_SHIFT_DOWN
