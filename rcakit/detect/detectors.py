"""Detectors: learn a baseline per series, then score incident points against it.

A detector works on matrices, one column per series, NaN where a step has no value, so that one
call judges hundreds of series at once (numpy, no Python loop over points). Plug in your own by
subclassing :class:`Detector` and passing an instance as ``method=`` to ``detect_anomalies``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import numpy as np

from rcakit.detect.config import DetectConfig, Method

__all__ = ["CusumDetector", "Detector", "NSigmaDetector", "RobustZDetector", "get_detector"]


class Detector(ABC):
    """The interface of an anomaly detector.

    ``fit(baseline)`` learns from the baseline matrix (steps x series); ``score(incident)`` returns
    signed point scores of the same shape as ``incident`` (positive above normal, negative below),
    in units where ``abs(score) > threshold`` is anomalous; NaN where the input is NaN.
    ``series_score`` condenses them to one score per series (default: the largest absolute score).
    ``anomalous_mask`` may widen the points flagged (CUSUM marks the onset of a change).
    """

    name: str = "custom"
    threshold: float = 3.0

    @abstractmethod
    def fit(self, baseline: np.ndarray) -> Detector:
        """Learn the normal behaviour of each column of ``baseline``."""

    @abstractmethod
    def score(self, incident: np.ndarray) -> np.ndarray:
        """Signed point scores for ``incident`` (same shape)."""

    def series_score(self, scores: np.ndarray) -> np.ndarray:
        absolute = np.abs(scores)
        has = ~np.all(np.isnan(absolute), axis=0)
        out = np.zeros(scores.shape[1])
        out[has] = np.nanmax(absolute[:, has], axis=0)
        return out

    def anomalous_mask(self, scores: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            mask: np.ndarray = np.abs(np.nan_to_num(scores, nan=0.0)) > self.threshold
        return mask

    def __repr__(self) -> str:
        return f"{type(self).__name__}(threshold={self.threshold})"


def spread_floor(centre: np.ndarray, config: DetectConfig) -> np.ndarray:
    floor: np.ndarray = np.maximum(config.relative_spread_floor * np.abs(np.nan_to_num(centre)),
                                   config.absolute_spread_floor)
    return floor


class _CentreSpread(Detector):
    """Standardize by a centre and a spread learned from the baseline."""

    def __init__(self, config: DetectConfig | None = None) -> None:
        self.config = config or DetectConfig()
        self.threshold = self.config.threshold
        self.centre: np.ndarray | None = None
        self.spread: np.ndarray | None = None
        self.constant: np.ndarray | None = None

    def _estimate(self, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, baseline: np.ndarray) -> Detector:
        baseline = np.asarray(baseline, dtype=float)
        centre, spread = self._estimate(baseline)
        floor = spread_floor(centre, self.config)
        spread = np.nan_to_num(spread, nan=0.0)
        self.constant = spread <= floor
        self.centre = np.nan_to_num(centre)
        self.spread = np.maximum(spread, floor)
        return self

    def score(self, incident: np.ndarray) -> np.ndarray:
        if self.centre is None or self.spread is None:
            raise RuntimeError("call fit(baseline) before score(incident)")
        z = (np.asarray(incident, dtype=float) - self.centre) / self.spread
        cap = self.config.max_score
        clipped: np.ndarray = np.clip(z, -cap, cap)
        return clipped


def _all_nan_safe(fn: Callable[..., np.ndarray], matrix: np.ndarray) -> np.ndarray:
    out = np.full(matrix.shape[1], np.nan)
    has = np.sum(~np.isnan(matrix), axis=0) > 0
    if has.any():
        out[has] = fn(matrix[:, has], axis=0)
    return out


class NSigmaDetector(_CentreSpread):
    """The n-sigma rule: mean and standard deviation of the baseline (LocaleXpert uses n = 3)."""

    name = "nsigma"

    def _estimate(self, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        centre = _all_nan_safe(np.nanmean, baseline)
        counts = np.sum(~np.isnan(baseline), axis=0)
        spread = np.full(baseline.shape[1], np.nan)
        ok = counts >= 2
        if ok.any():
            spread[ok] = np.nanstd(baseline[:, ok], axis=0, ddof=1)
        return centre, spread


class RobustZDetector(_CentreSpread):
    """Robust z: median and 1.4826 x MAD of the baseline (1.2533 x mean absolute deviation when MAD is 0)."""

    name = "robust_z"

    def _estimate(self, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        centre = _all_nan_safe(np.nanmedian, baseline)
        deviation = np.abs(baseline - centre)
        mad = 1.4826 * _all_nan_safe(np.nanmedian, deviation)
        meanad = 1.2533 * _all_nan_safe(np.nanmean, deviation)
        spread = np.where(mad > 0, mad, meanad)
        return centre, spread


class CusumDetector(NSigmaDetector):
    """Page's two-sided CUSUM on baseline-standardized values: a change point in the mean.

    ``S+_t = max(0, S+_{t-1} + z_t - k)`` and ``S-_t = max(0, S-_{t-1} - z_t - k)``; the series
    changed when either exceeds ``h`` (``cusum_h`` baseline standard deviations). Point scores are
    ``S+`` or ``-S-`` scaled so that ``threshold`` corresponds to ``h``; the flagged interval starts
    where the cumulative sum last left zero before the alarm (the estimated change point).
    """

    name = "cusum"

    def score(self, incident: np.ndarray) -> np.ndarray:
        z = super().score(incident)
        k = self.config.cusum_k
        steps, width = z.shape
        upper = np.zeros(width)
        lower = np.zeros(width)
        out = np.full(z.shape, np.nan)
        for t in range(steps):  # loops over steps, vectorised over series
            zt = z[t]
            valid = ~np.isnan(zt)
            zt0 = np.where(valid, zt, 0.0)
            upper = np.where(valid, np.maximum(0.0, upper + zt0 - k), upper)
            lower = np.where(valid, np.maximum(0.0, lower - zt0 - k), lower)
            row = np.where(upper >= lower, upper, -lower)
            out[t] = np.where(valid, row, np.nan)
        scale = self.threshold / self.config.cusum_h
        return np.clip(out * scale, -self.config.max_score, self.config.max_score)

    def anomalous_mask(self, scores: np.ndarray) -> np.ndarray:
        alarm = super().anomalous_mask(scores)
        filled = np.nan_to_num(scores, nan=0.0)
        mask = alarm.copy()
        for col in np.flatnonzero(alarm.any(axis=0)):
            # Runs of same-signed, non-zero cumulative sums; a run that raises an alarm is flagged from
            # its start (the estimated change point) to its last alarm. O(steps) per series.
            signs = np.sign(filled[:, col])
            change = np.concatenate([[True], signs[1:] != signs[:-1]])
            run_id = np.cumsum(change) - 1
            run_start = np.flatnonzero(change)
            alarms = np.flatnonzero(alarm[:, col])
            last = np.full(run_start.size, -1)
            np.maximum.at(last, run_id[alarms], alarms)
            for run in np.flatnonzero(last >= 0):
                if signs[run_start[run]] != 0:
                    mask[run_start[run]:last[run] + 1, col] = True
        return mask


def get_detector(method: Method | str | Detector, config: DetectConfig) -> Detector:
    """The detector for a method name, or the user's own Detector instance unchanged."""
    if isinstance(method, Detector):
        return method
    try:
        choice = Method(method)
    except ValueError:
        from rcakit.errors import DataError

        raise DataError(f"unknown detection method {method!r}",
                        hint=f"Use one of {', '.join(m.value for m in Method)} or a Detector instance") from None
    return {Method.NSIGMA: NSigmaDetector, Method.ROBUST_Z: RobustZDetector,
            Method.CUSUM: CusumDetector}[choice](config)
