"""Choices and settings of anomaly detection: Enums inside small config dataclasses (DoWhy style)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rcakit.errors import DataError

__all__ = ["DetectConfig", "Method", "Modality", "Pattern", "PatternConfig", "Status"]


class Method(StrEnum):
    """How a series is judged against its baseline window."""

    NSIGMA = "nsigma"  # |x - mean| > n * std of the baseline (LocaleXpert's 3-sigma rule)
    ROBUST_Z = "robust_z"  # |x - median| > n * 1.4826 * MAD of the baseline
    CUSUM = "cusum"  # Page's two-sided CUSUM of baseline-standardized values (a mean-shift change point)


class Modality(StrEnum):
    """Which telemetry a detection looks at."""

    METRICS = "metrics"
    LOGS = "logs"
    TRACES = "traces"


class Pattern(StrEnum):
    """The shape of an anomaly (LocaleXpert's pattern classes)."""

    SPIKE = "spike"
    DIP = "dip"
    LEVEL_SHIFT_UP = "level shift up"
    LEVEL_SHIFT_DOWN = "level shift down"
    GRADUAL_INCREASE = "gradual increase"
    GRADUAL_DECREASE = "gradual decrease"
    FLUCTUATION = "fluctuation"
    NONE = "none"


class Status(StrEnum):
    """Whether a series could be scored; anything but SCORED carries no score (null, never NaN)."""

    SCORED = "scored"
    CONSTANT_BASELINE = "constant baseline"  # scored, against a floor spread (see DetectConfig)
    NO_BASELINE_DATA = "no baseline data"
    SHORT_BASELINE = "baseline too short"
    NO_INCIDENT_DATA = "no incident data"

    @property
    def scored(self) -> bool:
        return self in (Status.SCORED, Status.CONSTANT_BASELINE)


@dataclass(frozen=True)
class PatternConfig:
    """Thresholds of the pattern tests.

    ``alpha`` is the significance level of the trend (Kendall tau) and variance-ratio (F) tests;
    an anomaly of at most ``spike_max_points`` points (or ``spike_max_fraction`` of the window) that
    has returned to normal by the window's end is a spike or a dip.
    """

    alpha: float = 0.01
    spike_max_points: int = 3
    spike_max_fraction: float = 0.2
    max_points: int = 600

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise DataError(f"alpha must lie in (0, 1), got {self.alpha}", hint="Use for example 0.01")
        if self.spike_max_points < 1:
            raise DataError(f"spike_max_points must be at least 1, got {self.spike_max_points}")


@dataclass(frozen=True)
class DetectConfig:
    """Settings of :func:`rcakit.detect.detect_anomalies`.

    ``threshold`` is n in the n-sigma / robust-z rules (3 by default) and ``cusum_h`` the decision
    interval of CUSUM in baseline standard deviations (``cusum_k`` its allowance). ``freq`` is the
    grid step (``None``: the median sampling interval of the data); ``agg`` how rows within one step
    combine. A series needs ``min_baseline_points`` values in the baseline to estimate its spread;
    fewer leaves it unscored (status ``baseline too short``). A constant baseline is scored against a
    floor spread ``max(relative_spread_floor * |centre|, absolute_spread_floor)`` and scores are
    capped at ``max_score`` so that no infinity or NaN is passed on. ``min_anomalous_points`` points
    beyond the threshold make a series anomalous. ``modalities`` adds log and trace series (from
    :func:`rcakit.detect.feature_frame`) to the metrics.
    """

    threshold: float = 3.0
    freq: str | None = None
    agg: str = "mean"
    min_baseline_points: int = 4
    min_anomalous_points: int = 1
    cusum_k: float = 0.5
    cusum_h: float = 5.0
    relative_spread_floor: float = 0.01
    absolute_spread_floor: float = 1e-6
    max_score: float = 100.0
    modalities: tuple[Modality, ...] = (Modality.METRICS,)
    pattern: PatternConfig = field(default_factory=PatternConfig)

    def __post_init__(self) -> None:
        if not self.threshold > 0:
            raise DataError(f"threshold must be positive, got {self.threshold}", hint="Use for example 3.0")
        if self.min_baseline_points < 2:
            raise DataError(f"min_baseline_points must be at least 2 to estimate a spread, got "
                            f"{self.min_baseline_points}")
        if self.min_anomalous_points < 1:
            raise DataError(f"min_anomalous_points must be at least 1, got {self.min_anomalous_points}")
        if not (self.cusum_h > 0 and self.cusum_k >= 0):
            raise DataError(f"cusum_h must be positive and cusum_k non-negative, got h={self.cusum_h}, "
                            f"k={self.cusum_k}")
        if not self.max_score > self.threshold:
            raise DataError(f"max_score ({self.max_score}) must exceed threshold ({self.threshold})")
        mods = tuple(Modality(m) for m in self.modalities)
        if not mods:
            raise DataError("modalities is empty", hint="Use (Modality.METRICS,) or add LOGS / TRACES")
        object.__setattr__(self, "modalities", mods)
