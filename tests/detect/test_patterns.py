"""Each pattern class is recognised on a synthetic signal built to have it (several seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from rcakit.detect import DetectConfig, Pattern, classify_pattern, detect_anomalies

from ._synth import incident_from

N_BASE, N_INC = 120, 40


def _signal(pattern: Pattern, rng: np.random.Generator) -> np.ndarray:
    base = rng.normal(0.0, 1.0, N_BASE)
    inc = rng.normal(0.0, 1.0, N_INC)
    t = np.arange(N_INC)
    if pattern is Pattern.SPIKE:
        inc[15] += 9.0
    elif pattern is Pattern.DIP:
        inc[15] -= 9.0
    elif pattern is Pattern.LEVEL_SHIFT_UP:
        inc[5:] += 7.0
    elif pattern is Pattern.LEVEL_SHIFT_DOWN:
        inc[5:] -= 7.0
    elif pattern is Pattern.GRADUAL_INCREASE:
        inc += 0.4 * t
    elif pattern is Pattern.GRADUAL_DECREASE:
        inc -= 0.4 * t
    elif pattern is Pattern.FLUCTUATION:
        inc *= 6.0
    return np.concatenate([base, inc])


@pytest.mark.parametrize("pattern", list(Pattern))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_classify_pattern_recognises_each_class(pattern: Pattern, seed: int) -> None:
    values = _signal(pattern, np.random.default_rng(seed))
    z_base, z_inc = values[:N_BASE], values[N_BASE:]  # already standardized: N(0, 1) baseline
    assert classify_pattern(z_base, z_inc, threshold=3.0) is pattern


@pytest.mark.parametrize("pattern", [p for p in Pattern if p is not Pattern.NONE])
def test_detect_anomalies_reports_the_pattern_on_raw_values(pattern: Pattern) -> None:
    rng = np.random.default_rng(7)
    values = 50.0 + 4.0 * _signal(pattern, rng)  # a level and scale a real metric might have
    incident = incident_from({"svc:metric": values, "other:metric": 50.0 + 4.0 * rng.normal(0, 1, values.size)},
                             N_BASE)
    found = detect_anomalies(incident)["svc:metric"]
    assert found.anomalous
    assert found.pattern == pattern.value
    expected = "up" if pattern in (Pattern.SPIKE, Pattern.LEVEL_SHIFT_UP, Pattern.GRADUAL_INCREASE) else None
    if expected:
        assert found.direction == expected


def test_level_shift_and_spike_have_sensible_intervals() -> None:
    rng = np.random.default_rng(3)
    shift = 10 + rng.normal(0, 1, N_BASE + N_INC)
    shift[N_BASE + 10:] += 8
    spike = 10 + rng.normal(0, 1, N_BASE + N_INC)
    spike[N_BASE + 20] += 12
    anomalies = detect_anomalies(incident_from({"a:x": shift, "b:x": spike}, N_BASE))
    level, peak = anomalies["a:x"], anomalies["b:x"]
    assert level.pattern == Pattern.LEVEL_SHIFT_UP.value
    assert level.duration_s is not None and level.duration_s >= 25 * 60  # most of the 30 shifted minutes
    assert peak.pattern == Pattern.SPIKE.value and peak.duration_s == 60.0
    assert peak.peak == pytest.approx(spike[N_BASE + 20])
    assert peak.magnitude is not None and peak.magnitude > 8


def test_a_stricter_alpha_never_invents_a_gradual_change() -> None:
    rng = np.random.default_rng(11)
    values = _signal(Pattern.LEVEL_SHIFT_UP, rng)
    strict = DetectConfig().pattern.__class__(alpha=1e-6)
    result = classify_pattern(values[:N_BASE], values[N_BASE:], 3.0, strict)
    assert result is Pattern.LEVEL_SHIFT_UP
