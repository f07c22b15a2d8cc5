"""Metric anomalies of an incident judged against its baseline window: ``detect_anomalies`` and ``Anomalies``."""

from __future__ import annotations

import html
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from rcakit.detect.config import DetectConfig, Method, Modality, Pattern, Status
from rcakit.detect.detectors import Detector, get_detector
from rcakit.detect.patterns import classify_pattern
from rcakit.errors import DataError
from rcakit.telemetry import Incident
from rcakit.telemetry.window import TimeWindow, parse_duration

__all__ = ["Anomalies", "Anomaly", "align_window", "detect_anomalies", "infer_freq", "score_timeline"]

_COLUMNS: dict[str, Any] = {
    "node": pl.String, "entity": pl.String, "metric": pl.String, "modality": pl.String,
    "status": pl.String, "anomalous": pl.Boolean, "score": pl.Float64, "direction": pl.String,
    "pattern": pl.String, "start": pl.Datetime("ns", "UTC"), "end": pl.Datetime("ns", "UTC"),
    "duration_s": pl.Float64, "peak": pl.Float64, "peak_time": pl.Datetime("ns", "UTC"),
    "previous": pl.Float64, "baseline_mean": pl.Float64, "baseline_std": pl.Float64,
    "baseline_centre": pl.Float64, "baseline_spread": pl.Float64, "change_pct": pl.Float64,
    "magnitude": pl.Float64, "relative_change": pl.Float64, "anomalous_points": pl.Int64,
    "baseline_points": pl.Int64, "incident_points": pl.Int64,
}


@dataclass(frozen=True)
class Anomaly:
    """One series' verdict. ``score`` is None (never NaN) when ``status`` says it was not scored.

    ``magnitude`` is the peak's deviation from the baseline centre in baseline spreads (signed);
    ``relative_change`` the peak relative to the baseline mean (0.5 = 50 % above); ``change_pct`` the
    peak against the value just before the anomaly started (``previous``), in percent.
    """

    node: str
    entity: str
    metric: str
    modality: str
    status: str
    anomalous: bool
    score: float | None
    direction: str | None
    pattern: str
    start: datetime | None
    end: datetime | None
    duration_s: float | None
    peak: float | None
    peak_time: datetime | None
    previous: float | None
    baseline_mean: float | None
    baseline_std: float | None
    baseline_centre: float | None
    baseline_spread: float | None
    change_pct: float | None
    magnitude: float | None
    relative_change: float | None
    anomalous_points: int
    baseline_points: int
    incident_points: int

    def describe(self) -> str:
        from rcakit.detect.describe import describe_anomaly

        return describe_anomaly(self)


@dataclass
class Anomalies:
    """Every series of an incident with its verdict; one row per series in ``table``.

    ``method`` names the detector, ``freq`` the grid step, ``config`` the settings; the windows are
    the ones in force when detection ran.
    """

    table: pl.DataFrame
    method: str
    freq: timedelta
    config: DetectConfig
    baseline_window: TimeWindow
    incident_window: TimeWindow
    incident_name: str = "incident"
    notes: list[str] = field(default_factory=list)

    # -- access ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.table.height

    def __iter__(self) -> Iterator[Anomaly]:
        for row in self.table.iter_rows(named=True):
            yield Anomaly(**row)

    def __getitem__(self, node: str) -> Anomaly:
        rows = self.table.filter(pl.col("node") == node)
        if rows.height == 0:
            from rcakit.telemetry.model import _did_you_mean

            raise KeyError(f"no series {node!r} in these anomalies. "
                           + _did_you_mean(node, self.table.get_column("node").to_list()))
        return Anomaly(**rows.row(0, named=True))

    def anomalous(self) -> pl.DataFrame:
        """The anomalous series, highest score first."""
        return self.table.filter(pl.col("anomalous")).sort(["score", "node"], descending=[True, False])

    def not_scored(self) -> pl.DataFrame:
        """Series that could not be scored and why (``status``)."""
        scored = [s.value for s in Status if s.scored]
        return self.table.filter(~pl.col("status").is_in(scored)).select("node", "status")

    def anomalous_entities(self) -> list[str]:
        return self.entity_ranking().filter(pl.col("anomalous_series") > 0).get_column("entity").to_list()

    def entity_ranking(self) -> pl.DataFrame:
        """Entities ranked by their highest series score (ties: more anomalous series, then name).

        Columns: rank, entity, score, anomalous_series, scored_series, top_node, top_pattern.
        """
        scored = self.table.filter(pl.col("score").is_not_null())
        if scored.height == 0:
            return pl.DataFrame(schema={"rank": pl.Int64, "entity": pl.String, "score": pl.Float64,
                                        "anomalous_series": pl.Int64, "scored_series": pl.Int64,
                                        "top_node": pl.String, "top_pattern": pl.String})
        ordered = scored.sort(["score", "node"], descending=[True, False])
        ranking = (
            ordered.group_by("entity", maintain_order=True)
            .agg(
                pl.col("score").max().alias("score"),
                pl.col("anomalous").sum().cast(pl.Int64).alias("anomalous_series"),
                pl.len().cast(pl.Int64).alias("scored_series"),
                pl.col("node").first().alias("top_node"),
                pl.col("pattern").first().alias("top_pattern"),
            )
            .sort(["score", "anomalous_series", "entity"], descending=[True, True, False])
        )
        return ranking.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))

    def entity_rank(self, entity: str) -> int | None:
        """The 1-based rank of an entity by anomaly score, None if it has no scored series."""
        ranking = self.entity_ranking().filter(pl.col("entity") == entity)
        return int(ranking.get_column("rank")[0]) if ranking.height else None

    # -- output ------------------------------------------------------------------------------
    def to_frame(self) -> pl.DataFrame:
        """One row per series (polars); ``.to_pandas()`` on it for pandas."""
        return self.table

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return value.isoformat() if isinstance(value, datetime) else value

        return {
            "incident": self.incident_name,
            "method": self.method,
            "freq_seconds": self.freq.total_seconds(),
            "baseline_window": self.baseline_window.to_dict(),
            "incident_window": self.incident_window.to_dict(),
            "notes": list(self.notes),
            "series": [{k: plain(v) for k, v in row.items()} for row in self.table.iter_rows(named=True)],
        }

    def describe(self, level: str = "series", *, top: int | None = None) -> list[str]:
        """Sentences about the anomalies; ``level`` is ``"entity"`` (one line per entity) or ``"series"``."""
        from rcakit.detect.describe import describe_anomalies

        return describe_anomalies(self, level=level, top=top)

    def __repr__(self) -> str:
        return (f"Anomalies({self.incident_name!r}, method={self.method}, {self.table.height} series, "
                f"{int(self.table.get_column('anomalous').sum())} anomalous)")

    def _repr_html_(self) -> str:
        esc = html.escape
        top = self.anomalous().head(15)
        ranking = self.entity_ranking().head(10)
        rows = "".join(
            f"<tr><td>{esc(str(r['node']))}</td><td>{esc(str(r['pattern']))}</td><td>{r['score']:.2f}</td>"
            f"<td>{esc(str(r['direction']))}</td><td>{esc(_fmt_time(r['start']))}</td>"
            f"<td>{esc(_fmt_num(r['peak']))}</td></tr>"
            for r in top.iter_rows(named=True)
        )
        ents = "".join(
            f"<tr><td>{r['rank']}</td><td>{esc(str(r['entity']))}</td><td>{r['score']:.2f}</td>"
            f"<td>{r['anomalous_series']}/{r['scored_series']}</td></tr>"
            for r in ranking.iter_rows(named=True)
        )
        unscored = self.not_scored().height
        note = f"<div>{unscored} series not scored (see <code>.not_scored()</code>)</div>" if unscored else ""
        return (
            f"<div><b>Anomalies</b> of {esc(self.incident_name)} by {esc(self.method)}: "
            f"{int(self.table.get_column('anomalous').sum())} of {self.table.height} series anomalous"
            f"{note}<table><tr><th>rank</th><th>entity</th><th>score</th><th>anomalous</th></tr>{ents}</table>"
            f"<table><tr><th>series</th><th>pattern</th><th>score</th><th>direction</th><th>start</th>"
            f"<th>peak</th></tr>{rows}</table></div>"
        )


def _fmt_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "-"


def _fmt_num(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else "-"


# -- grid -------------------------------------------------------------------------------------
_FREQ_CACHE: weakref.WeakKeyDictionary[Any, timedelta] = weakref.WeakKeyDictionary()


def infer_freq(incident: Incident) -> timedelta:
    """The median sampling interval of the incident's metrics (one minute when there are none).

    Cached per Telemetry object (the Nezha day's incidents share one).
    """
    tel = incident.telemetry
    cached = _FREQ_CACHE.get(tel)
    if cached is None:
        cached = _FREQ_CACHE[tel] = _infer_freq(tel.metrics)
    return cached


def _infer_freq(metrics: pl.DataFrame) -> timedelta:
    if metrics.height < 2:
        return timedelta(minutes=1)
    diffs = (
        metrics.select("entity", "metric", "time")
        .sort("entity", "metric", "time")
        .select(pl.col("time").diff().over("entity", "metric").dt.total_microseconds().alias("d"))
        .filter(pl.col("d") > 0)
    )
    if diffs.height == 0:
        return timedelta(minutes=1)
    median = float(diffs.get_column("d").median())  # type: ignore[arg-type]
    # Round to a whole second when the interval is at least a second (scrape jitter).
    if median >= 1e6:
        median = round(median / 1e6) * 1e6
    return timedelta(microseconds=median)


def _resolve_freq(incident: Incident, config: DetectConfig, freq: Any = None) -> timedelta:
    if freq is not None:
        return parse_duration(freq)
    if config.freq is not None:
        return parse_duration(config.freq)
    return infer_freq(incident)


def _reference_baseline(incident: Incident, modalities: tuple[Modality, ...]) -> TimeWindow:
    """The baseline window for logs and traces: the incident's own, or ``meta["reference_window"]``
    (a fault-free recording, as the Nezha adapter provides) when the baseline holds none of them."""
    window = incident.baseline_window
    own = _rows_in(incident, window, modalities)
    reference = incident.meta.get("reference_window") if isinstance(incident.meta, dict) else None
    if reference:
        ref = TimeWindow.of(reference)
        # A baseline with a few stray rows (spans that began just before a recorded minute) is no baseline.
        if _rows_in(incident, ref, modalities) > 10 * own:
            return ref
    return window


def _window_frames(
    incident: Incident, config: DetectConfig, freq: timedelta
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """Baseline and incident wide frames (time + one column per series) and each series' modality."""
    base_parts: list[pl.DataFrame] = []
    inc_parts: list[pl.DataFrame] = []
    modality: dict[str, str] = {}
    tel = incident.telemetry
    if Modality.METRICS in config.modalities and tel.metrics.height:
        nodes = tel.nodes()
        base_parts.append(align_window(tel.metrics, incident.baseline_window, freq, config.agg, nodes))
        inc_parts.append(align_window(tel.metrics, incident.incident_window, freq, config.agg, nodes))
        modality.update(dict.fromkeys(nodes, Modality.METRICS.value))
    extra = tuple(m for m in config.modalities if m is not Modality.METRICS)
    if extra:
        from rcakit.detect.features import _wide, feature_table

        base_win = _reference_baseline(incident, extra)
        long = feature_table(incident, freq=freq, windows=[base_win, incident.incident_window], modalities=extra,
                             agg=config.agg)
        base_parts.append(_wide(long, base_win, freq))
        inc_parts.append(_wide(long, incident.incident_window, freq))
        for entity, feature in long.select("entity", "feature").unique().iter_rows():
            modality[f"{entity}:{feature}"] = (Modality.LOGS if feature.startswith("log.") else Modality.TRACES).value
    if not base_parts:
        raise DataError(f"incident {incident.name!r} has no series for modalities "
                        f"{', '.join(m.value for m in config.modalities)}",
                        hint="Check Telemetry.modalities, or choose modalities that hold data")

    def combine(parts: list[pl.DataFrame]) -> pl.DataFrame:
        out = parts[0]
        for part in parts[1:]:
            extra_cols = [c for c in part.columns if c != "time" and c not in out.columns]
            out = out.join(part.select("time", *extra_cols), on="time", how="full", coalesce=True)
        return out.sort("time")

    base_frame, inc_frame = combine(base_parts), combine(inc_parts)
    nodes = sorted(modality)
    for frame_name, frame in (("base", base_frame), ("inc", inc_frame)):
        have = set(frame.columns)
        missing = [n for n in nodes if n not in have]
        if missing:
            frame = frame.with_columns([pl.lit(None, dtype=pl.Float64).alias(n) for n in missing])
        frame = frame.select("time", *[pl.col(n).cast(pl.Float64) for n in nodes])
        if frame_name == "base":
            base_frame = frame
        else:
            inc_frame = frame
    return base_frame, inc_frame, modality


_AGG = {
    "mean": lambda v: v.mean(), "median": lambda v: v.median(), "sum": lambda v: v.sum(),
    "min": lambda v: v.min(), "max": lambda v: v.max(), "last": lambda v: v.drop_nulls().last(),
    "first": lambda v: v.drop_nulls().first(), "count": lambda v: v.count().cast(pl.Float64),
}


def align_window(
    metrics: pl.DataFrame, window: TimeWindow, freq: timedelta, agg: str, nodes: list[str]
) -> pl.DataFrame:
    """Long metric rows in ``window`` on a grid anchored at its start: time + one column per node.

    The same grid as ``Telemetry.align`` without its gap bookkeeping, which detection does not need
    and which dominates the cost with hundreds of nodes.
    """
    if agg not in _AGG:
        raise DataError(f"unknown aggregation {agg!r}", hint=f"Use one of {', '.join(_AGG)}")
    step_us = max(int(freq / timedelta(microseconds=1)), 1)
    start = window.start
    rows = metrics.filter(pl.col("time").is_between(window.start, window.end, closed="left"))
    grid = pl.DataFrame({"time": pl.datetime_range(start, window.end - timedelta(microseconds=1),
                                                   interval=f"{step_us}us", eager=True, time_unit="ns",
                                                   time_zone="UTC")})
    if rows.height:
        bucket = (pl.lit(start) + pl.duration(
            microseconds=(pl.col("time") - pl.lit(start)).dt.total_microseconds() // step_us * step_us
        )).dt.cast_time_unit("ns").alias("time")
        grouped = (rows.select(bucket, pl.concat_str([pl.col("entity"), pl.lit(":"), pl.col("metric")]).alias("node"),
                               "value")
                   .group_by("time", "node").agg(_AGG[agg](pl.col("value")).alias("value")))
        wide = grouped.pivot(on="node", index="time", values="value")
        frame = grid.join(wide, on="time", how="left")
    else:
        frame = grid
    present = set(frame.columns)
    missing = [pl.lit(None, dtype=pl.Float64).alias(n) for n in nodes if n not in present]
    if missing:
        frame = frame.with_columns(missing)
    return frame.select("time", *[pl.col(n).cast(pl.Float64) for n in nodes])


# -- detection --------------------------------------------------------------------------------
def detect_anomalies(
    incident: Incident,
    *,
    method: Method | str | Detector = Method.NSIGMA,
    config: DetectConfig | None = None,
    freq: Any = None,
) -> Anomalies:
    """Judge every series of the incident window against the baseline window.

    ``method`` is a :class:`Method` (n-sigma by default, robust z, CUSUM) or your own
    :class:`~rcakit.detect.Detector`. Series are put on a grid of step ``freq`` (default: the
    median sampling interval). Raises :class:`~rcakit.errors.DataError` when either window holds no
    data at all; a single series without enough data gets a status instead of a score.

    >>> anomalies = detect_anomalies(incident)                          # doctest: +SKIP
    >>> anomalies.entity_ranking().head(3)                              # doctest: +SKIP
    """
    if not isinstance(incident, Incident):
        raise TypeError(f"detect_anomalies needs an Incident, got {type(incident).__name__}")
    cfg = config or DetectConfig()
    step = _resolve_freq(incident, cfg, freq)
    _check_windows(incident, cfg)
    base_frame, inc_frame, modality = _window_frames(incident, cfg, step)
    detector = get_detector(method, cfg)
    table, notes = _judge(base_frame, inc_frame, modality, detector, cfg, step)
    return Anomalies(table=table, method=getattr(detector, "name", type(detector).__name__), freq=step,
                     config=cfg, baseline_window=incident.baseline_window,
                     incident_window=incident.incident_window, incident_name=incident.name, notes=notes)


def _rows_in(incident: Incident, window: TimeWindow, modalities: tuple[Modality, ...]) -> int:
    tel = incident.telemetry
    total = 0
    for modality, table, column in ((Modality.METRICS, tel.metrics, "time"), (Modality.LOGS, tel.logs, "time"),
                                    (Modality.TRACES, tel.spans, "start")):
        if modality in modalities and table.height:
            total += table.filter(pl.col(column).is_between(window.start, window.end, closed="left")).height
    return total


def _check_windows(incident: Incident, cfg: DetectConfig) -> None:
    span = incident.telemetry.time_range()
    where = f"the data cover {span}" if span else "the telemetry is empty"
    mods = ", ".join(m.value for m in cfg.modalities)
    if _rows_in(incident, incident.incident_window, cfg.modalities) == 0:
        raise DataError(f"the incident window {incident.incident_window} of {incident.name!r} holds no {mods} rows "
                        f"({where})", hint="Move it with incident.set_incident_window(start, end)")
    if _rows_in(incident, incident.baseline_window, cfg.modalities) == 0:
        raise DataError(f"the baseline window {incident.baseline_window} of {incident.name!r} holds no {mods} rows "
                        f"({where})", hint="Move it with incident.set_baseline_window(start, end)")


def _judge(
    base_frame: pl.DataFrame,
    inc_frame: pl.DataFrame,
    modality: dict[str, str],
    detector: Detector,
    cfg: DetectConfig,
    step: timedelta,
) -> tuple[pl.DataFrame, list[str]]:
    nodes = [c for c in base_frame.columns if c != "time"]
    base = base_frame.select(nodes).to_numpy().astype(float) if nodes else np.zeros((0, 0))
    inc = inc_frame.select(nodes).to_numpy().astype(float) if nodes else np.zeros((0, 0))
    if base.ndim == 1:
        base = base.reshape(-1, len(nodes))
    if inc.ndim == 1:
        inc = inc.reshape(-1, len(nodes))
    inc_times = inc_frame.get_column("time").to_list()
    base_n = np.sum(~np.isnan(base), axis=0)
    inc_n = np.sum(~np.isnan(inc), axis=0)

    # Baseline statistics shared by every detector (for magnitudes and patterns).
    with np.errstate(all="ignore"):
        mean = np.where(base_n > 0, np.nanmean(np.where(base_n > 0, base, 0.0), axis=0), np.nan)
        std = np.where(base_n >= 2, np.nanstd(np.where(base_n >= 2, base, 0.0), axis=0, ddof=1), np.nan)
    from rcakit.detect.detectors import NSigmaDetector, spread_floor

    zdet = NSigmaDetector(cfg)
    zdet.fit(base)
    base_z = zdet.score(base)
    inc_z = zdet.score(inc)

    detector.fit(base)
    scores = np.asarray(detector.score(inc), dtype=float)
    if scores.shape != inc.shape:
        raise DataError(f"detector {detector!r} returned scores of shape {scores.shape} for input {inc.shape}",
                        hint="Detector.score must return one signed score per input cell")
    mask = np.asarray(detector.anomalous_mask(scores), dtype=bool) & ~np.isnan(inc)
    series_scores = np.asarray(detector.series_score(scores), dtype=float)
    centre: Any = getattr(detector, "centre", None)
    spread: Any = getattr(detector, "spread", None)
    if centre is None or spread is None:
        centre, spread = zdet.centre, zdet.spread
    constant = np.nan_to_num(std, nan=0.0) <= spread_floor(mean, cfg)

    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for j, node in enumerate(nodes):
        entity, _, metric = node.partition(":")
        row: dict[str, Any] = dict.fromkeys(_COLUMNS)
        row.update(node=node, entity=entity, metric=metric, modality=modality.get(node, "metrics"),
                   anomalous=False, pattern=Pattern.NONE.value, anomalous_points=0,
                   baseline_points=int(base_n[j]), incident_points=int(inc_n[j]))
        if base_n[j] == 0:
            row["status"] = Status.NO_BASELINE_DATA.value
        elif base_n[j] < cfg.min_baseline_points:
            row["status"] = Status.SHORT_BASELINE.value
        elif inc_n[j] == 0:
            row["status"] = Status.NO_INCIDENT_DATA.value
        else:
            row["status"] = (Status.CONSTANT_BASELINE if constant[j] else Status.SCORED).value
        row.update(baseline_mean=_f(mean[j]), baseline_std=_f(std[j]))
        if row["status"] in (Status.SCORED.value, Status.CONSTANT_BASELINE.value):
            score = float(series_scores[j])
            if not np.isfinite(score):
                score = cfg.max_score if np.isinf(score) else 0.0
            row["score"] = float(min(score, cfg.max_score))
            row["baseline_centre"] = _f(centre[j])
            row["baseline_spread"] = _f(spread[j])
            flagged = mask[:, j]
            count = int(flagged.sum())
            row["anomalous_points"] = count
            if count >= cfg.min_anomalous_points:
                _fill_anomaly(row, inc[:, j], inc_z[:, j], base_z[:, j], flagged, inc_times, step, mean[j],
                              zdet, j, cfg)
        rows.append(row)
    unscored = sum(1 for r in rows if r["score"] is None)
    if unscored:
        notes.append(f"{unscored} of {len(rows)} series not scored (no or too little data); see not_scored()")
    return pl.DataFrame(rows, schema=_COLUMNS), notes


def _f(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _fill_anomaly(
    row: dict[str, Any],
    values: np.ndarray,
    z: np.ndarray,
    base_z: np.ndarray,
    flagged: np.ndarray,
    times: list[datetime],
    step: timedelta,
    mean: float,
    zdet: Any,
    j: int,
    cfg: DetectConfig,
) -> None:
    idx = np.flatnonzero(flagged)
    first, last = int(idx[0]), int(idx[-1])
    peak_i = int(idx[np.argmax(np.abs(np.nan_to_num(z[idx])))])
    direction = "up" if z[peak_i] >= 0 else "down"
    peak = float(values[peak_i])
    before = values[:first][~np.isnan(values[:first])]
    previous = float(before[-1]) if before.size else float(zdet.centre[j])
    start, end = times[first], times[last] + step
    row.update(
        anomalous=True,
        direction=direction,
        start=start,
        end=end,
        duration_s=(end - start).total_seconds(),
        peak=peak,
        peak_time=times[peak_i],
        previous=previous,
        change_pct=_f((peak - previous) / abs(previous) * 100.0) if previous != 0 else None,
        magnitude=_f(z[peak_i]),
        relative_change=_f(peak / mean - 1.0) if mean and np.isfinite(mean) else None,
        pattern=classify_pattern(base_z, z, cfg.threshold, cfg.pattern).value,
    )
    if row["pattern"] == Pattern.NONE.value:
        # The detector flagged points the z rule does not (CUSUM's slow drift): name the drift.
        row["pattern"] = (Pattern.GRADUAL_INCREASE if direction == "up" else Pattern.GRADUAL_DECREASE).value


# -- scores over time (the explorer's heatmap) -------------------------------------------------
def score_timeline(
    incident: Incident,
    *,
    method: Method | str | Detector = Method.NSIGMA,
    config: DetectConfig | None = None,
    freq: Any = None,
    start: Any = None,
    end: Any = None,
    entities: list[str] | None = None,
) -> pl.DataFrame:
    """Per entity and grid step, the largest absolute point score of its metrics (long: time, entity, score).

    The detector is fitted on the baseline window and scores every step of ``[start, end)`` (default:
    the whole telemetry); steps without data have no row.
    """
    cfg = config or DetectConfig()
    step = _resolve_freq(incident, cfg, freq)
    tel = incident.telemetry if entities is None else incident.telemetry.select(entities=entities)
    if tel.metrics.height == 0:
        return pl.DataFrame(schema={"time": pl.Datetime("ns", "UTC"), "entity": pl.String, "score": pl.Float64})
    span = tel.time_range()
    if span is None:
        return pl.DataFrame(schema={"time": pl.Datetime("ns", "UTC"), "entity": pl.String, "score": pl.Float64})
    lo = start if start is not None else span.start
    hi = end if end is not None else span.end
    nodes = tel.nodes()
    base = align_window(tel.metrics, incident.baseline_window, step, cfg.agg, nodes)
    whole = align_window(tel.metrics, TimeWindow(lo, hi), step, cfg.agg, nodes)
    detector = get_detector(method, cfg)
    detector.fit(base.select(nodes).to_numpy().astype(float))
    scores = np.abs(np.asarray(detector.score(whole.select(nodes).to_numpy().astype(float)), dtype=float))
    frame = pl.DataFrame(scores, schema=nodes, orient="row").with_columns(whole.get_column("time"))
    long = frame.unpivot(index="time", variable_name="node", value_name="score").drop_nulls("score")
    long = long.filter(pl.col("score").is_not_nan())
    return (
        long.with_columns(pl.col("node").str.splitn(":", 2).struct.field("field_0").alias("entity"))
        .group_by("time", "entity").agg(pl.col("score").max())
        .sort("entity", "time")
    )
