"""Histograms as metric rows: bucket layouts, the interval between cumulative points, quantiles from buckets.

A histogram point (OTLP explicit-bucket or exponential, a Prometheus/OpenMetrics histogram) becomes
rows ``<name>.count`` and ``<name>.sum`` (as the source reports them: cumulative when the source is
cumulative) and ``<name>.mean``, ``<name>.p50``, ``<name>.p95``, ``<name>.p99`` (the ``quantiles``
asked for) over the *interval* since the previous point of the same series when the series is
cumulative (the difference of two cumulative points, as Prometheus' ``rate`` and
``histogram_quantile`` do), else over the point itself. A latency spike then shows in the
incident's interval instead of being diluted in everything since the process started.

Quantiles are interpolated linearly inside the bucket that holds the rank (``histogram_quantile``'s
rule); the open lower bucket starts at the point's ``min`` (else at 0 when its bound is positive),
the open upper bucket ends at ``max``; without ``max`` a quantile that falls in it is the highest
finite bound, and that is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["DEFAULT_QUANTILES", "Buckets", "HistogramPoint", "HistogramStats", "check_quantiles", "quantile", "quantile_name", "series_rows"]

DEFAULT_QUANTILES = (0.5, 0.95, 0.99)


def check_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    """The quantiles to make into rows, checked to lie in [0, 1]."""
    out = tuple(float(q) for q in quantiles)
    for q in out:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantiles must lie in [0, 1], got {q!r} (0.95 asks for the 95th percentile)")
    return out


@dataclass
class Buckets:
    """The buckets of one point: explicit bounds with ``len(bounds) + 1`` counts, or an exponential layout."""

    bounds: tuple[float, ...] | None = None
    counts: tuple[float, ...] = ()
    # exponential: scale and {index: count} for each sign; zero bucket count and threshold
    scale: int | None = None
    positive: dict[int, float] = field(default_factory=dict)
    negative: dict[int, float] = field(default_factory=dict)
    zero_count: float = 0.0
    zero_threshold: float = 0.0

    @property
    def exponential(self) -> bool:
        return self.scale is not None

    def intervals(self, low: float | None, high: float | None) -> list[tuple[float, float, float]]:
        """(lower, upper, count) in increasing order; open ends closed by ``low``/``high`` when known."""
        if self.scale is None:
            bounds = self.bounds or ()
            out = []
            for i, count in enumerate(self.counts):
                lower = bounds[i - 1] if i > 0 else (low if low is not None and (not bounds or low <= bounds[0])
                                                     else (0.0 if bounds and bounds[0] > 0 else -math.inf))
                upper = bounds[i] if i < len(bounds) else (high if high is not None and (not bounds or high >= bounds[-1])
                                                           else math.inf)
                out.append((lower, upper, count))
            return out
        base = 2.0 ** (2.0 ** -self.scale)
        out = []
        for index in sorted(self.negative, reverse=True):
            out.append((-_power(base, index + 1), -_power(base, index), self.negative[index]))
        if self.zero_count:
            out.append((-self.zero_threshold, self.zero_threshold, self.zero_count))
        for index in sorted(self.positive):
            out.append((_power(base, index), _power(base, index + 1), self.positive[index]))
        if out and low is not None and math.isfinite(low):
            first = out[0]
            out[0] = (max(first[0], min(low, first[1])), first[1], first[2])
        if out and high is not None and math.isfinite(high):
            last = out[-1]
            out[-1] = (last[0], min(last[1], max(high, last[0])), last[2])
        return out

    def same_layout(self, other: Buckets) -> bool:
        return self.scale == other.scale and (self.scale is not None or self.bounds == other.bounds)

    def downscaled(self, scale: int) -> Buckets:
        """An exponential layout merged down to a coarser ``scale`` (index i becomes i >> shift)."""
        if self.scale is None or scale > self.scale:
            raise ValueError(f"cannot downscale an exponential histogram from scale {self.scale} to {scale}")
        shift = self.scale - scale
        out = Buckets(scale=scale, zero_count=self.zero_count, zero_threshold=self.zero_threshold)
        for source, target in ((self.positive, out.positive), (self.negative, out.negative)):
            for index, count in source.items():
                target[index >> shift] = target.get(index >> shift, 0.0) + count
        return out

    def minus(self, earlier: Buckets) -> Buckets | None:
        """The counts added since ``earlier`` (same series, cumulative), or None when a count went down."""
        if self.scale is None:
            if earlier.scale is not None or self.bounds != earlier.bounds or len(self.counts) != len(earlier.counts):
                return None
            diff = tuple(a - b for a, b in zip(self.counts, earlier.counts, strict=True))
            return None if any(d < 0 for d in diff) else Buckets(bounds=self.bounds, counts=diff)
        if earlier.scale is None or earlier.scale < self.scale:
            return None
        before = earlier.downscaled(self.scale) if earlier.scale > self.scale else earlier
        out = Buckets(scale=self.scale, zero_count=self.zero_count - before.zero_count,
                      zero_threshold=self.zero_threshold)
        for mine, theirs, target in ((self.positive, before.positive, out.positive),
                                     (self.negative, before.negative, out.negative)):
            if set(theirs) - set(mine):
                return None
            for index, count in mine.items():
                target[index] = count - theirs.get(index, 0.0)
        if out.zero_count < 0 or any(v < 0 for v in (*out.positive.values(), *out.negative.values())):
            return None
        return out


def _power(base: float, exponent: int) -> float:
    try:
        return base ** exponent
    except OverflowError:
        return math.inf


@dataclass
class HistogramPoint:
    """One histogram data point of one series, before it becomes rows."""

    series: tuple[object, ...]  # what identifies the series (entity, name, attributes, kind)
    entity: str
    name: str  # the metric name with its attributes, e.g. http.server.duration{route="/"}
    base: str  # the metric name alone
    labels: str  # the attribute part ('{...}' or '')
    time: int
    start: int | None
    cumulative: bool
    count: float | None
    total: float | None
    low: float | None = None
    high: float | None = None
    buckets: Buckets | None = None
    problem: str | None = None  # a layout that cannot give quantiles (reported)


@dataclass
class HistogramStats:
    """What turning histograms into rows changed, for the load report."""

    points: int = 0
    intervals: int = 0
    resets: int = 0
    layout_changes: int = 0
    empty_intervals: int = 0
    overflow: int = 0
    problems: dict[str, int] = field(default_factory=dict)


def quantile_name(q: float) -> str:
    """``p50``, ``p95``, ``p99``, ``p99.9``."""
    return "p" + format(q * 100, ".10g")


def quantile(intervals: Sequence[tuple[float, float, float]], q: float) -> tuple[float | None, bool]:
    """The ``q`` quantile of bucketed counts (linear inside the bucket) and whether it hit an open end."""
    total = sum(c for _, _, c in intervals)
    if total <= 0:
        return None, False
    rank = q * total
    seen = 0.0
    for lower, upper, count in intervals:
        if count <= 0:
            continue
        if seen + count >= rank:
            if math.isinf(upper):
                return (lower if math.isfinite(lower) else None), True
            if math.isinf(lower):
                return upper, True
            return lower + (upper - lower) * max(0.0, rank - seen) / count, False
        seen += count
    lower, upper, _ = intervals[-1]
    return (upper if math.isfinite(upper) else lower), math.isinf(upper)


def series_rows(points: list[HistogramPoint], quantiles: Sequence[float], stats: HistogramStats
                ) -> list[tuple[int, str, str, float | None]]:
    """(time, entity, metric, value) rows of one series' points, in time order."""
    rows: list[tuple[int, str, str, float | None]] = []
    previous: HistogramPoint | None = None
    for point in sorted(points, key=lambda p: p.time):
        stats.points += 1
        count, total, buckets = point.count, point.total, point.buckets
        if point.cumulative and previous is not None and count is not None and previous.count is not None:
            if previous.start != point.start or count < previous.count:
                stats.resets += 1  # a new start time or a count that went down: the series restarted
            else:
                stats.intervals += 1
                count = count - previous.count
                total = None if total is None or previous.total is None else total - previous.total
                if buckets is not None and previous.buckets is not None:
                    buckets = buckets.minus(previous.buckets)
                    if buckets is None:
                        stats.layout_changes += 1
        if point.count is not None:
            previous = point
        suffix = point.labels
        rows.append((point.time, point.entity, f"{point.base}.count{suffix}", point.count))
        rows.append((point.time, point.entity, f"{point.base}.sum{suffix}", point.total))
        if count == 0:
            stats.empty_intervals += 1
        rows.append((point.time, point.entity, f"{point.base}.mean{suffix}",
                     total / count if (count and total is not None) else None))
        if not quantiles:
            continue
        if point.problem:
            stats.problems[point.problem] = stats.problems.get(point.problem, 0) + 1
        intervals = buckets.intervals(point.low, point.high) if buckets is not None and not point.problem else None
        for q in quantiles:
            value = None
            if intervals is not None and count:
                value, open_end = quantile(intervals, q)
                stats.overflow += int(open_end)
            rows.append((point.time, point.entity, f"{point.base}.{quantile_name(q)}{suffix}", value))
    return rows
