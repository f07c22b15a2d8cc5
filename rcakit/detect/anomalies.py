"""Metric anomalies of an incident judged against its baseline window: ``detect_anomalies`` and ``Anomalies``."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, SupportsFloat, cast

import numpy as np
import polars as pl

from rcakit.detect.config import DetectConfig, Method, Pattern, Status
from rcakit.detect.detectors import Detector, get_detector
from rcakit.detect.patterns import classify_pattern
from rcakit.detect.windows import check_windows, resolve_freq, window_frames
from rcakit.errors import DataError
from rcakit.telemetry import Incident, grid
from rcakit.telemetry.window import TimeWindow

if TYPE_CHECKING:
    from rcakit._types import DurationLike, JSONObject, PolarsSchema, TimeLike

__all__ = ["Anomalies", "Anomaly", "detect_anomalies", "score_timeline"]

_COLUMNS: PolarsSchema = {
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

    def to_dict(self) -> JSONObject:
        def plain(value: object) -> object:
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


def _fmt_time(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else "-"


def _fmt_num(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else "-"


# -- detection --------------------------------------------------------------------------------
def detect_anomalies(
    incident: Incident,
    *,
    method: Method | str | Detector = Method.NSIGMA,
    config: DetectConfig | None = None,
    freq: DurationLike | None = None,
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
    step = resolve_freq(incident, cfg, freq)
    check_windows(incident, cfg)
    base_frame, inc_frame, modality = window_frames(incident, cfg, step)
    detector = get_detector(method, cfg)
    table, notes = _judge(base_frame, inc_frame, modality, detector, cfg, step)
    return Anomalies(table=table, method=getattr(detector, "name", type(detector).__name__), freq=step,
                     config=cfg, baseline_window=incident.baseline_window,
                     incident_window=incident.incident_window, incident_name=incident.name, notes=notes)


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
    z_centre, z_spread = cast(np.ndarray, zdet.centre), cast(np.ndarray, zdet.spread)  # set by fit

    detector.fit(base)
    scores = np.asarray(detector.score(inc), dtype=float)
    if scores.shape != inc.shape:
        raise DataError(f"detector {detector!r} returned scores of shape {scores.shape} for input {inc.shape}",
                        hint="Detector.score must return one signed score per input cell")
    mask = np.asarray(detector.anomalous_mask(scores), dtype=bool) & ~np.isnan(inc)
    series_scores = np.asarray(detector.series_score(scores), dtype=float)
    centre: np.ndarray | None = getattr(detector, "centre", None)
    spread: np.ndarray | None = getattr(detector, "spread", None)
    if centre is None or spread is None:
        centre, spread = z_centre, z_spread
    constant = np.nan_to_num(std, nan=0.0) <= spread_floor(mean, cfg)

    rows: list[dict[str, object]] = []
    notes: list[str] = []
    for j, node in enumerate(nodes):
        entity, _, metric = node.partition(":")
        row: dict[str, object] = dict.fromkeys(_COLUMNS)
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
                              z_centre, j, cfg)
        rows.append(row)
    unscored = sum(1 for r in rows if r["score"] is None)
    if unscored:
        notes.append(f"{unscored} of {len(rows)} series not scored (no or too little data); see not_scored()")
    return pl.DataFrame(rows, schema=_COLUMNS), notes


def _f(value: SupportsFloat | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def _fill_anomaly(
    row: dict[str, object],
    values: np.ndarray,
    z: np.ndarray,
    base_z: np.ndarray,
    flagged: np.ndarray,
    times: list[datetime],
    step: timedelta,
    mean: float,
    z_centre: np.ndarray,
    j: int,
    cfg: DetectConfig,
) -> None:
    idx = np.flatnonzero(flagged)
    first, last = int(idx[0]), int(idx[-1])
    peak_i = int(idx[np.argmax(np.abs(np.nan_to_num(z[idx])))])
    direction = "up" if z[peak_i] >= 0 else "down"
    peak = float(values[peak_i])
    before = values[:first][~np.isnan(values[:first])]
    previous = float(before[-1]) if before.size else float(z_centre[j])
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
    freq: DurationLike | None = None,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    entities: list[str] | None = None,
) -> pl.DataFrame:
    """Per entity and grid step, the largest absolute point score of its metrics (long: time, entity, score).

    The detector is fitted on the baseline window and scores every step of ``[start, end)`` (default:
    the whole telemetry); steps without data have no row.
    """
    cfg = config or DetectConfig()
    step = resolve_freq(incident, cfg, freq)
    tel = incident.telemetry if entities is None else incident.telemetry.select(entities=entities)
    if tel.metrics.height == 0:
        return pl.DataFrame(schema={"time": pl.Datetime("ns", "UTC"), "entity": pl.String, "score": pl.Float64})
    span = tel.time_range()
    if span is None:
        return pl.DataFrame(schema={"time": pl.Datetime("ns", "UTC"), "entity": pl.String, "score": pl.Float64})
    lo = start if start is not None else span.start
    hi = end if end is not None else span.end
    nodes = tel.nodes()
    keyed = tel.metrics.select("time", grid.node_key(), "value")
    base = grid.to_wide(keyed, incident.baseline_window, step, agg=cfg.agg, columns=nodes)
    whole = grid.to_wide(keyed, TimeWindow.of((lo, hi)), step, agg=cfg.agg, columns=nodes)
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
