"""What detection compares (rcakit.detect.windows, rcakit.detect.reference): the grid step, the windows'
rows, and the reference window logs and traces are judged against."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from rcakit.detect import DetectConfig, Modality
from rcakit.detect.reference import reference_window, rows_in
from rcakit.detect.windows import check_windows, infer_freq, resolve_freq, window_frames
from rcakit.errors import DataError
from rcakit.telemetry import Incident, Telemetry
from rcakit.telemetry.window import TimeWindow

from ._synth import STEP, T0, incident_from, multimodal_incident


def _jittered(step_s: float, n: int = 50, seed: int = 0) -> Incident:
    rng = np.random.default_rng(seed)
    times = [T0 + timedelta(seconds=i * step_s + float(rng.uniform(-0.2, 0.2))) for i in range(n)]
    metrics = pl.DataFrame({"time": times, "entity": "api", "metric": "latency", "value": rng.normal(size=n)})
    end = T0 + timedelta(seconds=n * step_s)
    return Incident(Telemetry(metrics), TimeWindow(T0, T0 + (end - T0) / 2), TimeWindow(T0 + (end - T0) / 2, end))


def test_infer_freq_is_the_median_interval_rounded_to_a_second() -> None:
    assert infer_freq(_jittered(15.0)) == timedelta(seconds=15)
    assert infer_freq(incident_from({"api:cpu": np.ones(30)}, 20)) == STEP


def test_infer_freq_of_no_metrics_is_a_minute() -> None:
    incident = multimodal_incident()
    empty = Incident(Telemetry(spans=incident.telemetry.spans), incident.baseline_window, incident.incident_window)
    assert infer_freq(empty) == timedelta(minutes=1)


def test_resolve_freq_prefers_the_argument_then_the_config_then_the_data() -> None:
    incident = _jittered(15.0)
    assert resolve_freq(incident, DetectConfig(freq="30s"), "2min") == timedelta(minutes=2)
    assert resolve_freq(incident, DetectConfig(freq="30s")) == timedelta(seconds=30)
    assert resolve_freq(incident, DetectConfig()) == timedelta(seconds=15)


def test_an_empty_window_is_a_data_error_naming_the_fix() -> None:
    incident = incident_from({"api:cpu": np.ones(30)}, 20)
    check_windows(incident, DetectConfig())
    incident.set_incident_window(T0 + 100 * STEP, T0 + 120 * STEP)
    with pytest.raises(DataError, match="set_incident_window"):
        check_windows(incident, DetectConfig())
    with pytest.raises(DataError, match="holds no logs rows"):
        check_windows(incident_from({"api:cpu": np.ones(30)}, 20), DetectConfig(modalities=(Modality.LOGS,)))


def test_window_frames_put_every_series_on_the_grid_with_its_modality() -> None:
    incident = multimodal_incident()
    cfg = DetectConfig(modalities=(Modality.METRICS, Modality.LOGS, Modality.TRACES))
    base, inc, modality = window_frames(incident, cfg, STEP)
    assert base.columns == inc.columns and base.columns[0] == "time"
    assert base.height == 40 and inc.height == 20
    assert modality["db:latency"] == "metrics"
    assert {modality[c] for c in base.columns[1:]} == {"metrics", "logs", "traces"}
    assert all(c in modality for c in base.columns[1:])


def test_rows_in_counts_each_modality_and_spans_by_their_start() -> None:
    incident = multimodal_incident()
    window = incident.incident_window
    tel = incident.telemetry
    spans = tel.spans.filter(pl.col("start").is_between(window.start, window.end, closed="left")).height
    assert rows_in(incident, window, (Modality.TRACES,)) == spans
    both = rows_in(incident, window, (Modality.METRICS, Modality.TRACES))
    assert both == spans + tel.metrics.filter(pl.col("time").is_between(window.start, window.end, closed="left")).height


def test_the_reference_window_replaces_a_baseline_with_almost_no_logs() -> None:
    incident = multimodal_incident()
    tel = incident.telemetry
    reference = TimeWindow(T0, T0 + 30 * STEP)
    # logs only in the last 30 minutes but for one line: the baseline (minutes 30-40) holds almost none
    thin_logs = tel.logs.filter((pl.col("time") >= T0 + 40 * STEP) | (pl.col("time") < T0 + 30 * STEP)
                                | (pl.col("time") == T0 + 35 * STEP))
    thin = Incident(Telemetry(tel.metrics, thin_logs, tel.spans), TimeWindow(T0 + 30 * STEP, T0 + 40 * STEP),
                    incident.incident_window, reference_window=reference)
    assert reference_window(thin, (Modality.LOGS,)) == reference
    # with as many lines in the baseline, the baseline stays
    full = Incident(tel, TimeWindow(T0 + 30 * STEP, T0 + 40 * STEP), incident.incident_window,
                    reference_window=reference)
    assert reference_window(full, (Modality.LOGS,)) == full.baseline_window
    # no reference declared: the baseline
    assert reference_window(incident, (Modality.LOGS,)) == incident.baseline_window
