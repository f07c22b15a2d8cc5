"""What detection compares: the grid step of an incident, its reference window, and the two wide frames.

* :func:`infer_freq`: the median sampling interval of the metrics (the default grid step).
* :func:`window_frames`: baseline and incident frames on the grid (:mod:`rcakit.telemetry.grid`), one
  column per metric node and per log/trace feature, and each column's modality.
"""

from __future__ import annotations

import weakref
from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from rcakit.detect.config import DetectConfig, Modality
from rcakit.detect.reference import reference_window, rows_in
from rcakit.errors import DataError
from rcakit.telemetry import Incident, Telemetry, grid
from rcakit.telemetry.window import parse_duration

if TYPE_CHECKING:
    from rcakit._types import DurationLike

__all__ = ["check_windows", "infer_freq", "resolve_freq", "window_frames"]

_FREQ_CACHE: weakref.WeakKeyDictionary[Telemetry, timedelta] = weakref.WeakKeyDictionary()


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


def resolve_freq(incident: Incident, config: DetectConfig, freq: DurationLike | None = None) -> timedelta:
    """The grid step: ``freq`` when given, else the config's, else :func:`infer_freq`."""
    if freq is not None:
        return parse_duration(freq)
    if config.freq is not None:
        return parse_duration(config.freq)
    return infer_freq(incident)


def check_windows(incident: Incident, cfg: DetectConfig) -> None:
    """DataError when the incident or the baseline window holds no row of the configured modalities."""
    span = incident.telemetry.time_range()
    where = f"the data cover {span}" if span else "the telemetry is empty"
    mods = ", ".join(m.value for m in cfg.modalities)
    if rows_in(incident, incident.incident_window, cfg.modalities) == 0:
        raise DataError(f"the incident window {incident.incident_window} of {incident.name!r} holds no {mods} rows "
                        f"({where})", hint="Move it with incident.set_incident_window(start, end)")
    if rows_in(incident, incident.baseline_window, cfg.modalities) == 0:
        raise DataError(f"the baseline window {incident.baseline_window} of {incident.name!r} holds no {mods} rows "
                        f"({where})", hint="Move it with incident.set_baseline_window(start, end)")


def window_frames(
    incident: Incident, config: DetectConfig, freq: timedelta
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    """Baseline and incident wide frames (time + one column per series) and each series' modality."""
    base_parts: list[pl.DataFrame] = []
    inc_parts: list[pl.DataFrame] = []
    modality: dict[str, str] = {}
    tel = incident.telemetry
    if Modality.METRICS in config.modalities and tel.metrics.height:
        nodes = tel.nodes()
        keyed = tel.metrics.select("time", grid.node_key(), "value")
        base_parts.append(grid.to_wide(keyed, incident.baseline_window, freq, agg=config.agg, columns=nodes))
        inc_parts.append(grid.to_wide(keyed, incident.incident_window, freq, agg=config.agg, columns=nodes))
        modality.update(dict.fromkeys(nodes, Modality.METRICS.value))
    extra = tuple(m for m in config.modalities if m is not Modality.METRICS)
    if extra:
        from rcakit.detect.features import feature_table, keyed_features

        base_win = reference_window(incident, extra)
        long = keyed_features(feature_table(incident, freq=freq, windows=[base_win, incident.incident_window],
                                            modalities=extra, agg=config.agg))
        base_parts.append(grid.to_wide(long, base_win, freq))
        inc_parts.append(grid.to_wide(long, incident.incident_window, freq))
        for node in long.get_column("node").unique().to_list():
            feature = node.partition(":")[2]
            modality[node] = (Modality.LOGS if feature.startswith("log.") else Modality.TRACES).value
    if not base_parts:
        raise DataError(f"incident {incident.name!r} has no series for modalities "
                        f"{', '.join(m.value for m in config.modalities)}",
                        hint="Check Telemetry.modalities, or choose modalities that hold data")
    nodes = sorted(modality)
    return _combine(base_parts, nodes), _combine(inc_parts, nodes), modality


def _combine(parts: list[pl.DataFrame], nodes: list[str]) -> pl.DataFrame:
    """One frame from frames on the same grid (their columns side by side), in ``nodes`` order."""
    out = parts[0]
    for part in parts[1:]:
        extra_cols = [c for c in part.columns if c != "time" and c not in out.columns]
        out = out.join(part.select("time", *extra_cols), on="time", how="full", coalesce=True)
    out = out.sort("time")
    missing = [pl.lit(None, dtype=pl.Float64).alias(n) for n in nodes if n not in out.columns]
    if missing:
        out = out.with_columns(missing)
    return out.select("time", *[pl.col(n).cast(pl.Float64) for n in nodes])
