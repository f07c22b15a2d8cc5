"""Multimodal features per entity: metrics, log-template counts and trace series on one time grid.

Feature names: a metric keeps its name (``cpu_usage``); log features are ``log.lines``,
``log.errors`` (error level or keyword), ``log.new_templates`` (lines of templates absent from the
first window given, the baseline) and ``log.tpl.<id>`` for each entity's most frequent templates;
trace features are ``trace.latency_mean``, ``trace.latency_p90`` (seconds, entry spans),
``trace.calls`` and, when spans carry an error flag, ``trace.errors``. Counts are 0 in a time bin
where the modality was observed (any entity logged / had spans) and null where it was not, so a gap
in collection is never read as silence.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import polars as pl

from rcakit.detect.config import Modality
from rcakit.errors import DataError
from rcakit.telemetry import Incident, Telemetry, grid
from rcakit.telemetry.window import TimeWindow, parse_duration

if TYPE_CHECKING:
    from rcakit._types import PolarsSchema
    from rcakit.detect.logs import LogTemplateMiner

__all__ = ["entity_features", "feature_frame", "feature_table", "keyed_features"]

_LONG: PolarsSchema = {"time": pl.Datetime("ns", "UTC"), "entity": pl.String, "feature": pl.String, "value": pl.Float64}


def _in(column: str, window: TimeWindow) -> pl.Expr:
    return pl.col(column).is_between(window.start, window.end, closed="left")


def _zero_fill(long: pl.DataFrame, observed: pl.DataFrame, count_features: list[str]) -> pl.DataFrame:
    """Count features: 0 in observed bins where an entity had none (entities that have the feature)."""
    if long.height == 0 or observed.height == 0:
        return long
    counts = long.filter(pl.col("feature").is_in(count_features))
    pairs = counts.select("entity", "feature").unique()
    full = observed.join(pairs, how="cross")
    filled = full.join(counts, on=["time", "entity", "feature"], how="left").with_columns(
        pl.col("value").fill_null(0.0))
    return pl.concat([long.filter(~pl.col("feature").is_in(count_features)), filled.select(list(_LONG))])


def _log_features(
    tel: Telemetry, windows: list[TimeWindow], step: timedelta, top_templates: int, miner: LogTemplateMiner | None
) -> pl.DataFrame:
    from rcakit.detect.logs import _ERROR_LEVELS, ERROR_PATTERN, LogTemplateMiner, prepare_logs

    logs = tel.logs
    keep = pl.any_horizontal([_in("time", w) for w in windows])
    logs = logs.filter(keep)
    if logs.height == 0:
        return pl.DataFrame(schema=_LONG)
    miner = miner or LogTemplateMiner()
    lines = miner.fit(prepare_logs(logs))
    is_error = (pl.col("level").is_in(list(_ERROR_LEVELS)).fill_null(False)
                | pl.col("message").str.contains(ERROR_PATTERN))
    first = windows[0]
    known = lines.filter(_in("time", first)).get_column("template_id").unique()
    lines = lines.select("time", "entity", "template_id",
                         is_error.alias("err"), (~pl.col("template_id").is_in(known.implode())).alias("new"))
    parts, observed = [], []
    for window in windows:
        part = lines.filter(_in("time", window)).with_columns(grid.bucket("time", window.start, step))
        observed.append(part.select("time").unique())
        parts.append(part)
    binned = pl.concat(parts)
    totals = binned.group_by("time", "entity").agg(
        pl.len().cast(pl.Float64).alias("log.lines"), pl.col("err").sum().cast(pl.Float64).alias("log.errors"),
        pl.col("new").sum().cast(pl.Float64).alias("log.new_templates"))
    totals_long = totals.unpivot(index=["time", "entity"], variable_name="feature", value_name="value")
    top = (lines.group_by("entity", "template_id").agg(pl.len().alias("n"))
           .sort(["entity", "n", "template_id"], descending=[False, True, False])
           .group_by("entity", maintain_order=True).head(top_templates).select("entity", "template_id"))
    per_template = (binned.join(top, on=["entity", "template_id"], how="inner")
                    .group_by("time", "entity", "template_id").agg(pl.len().cast(pl.Float64).alias("value"))
                    .select("time", "entity", pl.format("log.tpl.{}", pl.col("template_id")).alias("feature"),
                            "value"))
    long = pl.concat([totals_long.select(list(_LONG)), per_template.select(list(_LONG))])
    features = long.get_column("feature").unique().to_list()
    return _zero_fill(long, pl.concat(observed).unique(), features)


def _trace_features(tel: Telemetry, windows: list[TimeWindow], step: timedelta) -> pl.DataFrame:
    from rcakit.detect.traces import service_series, with_parent_entity

    spans = tel.spans
    if spans.height == 0:
        return pl.DataFrame(schema=_LONG)
    linked = with_parent_entity(spans.filter(pl.any_horizontal([_in("start", w) for w in windows])))
    parts, observed = [], []
    for window in windows:
        part = linked.filter(_in("start", window))
        if part.height == 0:
            continue
        parts.append(service_series(part, step, start=window.start))
        observed.append(part.select(grid.bucket("start", window.start, step)).unique())
    if not parts:
        return pl.DataFrame(schema=_LONG)
    long = pl.concat(parts).with_columns(pl.format("trace.{}", pl.col("feature")).alias("feature"))
    return _zero_fill(long.select(list(_LONG)), pl.concat(observed).unique(), ["trace.calls", "trace.errors"])


def _metric_features(tel: Telemetry, windows: list[TimeWindow], step: timedelta, agg: str) -> pl.DataFrame:
    parts = []
    for window in windows:
        rows = tel.metrics.filter(_in("time", window))
        if rows.height == 0:
            continue
        parts.append(rows.with_columns(grid.bucket("time", window.start, step))
                     .group_by("time", "entity", pl.col("metric").alias("feature"))
                     .agg(getattr(pl.col("value"), agg)().cast(pl.Float64).alias("value")))
    return pl.concat(parts).select(list(_LONG)) if parts else pl.DataFrame(schema=_LONG)


def feature_table(
    source: Incident | Telemetry,
    *,
    freq: str | timedelta = "1m",
    windows: list[TimeWindow] | None = None,
    modalities: tuple[Modality | str, ...] = (Modality.METRICS, Modality.LOGS, Modality.TRACES),
    top_templates: int = 20,
    agg: str = "mean",
    miner: LogTemplateMiner | None = None,
) -> pl.DataFrame:
    """All features as one long table ``time, entity, feature, value`` (``time`` = bin start).

    ``windows`` (default: the whole telemetry) are binned separately, each grid anchored at its
    start; the first window is the reference for ``log.new_templates``. Template mining runs once
    over all windows, so template ids agree between them.
    """
    tel = source.telemetry if isinstance(source, Incident) else source
    if not isinstance(tel, Telemetry):
        raise TypeError(f"feature_table needs an Incident or a Telemetry, got {type(source).__name__}")
    if agg not in ("mean", "median", "max", "min", "sum", "last", "first"):
        raise DataError(f"unknown aggregation {agg!r}", hint="Use mean, median, max, min, sum, first or last")
    step = parse_duration(freq)
    if windows is None:
        span = tel.time_range()
        if span is None:
            raise DataError("the telemetry is empty: no features to compute", hint="Load metrics, logs or spans")
        windows = [span]
    windows = [TimeWindow.of(w) for w in windows]
    mods = {Modality(m) for m in modalities}
    parts = []
    if Modality.METRICS in mods and tel.metrics.height:
        parts.append(_metric_features(tel, windows, step, agg))
    if Modality.LOGS in mods and tel.logs.height:
        parts.append(_log_features(tel, windows, step, top_templates, miner))
    if Modality.TRACES in mods and tel.spans.height:
        parts.append(_trace_features(tel, windows, step))
    if not parts:
        return pl.DataFrame(schema=_LONG)
    return pl.concat(parts)


def keyed_features(long: pl.DataFrame) -> pl.DataFrame:
    """A feature table keyed for :func:`rcakit.telemetry.grid.to_wide`: ``time``, ``node`` (entity:feature), ``value``."""
    return long.select("time", grid.node_key("entity", "feature"), "value")


def feature_frame(
    incident: Incident,
    *,
    freq: str | timedelta = "1m",
    window: TimeWindow | None = None,
    modalities: tuple[Modality | str, ...] = (Modality.LOGS, Modality.TRACES),
    top_templates: int = 20,
) -> tuple[pl.DataFrame, dict[str, str]]:
    """One window's features as a wide frame (``time`` + ``entity:feature`` columns) and each column's modality.

    Mining and ``log.new_templates`` use the incident's baseline window as the reference, so the
    baseline and the incident frames agree on template ids.
    """
    step = parse_duration(freq)
    target = TimeWindow.of(window) if window is not None else incident.incident_window
    windows = [incident.baseline_window]
    if target != incident.baseline_window:
        windows.append(target)
    long = feature_table(incident, freq=step, windows=windows, modalities=modalities, top_templates=top_templates)
    frame = grid.to_wide(keyed_features(long), target, step)
    kinds = {}
    for entity, feature in long.select("entity", "feature").unique().iter_rows():
        kind = Modality.LOGS if feature.startswith("log.") else Modality.TRACES if feature.startswith("trace.") \
            else Modality.METRICS
        kinds[f"{entity}:{feature}"] = kind.value
    return frame, kinds


def entity_features(
    source: Incident | Telemetry,
    *,
    freq: str | timedelta = "1m",
    window: TimeWindow | None = None,
    modalities: tuple[Modality | str, ...] = (Modality.METRICS, Modality.LOGS, Modality.TRACES),
    top_templates: int = 20,
) -> dict[str, pl.DataFrame]:
    """One aligned table per entity: ``time`` then its metrics, log and trace features (see the module doc).

    ``window`` defaults to the whole telemetry; every table has the same time grid.

    >>> tables = entity_features(incident, freq="1m")      # doctest: +SKIP
    >>> tables["ts-basic-service"].columns[:4]             # doctest: +SKIP
    ['time', 'cpu_usage', 'cpu_usage_rate', 'log.errors']
    """
    tel = source.telemetry if isinstance(source, Incident) else source
    step = parse_duration(freq)
    if window is None:
        span = tel.time_range()
        if span is None:
            raise DataError("the telemetry is empty: no features to compute", hint="Load metrics, logs or spans")
        window = TimeWindow(grid.floor_to_step(span.start, step), span.end)
    window = TimeWindow.of(window)
    long = feature_table(tel, freq=step, windows=[window], modalities=modalities, top_templates=top_templates)
    wide = grid.to_wide(keyed_features(long), window, step)
    out: dict[str, pl.DataFrame] = {}
    by_entity: dict[str, list[str]] = {}
    for node in wide.columns[1:]:
        entity, _, feature = node.partition(":")
        by_entity.setdefault(entity, []).append(feature)
    for entity in sorted(by_entity):
        features = sorted(by_entity[entity], key=lambda f: (f.startswith("trace."), f.startswith("log."), f))
        out[entity] = wide.select("time", *[pl.col(f"{entity}:{f}").alias(f) for f in features])
    return out
