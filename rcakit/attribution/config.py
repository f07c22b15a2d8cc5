"""Method choices and options of :func:`rcakit.attribution.attribute` (Enums in a small config, as DoWhy does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from rcakit._types import DurationLike

__all__ = ["AttributionConfig", "Direction", "Method", "MultimodalConfig", "RowSelection"]


class Method(StrEnum):
    """How root causes are scored.

    ``STRUCTURAL`` (default): robust anomaly of each ancestor of the alarm relative to the baseline,
    discounted when anomalous parents explain it and credited with the anomalous effects it explains
    downstream. ``ANOMALY_ATTRIBUTION``: DoWhy gcm ``attribute_anomalies`` on an invertible SCM.
    ``DISTRIBUTION_CHANGE``: DoWhy gcm ``distribution_change`` between baseline and incident windows.
    ``ATE``: CGL-BFI average treatment effect scores S_i = |ATE_i| / sum_j |ATE_j| from
    do-interventions on the fitted model. ``N_SIGMA`` and ``ROBUST_Z`` (BARO): graph-free references.
    ``MULTIMODAL``: graph-free service ranking from trace exclusive time, resource metrics and logs
    (:mod:`rcakit.attribution.multimodal`); entity-level, needs an Incident for traces and logs.
    """

    STRUCTURAL = "structural"
    ANOMALY_ATTRIBUTION = "attribute_anomalies"
    DISTRIBUTION_CHANGE = "distribution_change"
    ATE = "ate"
    N_SIGMA = "n_sigma"
    ROBUST_Z = "robust_z"
    MULTIMODAL = "multimodal"

    @property
    def needs_graph(self) -> bool:
        return self not in (Method.N_SIGMA, Method.ROBUST_Z, Method.MULTIMODAL)


class Direction(StrEnum):
    """Which deviations count as anomalous: both ways, only up, only down, or inferred from the alarm."""

    AUTO = "auto"
    BOTH = "both"
    UP = "up"
    DOWN = "down"


class RowSelection(StrEnum):
    """Which incident rows are explained: the first anomalous one, the anomalous window, or all rows."""

    AUTO = "auto"
    FIRST_ANOMALOUS = "first_anomalous"
    WINDOW = "window"


#: Weights of the per-signal shares in the multimodal entity score.
DEFAULT_MULTIMODAL_WEIGHTS: dict[str, float] = {"trace": 1.0, "error": 1.0, "resource": 1.0, "log": 0.5}
#: Default ``MultimodalConfig.error_alpha``, chosen on the tuning sets (``python -m rcakit.bench localize
#: --datasets erroralpha`` prints the comparison).
DEFAULT_ERROR_ALPHA = 1e-4


@dataclass
class MultimodalConfig:
    """Options of ``Method.MULTIMODAL`` (:mod:`rcakit.attribution.multimodal`).

    ``weights``: the weight of each signal's share (trace, error, resource, log) in the entity score.
    ``min_count``: reference observations a trace key needs to be judged on its own (else pooled per
    entity, then over every hop). ``placement``: credit a service's slower self time to the resource it is
    stated to run on, when that resource moved. ``error_alpha``: a rise of failing spans counts only when
    the incident's count has a Poisson upper tail below it at the reference rate (None: every rise counts).
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MULTIMODAL_WEIGHTS))
    min_count: int = 5
    placement: bool = True
    error_alpha: float | None = DEFAULT_ERROR_ALPHA

    def __post_init__(self) -> None:
        self.weights = {**DEFAULT_MULTIMODAL_WEIGHTS, **dict(self.weights)}
        unknown = sorted(set(self.weights) - set(DEFAULT_MULTIMODAL_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown multimodal signal weight {unknown[0]!r}; the signals are "
                             f"{', '.join(DEFAULT_MULTIMODAL_WEIGHTS)}")
        if self.min_count < 1:
            raise ValueError(f"min_count must be at least 1, got {self.min_count}")
        if self.error_alpha is not None and not 0 < self.error_alpha < 1:
            raise ValueError(f"error_alpha must be within (0, 1) or None, got {self.error_alpha}")


@dataclass
class AttributionConfig:
    """Options shared by every method; the defaults suit 5-minute monitoring data and per-request data.

    ``threshold`` is the robust z-score above which a node counts as anomalous. ``first_row`` is the
    first incident row that may be analysed (PetShop's protocol analyses row 2 or later); rows before
    it are taken as pre-fault and serve as a local reference when ``local_reference`` is on; with
    ``use_alarm_time`` (default) and ``first_row`` 0, an Incident's ``alarm_time`` sets it (the rows that
    start before the alarm are pre-fault). ``drift_reference`` (default on) also measures each node against
    where its own baseline was heading (:func:`rcakit.attribution._scores.drift_reference`): traffic that
    follows the time of day is not a new anomaly because the incident came at a busier hour. ``n_bootstrap``
    baseline resamples give the score intervals; ``seed`` seeds every generator; ``n_jobs`` goes to DoWhy's Shapley
    estimation (default 1: each joblib worker re-imports DoWhy, which costs more than it saves on graphs
    of tens of nodes). ``restrict_to_ancestors`` keeps only the alarm and its
    ancestors as candidates. ``freq``/``agg`` align irregular telemetry on a grid before scoring.
    ``freq=None`` keeps the rows as recorded, except for the graph-free methods on an Incident whose
    metrics are not on shared timestamps (pods scraped at different seconds): those are aligned on
    the median sampling interval (:func:`rcakit.attribution._data.grid_freq`), since row-wise scores
    on unaligned rows compare different nodes on different rows. ``fault_type`` (default on) guesses the
    fault type of the first cause; ``multimodal`` holds the options of ``Method.MULTIMODAL``.
    """

    threshold: float = 3.0
    direction: Direction = Direction.AUTO
    rows: RowSelection = RowSelection.AUTO
    first_row: int = 0
    use_alarm_time: bool = True
    local_reference: bool = True
    drift_reference: bool = True
    n_bootstrap: int = 30
    interval: float = 0.9
    seed: int = 0
    n_jobs: int = 1
    top_k: int = 10
    restrict_to_ancestors: bool = True
    freq: DurationLike | None = None
    agg: str | Mapping[str, str] = "mean"
    num_distribution_samples: int = 500
    shapley_permutations: int = 3
    dowhy_quality: str = "linear"
    max_dowhy_samples: int = 20
    fault_type: bool = True
    multimodal: MultimodalConfig = field(default_factory=MultimodalConfig)

    def __post_init__(self) -> None:
        self.direction = Direction(self.direction)
        self.rows = RowSelection(self.rows)
        if self.threshold <= 0:
            raise ValueError(f"threshold must be positive, got {self.threshold}")
        if not 0 < self.interval < 1:
            raise ValueError(f"interval must be between 0 and 1, got {self.interval}")
        if self.n_bootstrap < 0:
            raise ValueError(f"n_bootstrap must be >= 0, got {self.n_bootstrap}")
        if self.first_row < 0:
            raise ValueError(f"first_row must be >= 0, got {self.first_row}")
