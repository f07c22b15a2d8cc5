"""Per-node anomaly scores relative to a baseline, and the graph-free reference rankings (N-Sigma, BARO)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from rcakit.attribution.config import AttributionConfig, Direction, RowSelection

__all__ = ["NodeAnomaly", "additive_units", "baro_scores", "drift_reference", "node_anomaly", "nsigma_scores",
           "robust_stats"]

_MAD_TO_SD = 1.4826

# Metric names (after the node's first colon) that denote a time spent serving a request: the latency of
# a caller includes the latency of its callees, in the same unit, so their raw deviations add up.
_LATENCY_WORDS = ("latency", "duration", "response_time", "elapsed")


def additive_units(cause: str, effect: str) -> bool:
    """True when the raw deviations of two ``entity:metric`` nodes can be compared as amounts.

    The rule: both nodes carry the same metric name and that name denotes a latency (it contains
    ``latency``, ``duration``, ``response_time`` or ``elapsed``, any case). Along a call path such
    latencies are additive and share a unit (PetShop, the DoWhy microservice example), so "the callee
    got 40 ms slower" explains 40 ms of the caller's slowdown. A shared name alone says nothing about
    units: on the Storm topology every bolt's metric is called ``value`` and the bolts' scales differ by
    two orders of magnitude. Everything else is compared unit-free, by robust z against each node's
    own baseline.
    """
    metric = cause.split(":", 1)[-1]
    if metric != effect.split(":", 1)[-1]:
        return False
    lowered = metric.lower()
    return any(word in lowered for word in _LATENCY_WORDS)


def robust_stats(base: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Median and a floored robust scale per column.

    The scale is the largest of 1.4826*MAD, half the standard deviation, 0.1 % of |median| and 1e-9, so
    that a series that never moved in the baseline (availability at 100 %) still gets a finite z-score.
    """
    center = base.median(skipna=True)
    mad = (base - center).abs().median(skipna=True) * _MAD_TO_SD
    sd = base.std(skipna=True)
    floor = pd.concat([mad.fillna(0.0), 0.5 * sd.fillna(0.0), 1e-3 * center.abs().fillna(0.0)], axis=1).max(axis=1)
    scale = floor.clip(lower=1e-9)
    return center, scale


#: A baseline trend counts when its slope is this many standard errors from zero.
DRIFT_T = 2.0


def _positions(base: pd.DataFrame, inc: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Row positions of both frames on one time axis (seconds for time-indexed frames, else row numbers,
    the incident right after the baseline); None when the incident lies further from the baseline than the
    baseline is long (a trend is not carried that far)."""
    if isinstance(base.index, pd.DatetimeIndex) and isinstance(inc.index, pd.DatetimeIndex) and len(base.index):
        t0 = base.index.min()
        tb = np.asarray((base.index - t0).total_seconds(), float)
        ti = np.asarray((inc.index - t0).total_seconds(), float)
        span = float(tb.max() - tb.min())
        if span <= 0 or float(ti.min()) - float(tb.max()) > span:
            return None
        return tb, ti
    n = len(base.index)
    return np.arange(n, dtype=float), n + np.arange(len(inc.index), dtype=float)


def drift_reference(base: pd.DataFrame, inc: pd.DataFrame) -> pd.DataFrame | None:
    """Where each node's baseline was heading, at every incident row: the baseline's least-squares line
    carried forward, for the columns whose slope is at least ``DRIFT_T`` standard errors from zero (the
    others keep the baseline's median). None when there is no time axis to carry a line along.

    A node measured against this reference as well as against the baseline's median is anomalous only if
    it is far from both: a fault moves a node away from where it was heading; seasonal traffic, a slow
    warm-up or a gradual drift that was under way before the incident does not.
    """
    pos = _positions(base, inc)
    if pos is None or len(base.index) < 8:
        return None
    tb, ti = pos
    x = base.to_numpy(float)
    ok = np.isfinite(x)
    # every column's least-squares line at once, each over its own recorded rows (the bootstrap calls this per resample)
    n = ok.sum(axis=0)
    t = np.where(ok, tb[:, None], 0.0)
    y = np.where(ok, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t_mean, y_mean = t.sum(axis=0) / n, y.sum(axis=0) / n
        tc = np.where(ok, tb[:, None] - t_mean, 0.0)
        stt = (tc * tc).sum(axis=0)
        slope = (tc * (y - y_mean)).sum(axis=0) / stt
        resid = np.where(ok, y - y_mean - slope * tc, 0.0)
        se = np.sqrt((resid * resid).sum(axis=0) / np.maximum(n - 2, 1) / stt)
        keep = (n >= 8) & (stt > 0) & (se > 0) & (np.abs(slope) / se >= DRIFT_T)
    out = np.where(keep, y_mean + slope * (ti[:, None] - t_mean), np.nan)
    frame = pd.DataFrame(out, index=inc.index, columns=base.columns)
    return frame if frame.notna().any().any() else None


class NodeAnomaly:
    """How anomalous each node is in the analysed incident rows.

    ``z``: non-negative anomaly (robust z in the direction that counts), ``delta``: the deviation in
    the node's own units (signed the same way), ``rows``: the analysed positions of the incident
    frame, ``sign``: the alarm's direction (+1 up, -1 down, 0 both ways), ``signs``: the direction that
    counts per node (see :func:`_direction_signs`). ``z_any`` / ``delta_any``: the same both ways, for a
    node seen as an *effect* (with ``Direction.AUTO`` a cause may push its effects either way: a smaller
    batch makes inference faster; otherwise they equal ``z`` / ``delta``).
    """

    def __init__(self, z: pd.Series, delta: pd.Series, rows: list[int], sign: int, signed_z: pd.Series,
                 signs: pd.Series | None = None, z_any: pd.Series | None = None,
                 delta_any: pd.Series | None = None) -> None:
        self.z = z
        self.z_any = z if z_any is None else z_any
        self.delta_any = delta if delta_any is None else delta_any
        self.signs = signs if signs is not None else pd.Series(sign, index=z.index)
        self.delta = delta
        self.rows = rows
        self.sign = sign
        self.signed_z = signed_z


@lru_cache(maxsize=4096)
def _kind(metric: str) -> str:
    """What a metric measures, for comparing directions: its meaning when known, else its own name."""
    from rcakit.graph.meanings import Meaning, metric_meaning

    meaning = metric_meaning(metric)
    return f"meaning:{meaning}" if meaning is not Meaning.UNKNOWN else f"name:{metric}"


def _direction_signs(config: AttributionConfig, alarm_z: float, columns: list[str], alarm: str | None,
                     ) -> tuple[int, pd.Series]:
    """(the alarm's sign, the sign that counts per node): +1 up, -1 down, 0 both ways.

    ``Direction.AUTO``: nodes that measure what the alarm measures (the same metric name, or the same
    meaning: ``latency_p99`` and ``latency_average`` are both latencies) count deviations in the
    direction the alarm moved (availability fell: a node whose availability rose is no suspect);
    every other node counts both ways, since a cause may move either way (a load drop, a clock rise).
    """
    if config.direction is Direction.UP:
        return 1, pd.Series(1, index=columns)
    if config.direction is Direction.DOWN:
        return -1, pd.Series(-1, index=columns)
    if config.direction is Direction.BOTH or alarm is None or not np.isfinite(alarm_z) or alarm_z == 0:
        return 0, pd.Series(0, index=columns)
    sign = 1 if alarm_z > 0 else -1
    kind = _kind(alarm.split(":", 1)[-1])
    return sign, pd.Series([sign if _kind(c.split(":", 1)[-1]) == kind else 0 for c in columns], index=columns)


def _oriented(z: pd.Series | pd.DataFrame, signs: pd.Series | int) -> pd.Series | pd.DataFrame:
    """|z| where the sign is 0, else z in the sign's direction clipped at 0 (per column)."""
    if isinstance(signs, int):
        return z.abs() if signs == 0 else (z * signs).clip(lower=0)
    s = signs.reindex(z.columns if isinstance(z, pd.DataFrame) else z.index).fillna(0)
    both = s == 0
    oriented = (z * s.where(~both, 1)).clip(lower=0)
    return oriented.where(~both, z.abs()) if isinstance(z, pd.Series) else oriented.mask(
        np.broadcast_to(both.to_numpy(), z.shape), z.abs())


def node_anomaly(base: pd.DataFrame, inc: pd.DataFrame, config: AttributionConfig, alarm: str | None,
                 *, stats: tuple[pd.Series, pd.Series] | None = None) -> NodeAnomaly:
    """Anomaly of every column of ``inc`` against ``base``, on the rows the config selects.

    A node's anomaly ``z`` is the median, over the analysed rows, of its robust z in the direction
    that counts (persistence: a node that spikes on a few rows and is normal on the others is not
    persistently anomalous; with one analysed row it is that row's z).

    With ``local_reference`` and ``first_row > 0`` (the rows before it are declared pre-fault), a node's
    anomaly is the smaller of its z against the baseline and its z against those pre-fault rows: a
    level shift that was already there before the alarm (drift between recordings) is not a new anomaly.
    """
    center, scale = stats if stats is not None else robust_stats(base)
    columns = list(inc.columns)
    center, scale = center.reindex(columns), scale.reindex(columns)
    zrows = (inc - center) / scale
    drift = drift_reference(base, inc) if config.drift_reference else None
    if drift is not None:  # far from the baseline and from where the baseline was heading: the nearer counts
        zdrift = (inc - drift.reindex(columns=columns)) / scale
        zrows = zrows.where(zdrift.isna() | (zrows.abs() <= zdrift.abs()), zdrift)
    first = min(config.first_row, max(len(inc.index) - 1, 0))
    alarm_col = zrows[alarm] if alarm is not None and alarm in zrows.columns else None
    if alarm_col is not None:
        alarm_series = alarm_col.iloc[first:].fillna(0.0)
        peak = alarm_series.abs().idxmax() if len(alarm_series) else None
        alarm_z = float(alarm_series.loc[peak]) if peak is not None else 0.0
    else:
        alarm_z = 0.0
    sign, signs = _direction_signs(config, alarm_z, columns, alarm)

    n = len(inc.index)
    mode = config.rows
    if mode is RowSelection.AUTO:
        mode = RowSelection.FIRST_ANOMALOUS if n <= 12 else RowSelection.WINDOW
    positions = list(range(first, n))
    if alarm_col is not None:
        oriented_alarm = _oriented(alarm_col, sign).fillna(0.0).to_numpy()
        hot = [i for i in positions if oriented_alarm[i] > config.threshold]
    else:
        hot = []
    if mode is RowSelection.FIRST_ANOMALOUS:
        rows = hot[:1] or positions[:1]
    else:
        rows = hot or positions

    values = inc.iloc[rows].mean(skipna=True)
    local = (config.local_reference and config.first_row > 0 and bool(rows) and rows[0] > 0
             and mode is RowSelection.FIRST_ANOMALOUS)
    reference = center
    if local:
        pre = inc.iloc[: rows[0]].mean(skipna=True)
        reference = pre.where(pre.notna(), center)

    def persistent(node_signs: pd.Series | int) -> pd.Series:
        # the median over the analysed rows: how far the node typically is while the alarm fires; a mean
        # would let a few spikes of a node that is otherwise normal outweigh a persistent shift
        z = _oriented(zrows.iloc[rows], node_signs).fillna(0.0).median(axis=0)
        if local:
            z = np.minimum(z, _oriented((values - reference) / scale, node_signs).fillna(0.0))
        return z.where(values.notna(), 0.0).replace([np.inf, -np.inf], 0.0).fillna(0.0)

    z = persistent(signs)
    z_any = z if config.direction is not Direction.AUTO else persistent(0)
    signed = zrows.iloc[rows].mean(skipna=True)
    delta = values - reference
    node_signs = signs.reindex(delta.index).fillna(0)
    delta_any = delta.abs().fillna(0.0)
    delta = delta.abs().where(node_signs == 0, delta * node_signs).fillna(0.0)
    return NodeAnomaly(z=z, delta=delta, rows=rows, sign=sign, signed_z=signed.fillna(0.0), signs=signs,
                       z_any=z_any, delta_any=delta_any if config.direction is Direction.AUTO else delta)


def nsigma_scores(base: pd.DataFrame, inc: pd.DataFrame, rows: list[int]) -> pd.Series:
    """N-Sigma: the largest |x - mean| / std over the analysed rows, per node."""
    mean, sd = base.mean(skipna=True), base.std(skipna=True)
    floor = (1e-3 * mean.abs()).clip(lower=1e-9)
    sd = pd.concat([sd.fillna(0.0), floor], axis=1).max(axis=1)
    z = ((inc.iloc[rows] - mean) / sd).abs()
    return z.max(axis=0).replace([np.inf, -np.inf], 0.0).fillna(0.0)


def baro_scores(base: pd.DataFrame, inc: pd.DataFrame, rows: list[int]) -> pd.Series:
    """BARO's robust z: the largest |x - median| / IQR over the analysed rows, per node."""
    median = base.median(skipna=True)
    iqr = base.quantile(0.75) - base.quantile(0.25)
    floor = (1e-3 * median.abs()).clip(lower=1e-9)
    iqr = pd.concat([iqr.fillna(0.0), floor], axis=1).max(axis=1)
    z = ((inc.iloc[rows] - median) / iqr).abs()
    return z.max(axis=0).replace([np.inf, -np.inf], 0.0).fillna(0.0)
