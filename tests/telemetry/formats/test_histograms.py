"""Histogram points to rows: quantiles from buckets, intervals between cumulative points, restarts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rcakit.telemetry.loaders._histograms import (
    Buckets,
    HistogramPoint,
    HistogramStats,
    quantile,
    series_rows,
)


def _exponential(values: list[float], scale: int) -> Buckets:
    """Bucket values as OTLP's exponential histogram does: index i holds (base**i, base**(i+1)]."""
    buckets = Buckets(scale=scale)
    for v in values:
        if v == 0:
            buckets.zero_count += 1
            continue
        index = math.ceil(math.log(abs(v), 2.0 ** (2.0 ** -scale))) - 1
        side = buckets.positive if v > 0 else buckets.negative
        side[index] = side.get(index, 0.0) + 1
    return buckets


def test_exponential_quantiles_with_negative_and_zero_values() -> None:
    rng = np.random.default_rng(4)
    values = list(rng.normal(0, 10, size=500)) + [0.0] * 20
    buckets = _exponential(values, scale=3)
    base = 2 ** (2 ** -3)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        truth = float(np.quantile(values, q, method="inverted_cdf"))
        value, open_end = quantile(buckets.intervals(min(values), max(values)), q)
        assert not open_end and value is not None
        low, high = sorted((truth / base, truth * base))  # within one bucket of the truth, either sign
        assert low - 1e-9 <= value <= high + 1e-9, (q, truth, value)


def test_downscaled_difference_equals_buckets_of_the_new_values() -> None:
    first, later = [3.0, 5.0, 9.0], [3.0, 5.0, 9.0, 40.0, 300.0]
    fine, coarse = _exponential(first, scale=3), _exponential(later, scale=1)
    delta = coarse.minus(fine)
    assert delta is not None and delta.scale == 1
    assert {i: c for i, c in delta.positive.items() if c} == _exponential([40.0, 300.0], scale=1).positive
    assert fine.minus(coarse) is None, "a finer layout cannot come after a coarser one in a cumulative series"


def _point(t: int, counts: tuple[float, ...], total: float, start: int = 0) -> HistogramPoint:
    return HistogramPoint(series=("s",), entity="api", name="lat", base="lat", labels="", time=t, start=start,
                          cumulative=True, count=sum(counts), total=total,
                          buckets=Buckets(bounds=(0.1, 1.0), counts=counts))


def test_intervals_restarts_and_empty_intervals() -> None:
    stats = HistogramStats()
    points = [_point(1, (4, 0, 0), 0.2), _point(2, (4, 6, 0), 3.2), _point(3, (4, 6, 0), 3.2),
              _point(4, (1, 0, 0), 0.05, start=99)]  # the process restarted: a new start time
    rows = series_rows(points, (0.5,), stats)
    by = {(t, m): v for t, _, m, v in rows}
    assert by[(2, "lat.mean")] == pytest.approx(0.5) and 0.1 <= by[(2, "lat.p50")] <= 1.0
    assert by[(3, "lat.mean")] is None and by[(3, "lat.p50")] is None, "nothing recorded in that interval"
    assert by[(4, "lat.mean")] == pytest.approx(0.05) and by[(4, "lat.count")] == 1.0
    assert (stats.intervals, stats.resets, stats.empty_intervals) == (2, 1, 1)


def test_overflow_bucket_without_max_is_reported() -> None:
    value, open_end = quantile(Buckets(bounds=(0.1, 1.0), counts=(0, 1, 9)).intervals(None, None), 0.95)
    assert (value, open_end) == (1.0, True)
    value, open_end = quantile(Buckets(bounds=(0.1, 1.0), counts=(0, 1, 9)).intervals(None, 5.0), 0.95)
    assert 1.0 < value < 5.0 and not open_end, "max closes the last bucket"
