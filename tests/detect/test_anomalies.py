"""detect_anomalies: the three methods, the result object, a user's own detector, bad input."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from rcakit.detect import (
    Anomalies,
    DetectConfig,
    Detector,
    Method,
    Modality,
    Status,
    detect_anomalies,
    score_timeline,
)
from rcakit.errors import DataError

from ._synth import STEP, T0, incident_from, multimodal_incident


def _incident(seed: int = 0, n_base: int = 60, n_inc: int = 30):
    rng = np.random.default_rng(seed)
    n = n_base + n_inc
    shifted = rng.normal(100, 5, n)
    shifted[n_base + 5:] += 60
    return incident_from({
        "db:latency": shifted,
        "db:cpu": rng.normal(30, 2, n),
        "api:latency": rng.normal(10, 1, n),
        "api:errors": np.zeros(n),
    }, n_base)


@pytest.mark.parametrize("method", list(Method))
@pytest.mark.parametrize("seed", [0, 1])
def test_every_method_flags_the_shift_and_ranks_its_entity_first(method: Method, seed: int) -> None:
    anomalies = detect_anomalies(_incident(seed), method=method)
    assert isinstance(anomalies, Anomalies)
    assert anomalies["db:latency"].anomalous
    assert anomalies["db:latency"].direction == "up"
    assert anomalies.entity_ranking().get_column("entity")[0] == "db"
    assert anomalies.entity_rank("db") == 1
    # nothing flagged is a quiet series, and every score is a finite number
    scores = anomalies.to_frame().get_column("score").drop_nulls().to_numpy()
    assert np.isfinite(scores).all()
    assert not anomalies["api:errors"].anomalous


def test_start_end_peak_previous_and_change() -> None:
    anomalies = detect_anomalies(_incident())
    a = anomalies["db:latency"]
    assert a.start == T0 + 65 * STEP  # the shift begins 5 steps into the incident window
    assert a.end is not None and a.end <= T0 + 90 * STEP
    assert a.peak is not None and a.peak > 140
    assert a.previous is not None and 80 < a.previous < 120
    assert a.change_pct == pytest.approx((a.peak - a.previous) / a.previous * 100)
    assert a.relative_change is not None and a.relative_change > 0.3
    assert a.score is not None and a.score > 8


def test_nsigma_needs_more_than_threshold_sigma() -> None:
    values = np.concatenate([np.tile([-1.0, 1.0], 45), np.zeros(10)])  # baseline mean 0, std ~1
    values[-1] = 2.5  # within 3 sigma
    quiet = detect_anomalies(incident_from({"x:y": values}, 90))
    assert not quiet["x:y"].anomalous
    loud = detect_anomalies(incident_from({"x:y": values}, 90), config=DetectConfig(threshold=2.0))
    assert loud["x:y"].anomalous


def test_robust_z_ignores_an_outlier_in_the_baseline_that_nsigma_swallows() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(10, 1, 100)
    values[10] = 400.0  # one wild baseline point inflates the std
    values[95] = 18.0
    incident = incident_from({"x:y": values}, 90)
    assert not detect_anomalies(incident, method=Method.NSIGMA)["x:y"].anomalous
    assert detect_anomalies(incident, method=Method.ROBUST_Z)["x:y"].anomalous


def test_cusum_catches_a_small_sustained_shift_that_3_sigma_misses() -> None:
    rng = np.random.default_rng(4)
    values = rng.normal(0, 1, 160)
    values[100:] += 1.5  # 1.5 sigma: rarely beyond 3 sigma, but persistent
    incident = incident_from({"x:y": values}, 100)
    cusum = detect_anomalies(incident, method="cusum")["x:y"]
    assert cusum.anomalous and cusum.direction == "up"
    assert cusum.start is not None and cusum.start <= T0 + 115 * STEP  # found soon after the change


def test_a_user_detector_plugs_in() -> None:
    class Always(Detector):
        name = "always-up"
        threshold = 0.5

        def fit(self, baseline: np.ndarray) -> Detector:
            self.width = baseline.shape[1]
            return self

        def score(self, incident: np.ndarray) -> np.ndarray:
            return np.ones_like(incident)

    anomalies = detect_anomalies(_incident(), method=Always())
    assert anomalies.method == "always-up"
    assert anomalies.to_frame().filter(pl.col("score").is_not_null()).get_column("anomalous").all()


def test_bad_detector_output_is_a_clear_error() -> None:
    class Wrong(Detector):
        def fit(self, baseline: np.ndarray) -> Detector:
            return self

        def score(self, incident: np.ndarray) -> np.ndarray:
            return np.ones((1, 1))

    with pytest.raises(DataError, match="shape"):
        detect_anomalies(_incident(), method=Wrong())


def test_unknown_method_names_the_choices() -> None:
    with pytest.raises(DataError, match="nsigma"):
        detect_anomalies(_incident(), method="magic")


# -- bad input -------------------------------------------------------------------------------------
def test_constant_all_nan_and_short_series_get_a_status_never_a_nan_score() -> None:
    n_base, n = 30, 45
    constant_then_jump = np.full(n, 5.0)
    constant_then_jump[40] = 9.0
    short = np.full(n, np.nan)
    short[:2] = [1.0, 2.0]
    short[35:] = 3.0
    incident = incident_from({
        "a:constant": np.full(n, 5.0),
        "a:jump": constant_then_jump,
        "a:all_nan": np.full(n, np.nan),
        "a:short": short,
        "a:no_incident": np.concatenate([np.ones(n_base), np.full(n - n_base, np.nan)]),
        "a:ok": np.random.default_rng(0).normal(0, 1, n),
    }, n_base)
    anomalies = detect_anomalies(incident)
    frame = anomalies.to_frame()
    scores = frame.get_column("score").drop_nulls().to_numpy()
    assert np.isfinite(scores).all()
    assert anomalies["a:constant"].status == Status.CONSTANT_BASELINE.value
    assert not anomalies["a:constant"].anomalous and anomalies["a:constant"].score == 0.0
    assert anomalies["a:jump"].anomalous and anomalies["a:jump"].score is not None
    assert math.isfinite(anomalies["a:jump"].score)
    assert anomalies["a:all_nan"].status == Status.NO_BASELINE_DATA.value and anomalies["a:all_nan"].score is None
    assert anomalies["a:short"].status == Status.SHORT_BASELINE.value and anomalies["a:short"].score is None
    assert anomalies["a:no_incident"].status == Status.NO_INCIDENT_DATA.value
    assert set(anomalies.not_scored().get_column("node")) == {"a:all_nan", "a:short", "a:no_incident"}
    assert any("not scored" in note for note in anomalies.notes)
    assert "not scored" in anomalies.describe()[0] or anomalies["a:short"].describe().startswith("The short")


def test_an_empty_incident_window_is_a_data_error_with_the_fix() -> None:
    incident = _incident()
    incident.set_incident_window(T0 + 1000 * STEP, T0 + 1010 * STEP)
    with pytest.raises(DataError, match="set_incident_window"):
        detect_anomalies(incident)


def test_an_empty_baseline_window_is_a_data_error_with_the_fix() -> None:
    incident = _incident()
    incident.set_baseline_window(T0 - 100 * STEP, T0 - 50 * STEP)
    with pytest.raises(DataError, match="set_baseline_window"):
        detect_anomalies(incident)


def test_config_rejects_nonsense() -> None:
    with pytest.raises(DataError):
        DetectConfig(threshold=0)
    with pytest.raises(DataError):
        DetectConfig(min_baseline_points=1)
    with pytest.raises(ValueError):
        DetectConfig(modalities=("sound",))  # type: ignore[arg-type]


# -- result object ---------------------------------------------------------------------------------
def test_result_frame_dict_html_and_names_are_escaped() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1, 60)
    values[50] = 30
    anomalies = detect_anomalies(incident_from({"<b>evil</b>:x": values, "ok:x": rng.normal(0, 1, 60)}, 40))
    html = anomalies._repr_html_()
    assert "<b>evil</b>" not in html and "&lt;b&gt;evil&lt;/b&gt;" in html
    data = anomalies.to_dict()
    assert data["method"] == "nsigma" and len(data["series"]) == 2
    assert {"node", "status", "score", "pattern", "start", "end", "peak"} <= set(anomalies.to_frame().columns)
    assert len(list(anomalies)) == 2
    with pytest.raises(KeyError, match="Did you mean"):
        anomalies["ok:xx"]


def test_multimodal_detection_adds_log_and_trace_series() -> None:
    incident = multimodal_incident()
    config = DetectConfig(modalities=(Modality.METRICS, Modality.LOGS, Modality.TRACES))
    anomalies = detect_anomalies(incident, config=config)
    kinds = set(anomalies.to_frame().get_column("modality"))
    assert kinds == {"metrics", "logs", "traces"}
    assert anomalies["db:log.errors"].anomalous
    assert anomalies["db:trace.latency_mean"].anomalous
    assert anomalies.entity_ranking().get_column("entity")[0] == "db"


def test_score_timeline_is_high_where_the_fault_is() -> None:
    incident = multimodal_incident()
    timeline = score_timeline(incident)
    assert set(timeline.columns) == {"time", "entity", "score"}
    db = timeline.filter(pl.col("entity") == "db")
    before = db.filter(pl.col("time") < incident.incident_window.start).get_column("score").max()
    after = db.filter(pl.col("time") >= incident.incident_window.start).get_column("score").min()
    assert after > before
